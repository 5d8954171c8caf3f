# bench/bench_fanout: SSE fan-out through ringbridge (`make bench`), and
# through nginx + Nchan on the same work when /usr/sbin/nginx and the
# Nchan module are installed (Debian: nginx-light libnginx-mod-nchan). A
# report, not a test: one line per run with events/s, completeness,
# latency percentiles and the server's CPU and RSS.
BENCH_FANOUT := $(B)/bin/bench_fanout
BENCH_FANOUT_SECONDS ?= 5
NGINX ?= /usr/sbin/nginx
HAVE_NCHAN := $(wildcard /usr/lib/nginx/modules/ngx_nchan_module.so)

$(B)/bench/bench_fanout.o $(B)/bench/fanout_clients.o \
    $(B)/bench/fanout_nchan.o: EXTRA_CFLAGS = $(BSD_CFLAGS) -Icommon -Itests

$(BENCH_FANOUT): $(B)/bench/bench_fanout.o $(B)/bench/fanout_clients.o \
    $(B)/bench/fanout_nchan.o $(B)/tests/bridge_client.o $(LIBCOMMON) \
    $(LIBSHM_A)
	$(call link,$(BSD_LIBS) -lpthread)

PROGRAMS += $(BENCH_FANOUT)

BF = $(BENCH_FANOUT) --bridge $(RINGBRIDGE) -t $(BENCH_FANOUT_SECONDS)
# Clients reading 1 KB/s are lapped, told (an "overrun" event with the
# exact count) and dropped; the kernel holds ~136 KB per connection first
# (SO_SNDBUF 64K doubled, and the client's receive buffer), so a 64 KiB
# ring and 8 s let that happen within the run. Each slow row has a twin
# without slow clients for the fast clients' p50.
SLOW = -t 8 --ring-size 64K
# "|| true": a run that does not deliver everything is a result to report,
# not a reason to stop the others.
run-bench-fanout: $(BENCH_FANOUT) $(RINGBRIDGE) $(RINGD)
	-$(BF) -c 100 -r 1000
	-$(BF) -c 100 -r 20000
	-$(BF) -c 100 -r 60000
	-$(BF) -c 1000 -r 300
	-$(BF) -c 1000 -r 300 --bridge-args "--coalesce 0"
	-$(BF) -c 1000 -r 300 --bridge-args "--coalesce 10"
	-$(BF) -c 1000 -r 300 $(SLOW) --slow 10
	-$(BF) -c 1000 -r 300 $(SLOW)
	-$(BF) -c 1000 -r 300 $(SLOW) --slow 10 --bridge-args "--coalesce 10"
	-$(BF) -c 1000 -r 300 $(SLOW) --bridge-args "--coalesce 10"
	-$(BF) -c 1000 -r 300 --bridges 2 --bridge-args "--coalesce 10"
	-$(BF) -c 10000 -r 20
	-$(BF) --ringd $(RINGD) -c 1000 -r 300
	-$(BF) -c 1000 --flood 2
ifneq ($(HAVE_NCHAN),)
	-$(BF) --nchan $(NGINX) -c 100 -r 1000
	-$(BF) --nchan $(NGINX) -c 1000 -r 300
endif

BENCH_RUNS += run-bench-fanout
.PHONY: run-bench-fanout
