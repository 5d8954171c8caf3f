# daemon/: ringd, the producer daemon (stdin, files, sockets, demo feeds).
# An input is one file daemon/ingest_<name>.c plus a row in inputs.c.
RINGD_SRCS := daemon/ringd.c daemon/services.c daemon/inputs.c \
	daemon/framing.c $(sort $(wildcard daemon/ingest_*.c))
RINGD_OBJS := $(RINGD_SRCS:%.c=$(B)/%.o)

$(RINGD_OBJS): EXTRA_CFLAGS = -Icommon $(BSD_CFLAGS)

$(RINGD): $(RINGD_OBJS) $(LIBCOMMON) $(LIBSHM_A)
	$(call link,$(BSD_LIBS) -lm)

$(eval $(call program,ringd,$(RINGD),$(SBINDIR),daemon/ringd.8))
