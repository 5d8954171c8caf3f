# tests/doc_tables.sh: each ringd input and ringctl command (the rows of
# their tables, as the programs' help lists them) has its man page entry.
run-doc_tables: tests/doc_tables.sh tests/lib.sh $(RINGD) $(RINGCTL) \
    daemon/ringd.8 tools/ringctl.1
	$(call run_test,doc_tables,RINGD=$(RINGD) RINGCTL=$(RINGCTL) \
	    timeout 60 bash tests/doc_tables.sh)

TEST_RUNS += run-doc_tables
.PHONY: run-doc_tables
