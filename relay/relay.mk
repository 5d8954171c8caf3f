# relay/: ringrelay(8), a ring relayed through NATS JetStream (issue 15).
# Needs libnats (Debian libnats-dev); without it ringrelay is not built and
# its tests skip, so the rest of shmring builds on hosts without NATS.
RINGRELAY_OBJS := $(addprefix $(B)/relay/,ringrelay.o state.o stream.o headers.o \
    push.o pull.o)

ifneq ($(NATS_LIBS),)
$(RINGRELAY_OBJS): EXTRA_CFLAGS = $(BSD_CFLAGS) -Icommon

$(RINGRELAY): $(RINGRELAY_OBJS) $(LIBCOMMON) $(LIBSHM_A)
	$(call link,$(BSD_LIBS) $(NATS_LIBS) -lpthread)

$(eval $(call program,ringrelay,$(RINGRELAY),$(SBINDIR),relay/ringrelay.8))
else
# Without libnats its page is still linted.
MAN_PAGES += relay/ringrelay.8
endif
