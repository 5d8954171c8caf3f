# daemon/: ringd, the producer daemon (stdin, files, sockets, demo feeds).
# An input is one file daemon/ingest_<name>.c plus a row in inputs.c.
RINGD_SRCS := daemon/ringd.c daemon/services.c daemon/inputs.c \
	daemon/framing.c $(sort $(wildcard daemon/ingest_*.c))
RINGD_OBJS := $(RINGD_SRCS:%.c=$(B)/%.o)

$(RINGD_OBJS): EXTRA_CFLAGS = -Icommon $(BSD_CFLAGS)

$(RINGD): $(RINGD_OBJS) $(LIBCOMMON) $(LIBSHM_A)
	$(call link,$(BSD_LIBS) -lm)

PROGRAMS += $(RINGD)
MAN_PAGES += daemon/ringd.8

install-ringd: $(RINGD)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 755 $(RINGD) $(DESTDIR)$(SBINDIR)/ringd
	install -m 644 daemon/ringd.8 $(DESTDIR)$(MANDIR)/man8/ringd.8

uninstall-ringd:
	rm -f $(DESTDIR)$(SBINDIR)/ringd $(DESTDIR)$(MANDIR)/man8/ringd.8

INSTALL_HOOKS += install-ringd
UNINSTALL_HOOKS += uninstall-ringd
.PHONY: install-ringd uninstall-ringd
