# common/: small helpers shared by the programs (not part of libshm).
COMMON_SRCS := common/cli.c common/log.c common/enc.c
COMMON_OBJS := $(COMMON_SRCS:%.c=$(B)/%.o)

$(B)/common/%.o: EXTRA_CFLAGS = $(BSD_CFLAGS)

$(LIBCOMMON): $(COMMON_OBJS)
	@mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^
