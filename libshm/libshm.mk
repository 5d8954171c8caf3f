# libshm: static and shared library, header, pkg-config file, man page.
LIBSHM_SRCS := libshm/writer.c libshm/takeover.c libshm/object.c \
	libshm/publish.c libshm/reader.c libshm/ring.c libshm/wait.c \
	libshm/util.c libshm/chaos.c libshm/mirror.c \
	libshm/predecessor.c
LIBSHM_OBJS := $(LIBSHM_SRCS:%.c=$(B)/static/%.o)
LIBSHM_PIC := $(LIBSHM_SRCS:%.c=$(B)/pic/%.o)
LIBSHM_CFLAGS := -fvisibility=hidden -Ilibshm

$(B)/static/libshm/%.o: libshm/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) $(LIBSHM_CFLAGS) -c -o $@ $<

$(B)/pic/libshm/%.o: libshm/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $< (pic)")
	$(Q)$(CC) $(CFLAGS) $(LIBSHM_CFLAGS) -fPIC -c -o $@ $<

# One relocatable object whose hidden (internal) symbols are made local:
# the archive defines only shmr_ names, so a static link of libshm cannot
# clash with a program's own cpu_relax or shm_path.
$(LIBSHM_A): $(LIBSHM_OBJS) libshm/libshm.mk
	@mkdir -p $(@D)
	@$(if $(Q),echo "  AR      $@")
	$(Q)$(LD) -r -o $(B)/static/libshm.o $(LIBSHM_OBJS) && \
	    objcopy --localize-hidden $(B)/static/libshm.o && \
	    rm -f $@ && ar rcs $@ $(B)/static/libshm.o

$(LIBSHM_WB): $(LIBSHM_OBJS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

# Every symbol libshm.a and libshm.so define is shmr_-prefixed.
run-libshm-symbols: $(LIBSHM_A) $(LIBSHM_SO)
	@echo "  TEST    libshm symbols"
	$(Q)bad=$$(nm -g --defined-only $(LIBSHM_A) | \
	    awk 'NF == 3 && $$3 !~ /^shmr_/ { print $$3 }'; \
	    nm -D --defined-only $(LIBSHM_SO) | \
	    awk 'NF == 3 && $$3 !~ /^shmr_/ && $$2 != "A" { print $$3 }'); \
	    [ -z "$$bad" ] || { echo "libshm exports $$bad" >&2; exit 1; }
	$(Q)for f in $(LIBSHM_FUNCS); do \
	    grep -q "^\.Nm $$f\( ,\)\?$$" libshm/libshm.3 || \
	    { echo "libshm.3 NAME lacks $$f" >&2; exit 1; }; done

TEST_RUNS += run-libshm-symbols
.PHONY: run-libshm-symbols

# The newest node of the version script must match the Makefile version.
$(LIBSHM_SO): $(LIBSHM_PIC) libshm/libshm.map
	@mkdir -p $(@D)
	@grep -q 'SHMR_$(VERSION)' libshm/libshm.map || \
	    { echo "libshm.map has no SHMR_$(VERSION) node" >&2; exit 1; }
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -shared -Wl,-soname,libshm.so.$(VERSION_MAJOR) \
	    -Wl,--version-script=libshm/libshm.map -Wl,-z,defs \
	    $(LDFLAGS) -o $@ $(LIBSHM_PIC)
	$(Q)ln -sf libshm.so.$(VERSION) $(B)/lib/libshm.so.$(VERSION_MAJOR)
	$(Q)ln -sf libshm.so.$(VERSION_MAJOR) $(B)/lib/libshm.so

# Every public function, from the header: `man shmr_reader_next` finds
# libshm(3) through a one-line page per function, and run-libshm-symbols
# checks that libshm(3) names each of them.
LIBSHM_FUNCS := $(shell sed -n \
	's/^SHMR_API .*[ *]\(shmr_[a-z0-9_]*\)\o050.*/\1/p' include/shmring.h)

# Generated at install time: it records PREFIX, which may differ per call.
LIBSHM_PC_SED := sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|'
MAN_PAGES += libshm/libshm.3

install-libshm: $(LIBSHM_A) $(LIBSHM_SO) libshm/libshm.pc.in
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) \
	    $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man3
	install -m 644 $(LIBSHM_A) $(DESTDIR)$(LIBDIR)/libshm.a
	install -m 755 $(LIBSHM_SO) $(DESTDIR)$(LIBDIR)/libshm.so.$(VERSION)
	ln -sf libshm.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libshm.so.$(VERSION_MAJOR)
	ln -sf libshm.so.$(VERSION_MAJOR) $(DESTDIR)$(LIBDIR)/libshm.so
	install -m 644 include/shmring.h $(DESTDIR)$(INCLUDEDIR)/shmring.h
	$(LIBSHM_PC_SED) libshm/libshm.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/libshm.pc
	install -m 644 libshm/libshm.3 $(DESTDIR)$(MANDIR)/man3/libshm.3
	for f in $(LIBSHM_FUNCS); do \
	    echo '.so man3/libshm.3' > $(DESTDIR)$(MANDIR)/man3/$$f.3; done

uninstall-libshm:
	rm -f $(DESTDIR)$(LIBDIR)/libshm.a \
	    $(DESTDIR)$(LIBDIR)/libshm.so.$(VERSION) \
	    $(DESTDIR)$(LIBDIR)/libshm.so.$(VERSION_MAJOR) \
	    $(DESTDIR)$(LIBDIR)/libshm.so $(DESTDIR)$(INCLUDEDIR)/shmring.h \
	    $(DESTDIR)$(PKGCONFIGDIR)/libshm.pc $(DESTDIR)$(MANDIR)/man3/libshm.3
	for f in $(LIBSHM_FUNCS); do rm -f $(DESTDIR)$(MANDIR)/man3/$$f.3; done

INSTALL_HOOKS += install-libshm
UNINSTALL_HOOKS += uninstall-libshm
.PHONY: install-libshm uninstall-libshm
