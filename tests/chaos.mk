# The chaos build (make SAN=chaos, libshm/chaos.h): `make SAN=chaos stress`
# runs the stress programs, the exactness checker, the ringbridge
# end-to-end tests and the Python binding's tests with random delays at
# every protocol step. SHMR_CHAOS (per mille, default 10) and
# SHMR_CHAOS_SEED tune it. (The Python tests found there, 2 runs in 3, a
# preempted producer's -EDEADLK raised through Reader.view(timeout=10).)
ifeq ($(SAN),chaos)
STRESS_RUNS += run-exact run-test_bridge run-python-tests
endif
