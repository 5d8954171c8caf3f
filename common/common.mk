# common/: the program layer ringd, ringctl, ringbridge and ringrelay share
# (not part of libshm): one file per job, one header each.
COMMON_SRCS := $(sort $(wildcard common/*.c))
COMMON_OBJS := $(COMMON_SRCS:%.c=$(B)/%.o)

$(B)/common/%.o: EXTRA_CFLAGS = $(BSD_CFLAGS)

$(LIBCOMMON): $(COMMON_OBJS)
	@mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^
