/* prefork.c - one socket, N forked libfcgi workers, stopped by SIGTERM (shared by the benchmark references). */
#define _POSIX_C_SOURCE 200809L
#include "prefork.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_WORKERS 64

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
	/* Makes a blocked FCGX_Accept_r return instead of retrying accept(). */
	FCGX_ShutdownPending();
}

/* The accept loop of one worker; its exit status. */
static int worker(int fd, worker_init_fn init, serve_fn serve, const sigset_t *blocked)
{
	struct sigaction sa;
	FCGX_Request req;
	void *ctx;

	/* No SA_RESTART: SIGTERM must interrupt accept(). */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigprocmask(SIG_UNBLOCK, blocked, NULL);

	ctx = init != NULL ? init() : NULL;
	if (FCGX_InitRequest(&req, fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0)
		return 1;
	while (!stop_requested) {
		if (FCGX_Accept_r(&req) < 0) {
			if (stop_requested || errno == EINTR)
				continue;
			perror("accept");
			return 1;
		}
		serve(&req, ctx);
		FCGX_Finish_r(&req);
	}
	return 0;
}

/* Sends SIGTERM to every worker still alive. */
static void stop_workers(const pid_t *pids, int n)
{
	for (int i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGTERM);
}

int prefork_run(const char *path, int workers, worker_init_fn init, serve_fn serve)
{
	pid_t pids[MAX_WORKERS];
	sigset_t waited;
	int fd, alive = 0;

	if (workers < 1 || workers > MAX_WORKERS) {
		fprintf(stderr, "workers must be 1..%d\n", MAX_WORKERS);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (FCGX_Init() != 0) {
		fprintf(stderr, "FCGX_Init failed\n");
		return 1;
	}
	unlink(path);
	fd = FCGX_OpenSocket(path, 1024);
	if (fd < 0) {
		fprintf(stderr, "cannot listen on %s\n", path);
		return 1;
	}
	/*
	 * The parent takes its signals synchronously with sigwaitinfo: no race
	 * between "is a stop pending?" and waiting.  Blocked before fork so a
	 * SIGTERM that comes early is held, not lost; workers unblock.
	 */
	sigemptyset(&waited);
	sigaddset(&waited, SIGTERM);
	sigaddset(&waited, SIGINT);
	sigaddset(&waited, SIGCHLD);
	sigprocmask(SIG_BLOCK, &waited, NULL);
	for (int i = 0; i < workers; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			_exit(worker(fd, init, serve, &waited));
		if (pids[i] < 0) {
			perror("fork");
			stop_workers(pids, i);
			workers = i;
			break;
		}
		alive++;
	}
	while (alive > 0) {
		siginfo_t si;
		pid_t pid;
		int sig = sigwaitinfo(&waited, &si);

		if (sig == SIGTERM || sig == SIGINT) {
			stop_workers(pids, workers);
			continue;
		}
		while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
			for (int i = 0; i < workers; i++)
				if (pids[i] == pid) {
					pids[i] = 0;
					alive--;
					fprintf(stderr, "worker %ld exited\n", (long)pid);
				}
	}
	unlink(path);
	return 0;
}

/* The header block of every reference response, extra (whole "Name: value\r\n" lines) before its end; its
 * length, or -1 when it does not fit in size. */
static int response_head(char *head, size_t size, int status, const char *extra, int len)
{
	/* FCGX_FPrintF has its own printf: format here, then FCGX_PutStr. */
	int n = snprintf(head, size,
			 "Status: %d\r\n"
			 "Content-Type: application/json; charset=utf-8\r\n"
			 "Content-Length: %d\r\n"
			 "Cache-Control: no-store\r\n"
			 "X-Content-Type-Options: nosniff\r\n%s\r\n", status, len, extra);

	return n < 0 || (size_t)n >= size ? -1 : n;
}

int prefork_reply_with(FCGX_Request *r, int status, const char *extra, const char *body, int len)
{
	char head[512];
	int n = response_head(head, sizeof head, status, extra, len);

	if (n < 0)
		return -1;
	if (FCGX_PutStr(head, n, r->out) != n || FCGX_PutStr(body, len, r->out) != len)
		return -1;
	return 0;
}

int prefork_reply(FCGX_Request *r, int status, const char *body, int len)
{
	return prefork_reply_with(r, status, "", body, len);
}

int prefork_response(int status, const char *body, int len, char **out, int *outlen)
{
	char head[256];
	int n = response_head(head, sizeof head, status, "", len);

	*out = n < 0 ? NULL : malloc((size_t)n + (size_t)len);
	if (*out == NULL)
		return -1;
	memcpy(*out, head, (size_t)n);
	memcpy(*out + n, body, (size_t)len);
	*outlen = n + len;
	return 0;
}

int prefork_slurp(const char *path, char **data, int *len)
{
	FILE *f = fopen(path, "rb");
	long size;

	*data = NULL;
	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || size > 1 << 24 ||
	    fseek(f, 0, SEEK_SET) != 0 || (*data = malloc(size > 0 ? (size_t)size : 1)) == NULL ||
	    fread(*data, 1, (size_t)size, f) != (size_t)size) {
		perror(path);
		free(*data);
		*data = NULL;
		if (f != NULL)
			fclose(f);
		return -1;
	}
	fclose(f);
	*len = (int)size;
	return 0;
}
