# tools/: ringctl(1), the operator's tool, and its bash completion.
# A command is one file tools/cmd_<group>.c plus a row in ringctl.c.
RINGCTL_SRCS := tools/ringctl.c tools/util.c \
	$(sort $(wildcard tools/cmd_*.c))
RINGCTL_OBJS := $(RINGCTL_SRCS:%.c=$(B)/%.o)

$(RINGCTL_OBJS): EXTRA_CFLAGS = $(BSD_CFLAGS) -Icommon

$(RINGCTL): $(RINGCTL_OBJS) $(LIBCOMMON) $(LIBSHM_A)
	$(call link,$(BSD_LIBS))

PROGRAMS += $(RINGCTL)
MAN_PAGES += tools/ringctl.1

BASH_COMPLETION_DIR ?= $(DATADIR)/bash-completion/completions

install-ringctl: $(RINGCTL)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(BASH_COMPLETION_DIR)
	install -m 755 $(RINGCTL) $(DESTDIR)$(BINDIR)/ringctl
	install -m 644 tools/ringctl.1 $(DESTDIR)$(MANDIR)/man1/ringctl.1
	install -m 644 tools/ringctl.bash-completion \
	    $(DESTDIR)$(BASH_COMPLETION_DIR)/ringctl

uninstall-ringctl:
	rm -f $(DESTDIR)$(BINDIR)/ringctl $(DESTDIR)$(MANDIR)/man1/ringctl.1 \
	    $(DESTDIR)$(BASH_COMPLETION_DIR)/ringctl

INSTALL_HOOKS += install-ringctl
UNINSTALL_HOOKS += uninstall-ringctl
.PHONY: install-ringctl uninstall-ringctl
