/*
 * dashboard.c - the live web dashboard: serves the HTML, CSS and
 * JavaScript of bridge/dashboard/, compiled into the binary by
 * bridge/dashboard/embed.c. The page uses only the bridge's own endpoints
 * (/rings and the SSE streams) and works offline.
 *
 * The files are public (no token is needed to load them; the page passes
 * the token of its own URL on to the data endpoints). Every answer carries
 * an ETag and Cache-Control: no-cache, so a browser revalidates each time
 * and gets 304 until the binary changes.
 */
#include <string.h>

#include <microhttpd.h>

#include "bridge.h"

/* Script, style and data only from the bridge itself. */
#define DASH_CSP	"default-src 'none'; script-src 'self'; " \
	"style-src 'self'; connect-src 'self'; img-src 'self' data:; " \
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

const struct dash_asset *
dash_find(const char *url)
{
	const struct dash_asset *a;

	if (strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0)
		url = "/dashboard/index.html";
	for (a = dash_assets; a->path != NULL; a++)
		if (strcmp(a->path, url) == 0)
			return a;
	return NULL;
}

/* Does an If-None-Match list name etag (or "*")? */
static bool
etag_matches(const char *inm, const char *etag)
{
	size_t n = strlen(etag);
	const char *p = inm;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '*')
			return true;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (strncmp(p, etag, n) == 0 && (p[n] == '\0' || p[n] == ',' ||
		    p[n] == ' ' || p[n] == '\t'))
			return true;
		while (*p != '\0' && *p != ',')
			p++;
	}
	return false;
}

int
dash_serve(struct MHD_Connection *conn, const struct dash_asset *a)
{
	struct MHD_Response *r;
	const char *inm;
	unsigned status = MHD_HTTP_OK;
	enum MHD_Result ret;

	inm = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_IF_NONE_MATCH);
	if (inm != NULL && etag_matches(inm, a->etag)) {
		status = MHD_HTTP_NOT_MODIFIED;
		r = MHD_create_response_from_buffer(0, NULL,
		    MHD_RESPMEM_PERSISTENT);
	} else
		r = MHD_create_response_from_buffer(a->len, (void *)a->data,
		    MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	if (status == MHD_HTTP_OK)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
		    a->ctype);
	MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, a->etag);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (strncmp(a->ctype, "text/html", 9) == 0) {
		MHD_add_response_header(r, "Content-Security-Policy",
		    DASH_CSP);
		MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	}
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}
