# bridge/: ringbridge, the HTTP streaming bridge (libmicrohttpd).
RINGBRIDGE_SRCS := bridge/ringbridge.c bridge/stream.c bridge/http_parse.c
RINGBRIDGE_OBJS := $(RINGBRIDGE_SRCS:%.c=$(B)/%.o)
RINGBRIDGE := $(B)/bin/ringbridge

$(RINGBRIDGE_OBJS): EXTRA_CFLAGS = -Icommon -Ibridge $(BSD_CFLAGS) \
	$(MHD_CFLAGS)

# common/common.mk is read after this file: name libcommon.a directly.
$(RINGBRIDGE): $(RINGBRIDGE_OBJS) $(LIBSHM_A) $(B)/lib/libcommon.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(RINGBRIDGE_OBJS) $(LIBSHM_A) \
	    $(LIBCOMMON) $(MHD_LIBS) $(BSD_LIBS) -lpthread

PROGRAMS += $(RINGBRIDGE)
MAN_PAGES += bridge/ringbridge.8

install-ringbridge: $(RINGBRIDGE)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 755 $(RINGBRIDGE) $(DESTDIR)$(SBINDIR)/ringbridge
	install -m 644 bridge/ringbridge.8 $(DESTDIR)$(MANDIR)/man8/ringbridge.8

uninstall-ringbridge:
	rm -f $(DESTDIR)$(SBINDIR)/ringbridge \
	    $(DESTDIR)$(MANDIR)/man8/ringbridge.8

INSTALL_HOOKS += install-ringbridge
UNINSTALL_HOOKS += uninstall-ringbridge
.PHONY: install-ringbridge uninstall-ringbridge
