# relay/: ringrelay(8), a ring relayed through NATS JetStream (issue 15).
# Needs libnats (Debian libnats-dev); without it ringrelay is not built and
# its tests skip, so the rest of shmring builds on hosts without NATS.
RINGRELAY_OBJS := $(addprefix $(B)/relay/,ringrelay.o stream.o headers.o \
    push.o pull.o)

ifneq ($(NATS_LIBS),)
$(RINGRELAY_OBJS): EXTRA_CFLAGS = $(BSD_CFLAGS) -Icommon

$(RINGRELAY): $(RINGRELAY_OBJS) $(LIBCOMMON) $(LIBSHM_A)
	$(call link,$(BSD_LIBS) $(NATS_LIBS) -lpthread)

PROGRAMS += $(RINGRELAY)

install-ringrelay: $(RINGRELAY)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 755 $(RINGRELAY) $(DESTDIR)$(SBINDIR)/ringrelay
	install -m 644 relay/ringrelay.8 $(DESTDIR)$(MANDIR)/man8/ringrelay.8

uninstall-ringrelay:
	rm -f $(DESTDIR)$(SBINDIR)/ringrelay \
	    $(DESTDIR)$(MANDIR)/man8/ringrelay.8

INSTALL_HOOKS += install-ringrelay
UNINSTALL_HOOKS += uninstall-ringrelay
.PHONY: install-ringrelay uninstall-ringrelay
endif
MAN_PAGES += relay/ringrelay.8
