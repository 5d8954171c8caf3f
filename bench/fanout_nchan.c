/*
 * fanout_nchan.c - nginx with the Nchan module on a free loopback port,
 * the same feed as ringbridge serves (bench_fanout --nchan): a publisher
 * location the producer POSTs to over one keep-alive connection and an
 * EventSource subscriber location.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "fanout.h"

int nchan_port;
static char nchan_dir[64];

static int
tcp_connect(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* Publish one message to Nchan over a keep-alive connection; 0 or -1. */
int
nchan_publish(int fd, const char *p, size_t n)
{
	char req[256], resp[4096];
	size_t got = 0;
	long clen = -1;
	char *end = NULL, *cl;
	int k;

	k = snprintf(req, sizeof(req), "POST /pub HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: %zu\r\n\r\n", n);
	if (write(fd, req, (size_t)k) != k || write(fd, p, n) != (ssize_t)n)
		return -1;
	/* Status line and headers, then Content-Length bytes of body. */
	for (;;) {
		ssize_t r = read(fd, resp + got, sizeof(resp) - 1 - got);

		if (r <= 0)
			return -1;
		got += (size_t)r;
		resp[got] = '\0';
		if (end == NULL && (end = strstr(resp, "\r\n\r\n")) != NULL) {
			cl = strcasestr(resp, "Content-Length:");
			clen = cl != NULL && cl < end ? atol(cl + 15) : 0;
		}
		if (end != NULL && got >= (size_t)(end + 4 - resp) +
		    (size_t)clen)
			return 0;
		if (got >= sizeof(resp) - 1)
			return -1;
	}
}

pid_t
nchan_start(void)
{
	char conf[128], cmd[4200];
	FILE *f;
	pid_t pid;
	int fd;

	/* A free port: bind 0, read it back, release it. */
	{
		struct sockaddr_in sa = { .sin_family = AF_INET };
		socklen_t sl = sizeof(sa);

		fd = socket(AF_INET, SOCK_STREAM, 0);
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		bind(fd, (struct sockaddr *)&sa, sizeof(sa));
		getsockname(fd, (struct sockaddr *)&sa, &sl);
		nchan_port = ntohs(sa.sin_port);
		close(fd);
	}
	snprintf(nchan_dir, sizeof(nchan_dir), "/tmp/benchnchan.%d",
	    (int)getpid());
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/logs %s/tmp", nchan_dir,
	    nchan_dir);
	if (system(cmd) != 0)
		return -1;
	snprintf(conf, sizeof(conf), "%s/nginx.conf", nchan_dir);
	if ((f = fopen(conf, "w")) == NULL)
		return -1;
	fprintf(f,
	    "load_module /usr/lib/nginx/modules/ngx_nchan_module.so;\n"
	    "daemon off; master_process off; worker_processes 1;\n"
	    "pid nginx.pid; error_log logs/error.log error;\n"
	    "worker_rlimit_nofile 30000;\n"
	    "events { worker_connections 25000; }\n"
	    "http { access_log off;\n"
	    " client_body_temp_path tmp/body; proxy_temp_path tmp/proxy;\n"
	    " fastcgi_temp_path tmp/fcgi; uwsgi_temp_path tmp/uwsgi;\n"
	    " scgi_temp_path tmp/scgi; keepalive_requests 100000000;\n"
	    " nchan_shared_memory_size 256M; send_timeout 10s;\n"
	    " server { listen 127.0.0.1:%d;\n"
	    "  location = /pub { nchan_publisher; nchan_channel_id feed;\n"
	    "   nchan_message_buffer_length 1024;\n"
	    "   nchan_message_timeout 5m; }\n"
	    "  location = /sub { nchan_subscriber eventsource;\n"
	    "   nchan_channel_id feed;\n"
	    "   nchan_subscriber_first_message newest; } } }\n",
	    nchan_port);
	fclose(f);
	if ((pid = fork()) == 0) {
		char prefix[80];

		snprintf(prefix, sizeof(prefix), "%s/", nchan_dir);
		execl(opt.nginx, "nginx", "-p", prefix, "-c", conf, "-e",
		    "logs/stderr.log", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		if ((fd = nchan_connect()) >= 0) {
			close(fd);
			return pid;
		}
		usleep(10000);
	}
	return -1;
}

/* A client connection to the server. */
int
nchan_connect(void)
{
	return tcp_connect(nchan_port);
}

/* Stop the server and remove its directory. */
void
nchan_stop(pid_t pid)
{
	char cmd[128];

	kill(pid, SIGQUIT);
	waitpid(pid, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", nchan_dir);
	(void)!system(cmd);
}
