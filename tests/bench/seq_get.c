/*
 * seq_get.c - the benchmark's client at one connection: one GET at a time on a kept-alive connection, each
 * timed from the request's write to the response's last byte.
 *
 * Usage: seq_get PORT PATH SECONDS [TOKEN]
 * Sends `GET PATH` to 127.0.0.1:PORT (with `Authorization: Bearer TOKEN` when given) until SECONDS have passed,
 * blocking in read() for each answer, and prints one line, as run.sh's parse_wrk prints wrk's numbers:
 *     REQ_PER_S P50_MS P99_MS REQUESTS NON_2XX SOCKET_ERRORS
 * A connection the server closes (nginx after keepalive_requests, with `Connection: close`) is opened again
 * before the next request, outside its time, as wrk does.  A request with no complete answer within 10 s, or a
 * connection lost in the middle of one, is a socket error and is not timed.
 *
 * Why not wrk at one connection: on the project's two virtual CPUs, wrk -c1 put about 1 % of the requests of
 * every responder behind nginx (bare libfcgi included) into a band of 0.5-3 ms that this client, measuring
 * the same responders at the same minutes, saw for 0.1 % (tests/bench/README.md, "One connection").  p99 sits
 * on that band's edge, so wrk's p99 at one connection said more about wrk than about the responder.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define ANSWER_MAX (1 << 24)    /* the list at 10,000 registries is 2.2 MB */

static long long now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000LL + t.tv_nsec / 1000;
}

/* A connected, kept-alive socket with a 10 s read timeout, or -1. */
static int dial(int port)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	struct timeval timeout = { .tv_sec = 10 };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The value of header NAME (any case) in the header block (NUL-terminated, its final blank line included), or NULL. */
static const char *header_value(const char *head, const char *name)
{
	size_t n = strlen(name);

	for (const char *line = strstr(head, "\r\n"); line != NULL; line = strstr(line + 2, "\r\n")) {
		const char *p = line + 2;

		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			for (p += n + 1; *p == ' '; p++)
				;
			return p;
		}
	}
	return NULL;
}

/*
 * Reads one answer into buf; returns its status, or -1 (connection lost, timeout, no Content-Length, too
 * large).  *close_after is set when the server said it closes the connection.
 */
static int read_answer(int fd, char *buf, int *close_after)
{
	long got = 0, need = -1;
	int status = -1;

	for (;;) {
		ssize_t r = read(fd, buf + got, (size_t)(ANSWER_MAX - 1 - got));

		if (r <= 0)
			return -1;
		got += r;
		buf[got] = '\0';
		if (need < 0) {
			char *end = strstr(buf, "\r\n\r\n");
			const char *length, *connection;

			if (end == NULL) {
				if (got >= ANSWER_MAX - 1)
					return -1;
				continue;
			}
			end[2] = '\0';  /* headers alone while we look; the body is counted, not read */
			length = header_value(buf, "Content-Length");
			connection = header_value(buf, "Connection");
			if (length == NULL || sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
				return -1;
			need = (end + 4 - buf) + strtol(length, NULL, 10);
			*close_after = connection != NULL && strncasecmp(connection, "close", 5) == 0;
			if (need >= ANSWER_MAX)
				return -1;
		}
		if (got >= need)
			return status;
	}
}

static int by_value(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	static char answer[ANSWER_MAX];
	char request[2048];
	long long *took = NULL, start, stop;
	long n = 0, cap = 0, non2xx = 0, errors = 0;
	int fd = -1, port, len;

	if (argc < 4 || argc > 5 || (port = atoi(argv[1])) <= 0 || atof(argv[3]) <= 0) {
		fprintf(stderr, "usage: seq_get PORT PATH SECONDS [TOKEN]\n");
		return 2;
	}
	len = snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s%s%s\r\n", argv[2], port,
		       argc == 5 ? "Authorization: Bearer " : "", argc == 5 ? argv[4] : "", argc == 5 ? "\r\n" : "");
	if (len <= 0 || len >= (int)sizeof request) {
		fprintf(stderr, "seq_get: request too long\n");
		return 2;
	}
	start = now_us();
	stop = start + (long long)(atof(argv[3]) * 1e6);
	while (now_us() < stop) {
		int close_after = 0, status;
		long long t0;

		if (fd < 0 && (fd = dial(port)) < 0) {
			fprintf(stderr, "seq_get: cannot connect to 127.0.0.1:%d: %s\n", port, strerror(errno));
			return 1;
		}
		t0 = now_us();
		status = write(fd, request, (size_t)len) == len ? read_answer(fd, answer, &close_after) : -1;
		if (status < 0) {
			errors++;
			close(fd);
			fd = -1;
			continue;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 65536;
			took = realloc(took, (size_t)cap * sizeof *took);
			if (took == NULL) {
				fprintf(stderr, "seq_get: out of memory\n");
				return 1;
			}
		}
		took[n++] = now_us() - t0;
		if (status < 200 || status > 299)
			non2xx++;
		if (close_after) {
			close(fd);
			fd = -1;
		}
	}
	if (n == 0) {
		fprintf(stderr, "seq_get: no answer in %s s (%ld socket errors)\n", argv[3], errors);
		return 1;
	}
	qsort(took, (size_t)n, sizeof *took, by_value);
	/* The same percentiles as wrk's: the value below which that share of the requests fall. */
	printf("%.1f %.3f %.3f %ld %ld %ld\n", n / ((now_us() - start) / 1e6), took[(n - 1) / 2] / 1000.0,
	       took[(long)((n - 1) * 0.99)] / 1000.0, n, non2xx, errors);
	free(took);
	if (fd >= 0)
		close(fd);
	return 0;
}
