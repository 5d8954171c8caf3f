/*
 * fanout.h - private to bench_fanout: its options, the SSE clients'
 * accounting (fanout_clients.c) and the Nchan server it can measure
 * instead of ringbridge (fanout_nchan.c).
 */
#ifndef FANOUT_H
#define FANOUT_H

#include <sys/types.h>

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "bridge_client.h"

struct fanout_opts {
	const char	*bridge;
	const char	*ringd;
	unsigned	 clients;
	unsigned	 rate;
	unsigned	 seconds;
	unsigned	 size;
	unsigned	 slow_pct;
	const char	*extra;
	const char	*nginx;		/* nginx binary: run Nchan instead */
	unsigned	 bridges;	/* ringbridge processes on one port */
	uint64_t	 ring_size;
	const char	*ring_size_arg;
	double		 flood;		/* seconds of publishing flat out */
};

extern struct fanout_opts opt;

struct sub {
	struct hc	h;
	bool		slow;
	bool		ended;
	int64_t		first, last;	/* sequence numbers seen */
	int64_t		expect;		/* the next one due, -1: unknown */
	uint64_t	events, gaps, lost;
	char		last_id[64];	/* SSE id of the last message */
	bool		overrun;	/* the stream ended with "overrun" */
	bool		exact;		/* ... whose count matched */
};

/* fanout_clients.c */
void	sub_handle(struct sub *);
void	sub_pump(struct sub *);
void	sub_slow_drain(struct sub *, unsigned);
bool	sub_resume_exact(struct sub *, int, const char *);
double	lat_pct(double);
extern uint64_t lat_max_ns;

/* fanout_nchan.c */
extern int nchan_port;
int	nchan_connect(void);
int	nchan_publish(int, const char *, size_t);
pid_t	nchan_start(void);
void	nchan_stop(pid_t);

static inline uint64_t
now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
