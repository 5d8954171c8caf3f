/*
 * state.c - what ringbridge's files and threads share (see bridge.h):
 * the options and the few flags and counters that more than one file
 * writes or reads. Each has its writers and readers noted in bridge.h.
 */
#include "bridge.h"

struct bridge_conf conf = {
	.listen = "127.0.0.1:8080",
	.max_clients = 10000,
	.heartbeat = 15,
	.coalesce_ms = COALESCE_AUTO,
	.write_timeout = 30,
	.sndbuf = 65536,
	.conn_memory = 8192,
};

_Atomic(struct ring_ent *) g_rings;
atomic_bool g_stopping;
atomic_uint g_hb_gen;
atomic_uint_least64_t g_streams;
atomic_uint_least64_t g_requests, g_rejected_limit, g_rejected_auth;
