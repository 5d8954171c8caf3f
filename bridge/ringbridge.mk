# bridge/: ringbridge, the HTTP streaming bridge (libmicrohttpd).
# The output formats: their table and one file each, picked up by name
# (bridge/format.h), so that a new format needs no line here.
BRIDGE_FORMAT_SRCS := bridge/format.c $(sort $(wildcard bridge/format_*.c))
RINGBRIDGE_SRCS := bridge/ringbridge.c bridge/stream.c bridge/http_parse.c \
	bridge/dashboard.c bridge/guard.c bridge/state.c bridge/loop.c \
	bridge/rings.c bridge/views.c bridge/respond.c bridge/stream_open.c \
	bridge/dispatch.c \
	$(BRIDGE_FORMAT_SRCS)
RINGBRIDGE_OBJS := $(RINGBRIDGE_SRCS:%.c=$(B)/%.o) \
	$(B)/bridge/dashboard_assets.o

$(RINGBRIDGE_OBJS): EXTRA_CFLAGS = -Icommon -Ibridge $(BSD_CFLAGS) \
	$(MHD_CFLAGS)

# The dashboard (bridge/dashboard/) is compiled into the binary: embed, a
# build-host tool, turns each file into a C array with its URL path,
# content type and ETag. Its scripts are picked up by name, so that a new
# one needs only its <script> tag in index.html.
DASH_JS := $(sort $(wildcard bridge/dashboard/*.js))
DASH_SRCS := bridge/dashboard/index.html bridge/dashboard/style.css $(DASH_JS)
DASH_FILES := /dashboard/index.html 'text/html; charset=utf-8' \
	bridge/dashboard/index.html \
	/dashboard/style.css 'text/css; charset=utf-8' \
	bridge/dashboard/style.css \
	$(foreach f,$(DASH_JS),/dashboard/$(notdir $(f)) \
	    'text/javascript; charset=utf-8' $(f))
DASH_EMBED := $(B)/bridge/dashboard/embed

$(DASH_EMBED): bridge/dashboard/embed.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) -std=c11 -O1 $(WARN) -o $@ $<

# The directory too: a script removed changes it, and must leave the binary.
$(B)/bridge/dashboard_assets.c: $(DASH_EMBED) $(DASH_SRCS) bridge/dashboard
	@$(if $(Q),echo "  GEN     $@")
	$(Q)$(DASH_EMBED) $(DASH_FILES) > $@

$(B)/bridge/dashboard_assets.o: $(B)/bridge/dashboard_assets.c
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -Ibridge -Icommon -c -o $@ $<

$(RINGBRIDGE): $(RINGBRIDGE_OBJS) $(LIBCOMMON) $(LIBSHM_A)
	$(call link,$(MHD_LIBS) $(BSD_LIBS) -lpthread)

$(eval $(call program,ringbridge,$(RINGBRIDGE),$(SBINDIR),bridge/ringbridge.8))
