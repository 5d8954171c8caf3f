/* sigbus.c - a clear message for a ring truncated while mapped (sigbus.h). */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "sigbus.h"

static const char *prog = "";
static int status = 1;
static char ring[129];

static void
put(const char *s)
{
	(void)!write(STDERR_FILENO, s, strlen(s));
}

/* Async-signal-safe: write(2) and _exit(2) only, on static data. */
static void
on_sigbus(int sig)
{
	(void)sig;
	put(prog);
	if (ring[0] != '\0') {
		put(": ");
		put(ring);
		put(": bus error reading the ring");
	} else
		put(": bus error reading a ring");
	put(" (SIGBUS: truncated under its mapping by its owner)\n");
	_exit(status);
}

void
sigbus_exit(const char *name, int st)
{
	struct sigaction sa;

	prog = name;
	status = st;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigbus;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
}

void
sigbus_ring(const char *name)
{
	size_t n = strlen(name);

	if (n >= sizeof(ring))
		n = sizeof(ring) - 1;
	memcpy(ring, name, n);
	ring[n] = '\0';
}
