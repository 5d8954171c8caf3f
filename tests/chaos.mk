# The chaos build (make SAN=chaos, libshm/chaos.h): `make SAN=chaos stress`
# runs the stress programs, the exactness checker and the ringbridge
# end-to-end tests with random delays at every protocol step. SHMR_CHAOS
# (per mille, default 10) and SHMR_CHAOS_SEED tune it.
ifeq ($(SAN),chaos)
STRESS_RUNS += run-exact run-test_bridge
endif
