# bench/ingest.mk: ringd(8) ingest rate, lines on stdin and datagrams on a
# Unix socket, next to `cat > /dev/null` and a socket reader that drops
# everything (`make bench`). A report, not a test.
BENCH_INGEST := $(B)/bin/bench_ingest
BENCH_INGEST_ARGS ?=

$(B)/bench/bench_ingest.o: EXTRA_CFLAGS = \
	-DRINGD_PATH='"$(abspath $(B))/bin/ringd"'

$(BENCH_INGEST): $(B)/bench/bench_ingest.o $(LIBSHM_A)
	$(call link)

PROGRAMS += $(BENCH_INGEST)

# BENCH_INGEST_ARGS=--quick for a smoke run (16 MiB per case).
run-bench-ingest: $(BENCH_INGEST) $(RINGD)
	$(BENCH_INGEST) $(BENCH_INGEST_ARGS)

BENCH_RUNS += run-bench-ingest
.PHONY: run-bench-ingest
