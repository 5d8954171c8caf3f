# Load and soak of ringbridge (tests/soak_bridge.sh, tests/soak_client.c).
# Not part of `make test`: `make soak SOAK_SECONDS=600` (default 600).
SOAK_SECONDS ?= 600
SOAK_CLIENT := $(B)/tests/soak_client

$(SOAK_CLIENT).o: EXTRA_CFLAGS = -Icommon -Itests

$(SOAK_CLIENT): $(SOAK_CLIENT).o $(B)/tests/bridge_client.o $(LIBSHM_A)
	$(call link,-lpthread)

soak: $(SOAK_CLIENT) $(RINGBRIDGE)
	$(Q)tests/soak_bridge.sh $(B) $(SOAK_SECONDS)

.PHONY: soak
