# tools/: ringctl(1), the operator's tool, and its bash completion.
# A command is one file tools/cmd_<group>.c plus a row in ringctl.c.
RINGCTL_SRCS := tools/ringctl.c tools/util.c \
	$(sort $(wildcard tools/cmd_*.c))
RINGCTL_OBJS := $(RINGCTL_SRCS:%.c=$(B)/%.o)

$(RINGCTL_OBJS): EXTRA_CFLAGS = $(BSD_CFLAGS) -Icommon

$(RINGCTL): $(RINGCTL_OBJS) $(LIBCOMMON) $(LIBSHM_A)
	$(call link,$(BSD_LIBS))

$(eval $(call program,ringctl,$(RINGCTL),$(BINDIR),tools/ringctl.1))

# ... and its bash completion.
BASH_COMPLETION_DIR ?= $(DATADIR)/bash-completion/completions

install-ringctl-completion: tools/ringctl.bash-completion
	install -d $(DESTDIR)$(BASH_COMPLETION_DIR)
	install -m 644 $< $(DESTDIR)$(BASH_COMPLETION_DIR)/ringctl

uninstall-ringctl-completion:
	rm -f $(DESTDIR)$(BASH_COMPLETION_DIR)/ringctl

INSTALL_HOOKS += install-ringctl-completion
UNINSTALL_HOOKS += uninstall-ringctl-completion
.PHONY: install-ringctl-completion uninstall-ringctl-completion
