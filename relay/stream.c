/*
 * stream.c - ringrelay's NATS side: the connection to the servers of
 * --nats, the JetStream context with its publish-error callback, and the
 * stream, created (push) or waited for (pull). Failures are said for a
 * human; those a cluster recovers from are retried as long as it takes.
 */
#include <err.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relay.h"

#define REQ_MS		2000	/* a JetStream API request this late is
				   asked again (a leader may be gone) */

natsConnection *nc;
jsCtx *js;
atomic_int pub_failed;
char pub_err[256];

static void
on_pub_error(jsCtx *ctx, jsPubAckErr *pae, void *closure)
{
	(void)ctx;
	(void)closure;
	/* relaxed: the text is only for the message; the flag is polled */
	if (atomic_exchange_explicit(&pub_failed, 1, memory_order_acq_rel) == 0)
		snprintf(pub_err, sizeof(pub_err), "%s%s%s (code %d)",
		    natsStatus_GetText(pae->Err), pae->ErrText ? ": " : "",
		    pae->ErrText ? pae->ErrText : "", (int)pae->ErrCode);
}

/* Connect to the comma-separated servers of --nats, or exit clearly. */
void
stream_connect(void)
{
	natsOptions *no = NULL;
	jsOptions jo;
	char *urls, *tok, *save;
	const char *srv[16];
	int n = 0;
	natsStatus s;

	if ((urls = strdup(opt.nats)) == NULL)
		err(EXIT_SYS, "strdup");
	for (tok = strtok_r(urls, ",", &save); tok != NULL && n < 16;
	    tok = strtok_r(NULL, ",", &save))
		srv[n++] = tok;
	if (n == 0)
		errx(EXIT_USAGE, "--nats: no server URL");
	if ((s = natsOptions_Create(&no)) != NATS_OK ||
	    (s = natsOptions_SetServers(no, srv, n)) != NATS_OK ||
	    (s = natsOptions_SetTimeout(no, 2000)) != NATS_OK ||
	    (s = natsOptions_SetMaxReconnect(no, -1)) != NATS_OK ||
	    (s = natsOptions_SetReconnectWait(no, 250)) != NATS_OK ||
	    (s = natsOptions_SetReconnectBufSize(no, 64 << 20)) != NATS_OK ||
	    (s = natsOptions_SetName(no, "ringrelay")) != NATS_OK)
		errx(EXIT_SYS, "NATS options: %s", natsStatus_GetText(s));
	s = natsConnection_Connect(&nc, no);
	natsOptions_Destroy(no);
	if (s != NATS_OK)
		errx(EXIT_SYS, "%s: cannot connect to the NATS server: %s",
		    opt.nats, natsStatus_GetText(s));
	free(urls);
	jsOptions_Init(&jo);
	/*
	 * Short: while a cluster elects a new leader, a request sent to
	 * the old one is never answered; asking again soon (every caller
	 * retries) bounds how long a relay stays behind after a failover.
	 */
	jo.Wait = REQ_MS;
	jo.PublishAsync.MaxPending = 256;
	jo.PublishAsync.ErrHandler = on_pub_error;
	if ((s = natsConnection_JetStream(&js, nc, &jo)) != NATS_OK)
		errx(EXIT_SYS, "JetStream context: %s", natsStatus_GetText(s));
}

/* A JetStream API failure, said for a human. */
const char *
stream_why(natsStatus s, jsErrCode ec)
{
	static char buf[300];
	const char *last = nats_GetLastError(NULL);

	if (s == NATS_NO_RESPONDERS || ec == JSNotEnabledErr ||
	    ec == JSNotEnabledForAccountErr)
		return "the server has no JetStream (start nats-server with "
		    "-js, or enable it for this account)";
	snprintf(buf, sizeof(buf), "%s%s%s", natsStatus_GetText(s),
	    last != NULL && *last != '\0' ? ": " : "",
	    last != NULL ? last : "");
	return buf;
}

/* Worth retrying for a while (not: no JetStream, a refused config). */
bool
stream_transient(natsStatus s, jsErrCode ec)
{
	if (s == NATS_NO_RESPONDERS || ec == JSNotEnabledErr ||
	    ec == JSNotEnabledForAccountErr)
		return false;
	/* insufficient resources: a forming cluster lacks the peers */
	return s == NATS_TIMEOUT || ec == JSClusterNotAvailErr ||
	    ec == JSInsufficientResourcesErr || ec == JSClusterNoPeersErr ||
	    ec == 0;
}

/*
 * The stream exists afterwards, or we exit saying why. A cluster that
 * answers with transient errors (electing leaders, a node down) is waited
 * for as long as it takes, saying so every TRANSIENT_MS: a relay that
 * exits then relays nothing until someone restarts it.
 */
void
stream_ensure(bool create)
{
	jsStreamInfo *si = NULL;
	jsStreamConfig cfg;
	jsErrCode ec = 0;
	const char *subj[1] = { opt.subject };
	uint64_t next_say = 0;
	natsStatus s;

	for (;;) {
		s = js_GetStreamInfo(&si, js, opt.stream, NULL, &ec);
		if (s == NATS_OK) {
			jsStreamInfo_Destroy(si);
			return;
		}
		if (s != NATS_NOT_FOUND && ec != JSStreamNotFoundErr) {
			/* A cluster still electing its leaders answers
			 * with errors or not at all for a while. */
			if (stream_transient(s, ec) && !stop) {
				if (mono_ms() >= next_say) {
					say("stream %s: %s; retrying",
					    opt.stream, stream_why(s, ec));
					next_say = mono_ms() + TRANSIENT_MS;
				}
				sleep(1);
				continue;
			}
			if (stop)
				exit(0);
			errx(EXIT_SYS, "stream %s: %s", opt.stream,
			    stream_why(s, ec));
		}
		if (create)
			break;
		/* pull: the origin's relay creates it; wait for it. */
		say("stream %s does not exist yet; waiting", opt.stream);
		for (int i = 0; i < 20 && !stop; i++)
			usleep(50000);
		if (stop)
			exit(0);
	}
	jsStreamConfig_Init(&cfg);
	cfg.Name = opt.stream;
	cfg.Subjects = subj;
	cfg.SubjectsLen = 1;
	cfg.Retention = js_LimitsPolicy;
	cfg.Discard = js_DiscardOld;
	cfg.MaxBytes = opt.max_bytes;
	cfg.MaxMsgs = opt.max_msgs;
	cfg.MaxAge = opt.max_age_s * 1000000000LL;
	cfg.Storage = opt.memory ? js_MemoryStorage : js_FileStorage;
	cfg.Replicas = opt.replicas;
	cfg.Duplicates = opt.dup_s * 1000000000LL;
	next_say = 0;
	while ((s = js_AddStream(&si, js, &cfg, NULL, &ec)) != NATS_OK &&
	    stream_transient(s, ec) && !stop) {
		if (mono_ms() >= next_say) {
			say("creating stream %s: %s; retrying", opt.stream,
			    stream_why(s, ec));
			next_say = mono_ms() + TRANSIENT_MS;
		}
		sleep(1);
	}
	if (s != NATS_OK && stop)
		exit(0);
	if (s != NATS_OK)
		errx(EXIT_SYS, "creating stream %s: %s", opt.stream,
		    stream_why(s, ec));
	jsStreamInfo_Destroy(si);
	say("created stream %s (subject %s, %s, %" PRId64 " replica%s)",
	    opt.stream, opt.subject, opt.memory ? "memory" : "file",
	    opt.replicas, opt.replicas == 1 ? "" : "s");
}
