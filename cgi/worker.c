/* worker.c - the FastCGI accept loop and the plain-CGI one-shot. */
#include "worker.h"
#include "outbound.h"
#include "app.h"
#include "cache.h"
#include "clock.h"
#include "log.h"

#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static const char *fcgx_param(void *ctx, const char *name)
{
	return FCGX_GetParam(name, ((FCGX_Request *)ctx)->envp);
}

static int fcgx_read(void *ctx, char *buf, int n)
{
	return FCGX_GetStr(buf, n, ((FCGX_Request *)ctx)->in);
}

static int fcgx_write(void *ctx, const char *buf, int n)
{
	return FCGX_PutStr(buf, n, ((FCGX_Request *)ctx)->out) == n ? 0 : -1;
}

/*
 * What FCGX_Finish_r would send first: stderr's end (nothing, when nothing
 * was written to it), then the rest of stdout, its end and FCGI_END_REQUEST,
 * in one write.  nginx answers the client on END_REQUEST, so what the worker
 * does after this (close_at_once_when_all_read's poll and ioctl, the close)
 * is no longer on the client's wait.
 * FCGX_Finish_r closes the streams again: a no-op.
 */
static int fcgx_end(void *ctx)
{
	FCGX_Request *fr = ctx;
	int err = FCGX_FClose(fr->err);

	return FCGX_FClose(fr->out) == 0 && err == 0 ? 0 : -1;
}

/*
 * What a worker hands every request: the settings through one pointer, the
 * outbound bound derived for this host, its connection and cache (NULL when
 * out of memory; the caller checks app.cache and frees app.db).
 */
static struct app app_new(const struct serve_options *opts, struct generation *gen)
{
	struct app app = { .cfg = opts->cfg, .key = opts->key,
			   .check_concurrency = outbound_limit(opts->cfg->check_concurrency, opts->workers) };

	app.db = db_new(opts->cfg);
	app.cache = app.db ? cache_new(app.db, gen, opts->cfg->cache_max_age_s,
					 strcmp(opts->cfg->coherence, "cluster") == 0) : NULL;
	return app;
}

/* The idle wait: one epoll set per worker, the listening socket in it from the start, the database's as it comes. */
struct idle_wait {
	int epfd;
	int db_fd;                      /* the database socket registered, or -1 */
	unsigned long db_connection;    /* which connection it belonged to */
	int64_t *finished_us;           /* when a worker (of those sharing it) last finished a request */
	int64_t own_finished_us;        /* finished_us of a worker alone */
};

/* The listening socket into the set, at the end of its exclusive waiters (one idle worker woken a connection). */
static int idle_wait_add_listen(struct idle_wait *w, int listen_fd)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.fd = listen_fd };

	return epoll_ctl(w->epfd, EPOLL_CTL_ADD, listen_fd, &ev);
}

static int idle_wait_open(struct idle_wait *w, int listen_fd, int64_t *shared_finished_us)
{
	w->db_fd = -1;
	w->db_connection = 0;
	w->own_finished_us = clock_us();
	w->finished_us = shared_finished_us != NULL ? shared_finished_us : &w->own_finished_us;
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->epfd < 0)
		return -1;
	return idle_wait_add_listen(w, listen_fd);
}

/*
 * After a request: whether this worker stays first in the listening socket's
 * queue of exclusive waiters.  The kernel wakes the first idle waiter in that
 * queue, and entries stay where EPOLL_CTL_ADD put them, so a worker that is
 * not moved takes every connection whenever it is idle.  While requests come
 * back to back that is what we want: its memory and its CPU's caches are
 * warm (at one connection it served GET one 10-20 % faster than workers
 * taking turns at every request, which cost a wake-up on a cold CPU and two
 * system calls each).  When the traffic pauses (no worker had finished a
 * request for IDLE_TURN_US or more when this one came), the worker goes to
 * the end of the queue, so at low rates idle workers take turns as they do
 * blocked in accept(): each one's cache and database connection are kept in
 * use, and none sits on a cache nobody reads.  The pause is measured on the
 * clock the workers share, not by how long this worker waited: with 8
 * workers at ~7,000 requests a second, each one's turn comes round every
 * 1.2 ms, so a worker's own wait would keep them taking turns for good
 * (seen with perf sched: every request on another worker).
 */
#define IDLE_TURN_US 1000

/*
 * Returns -1 (errno set) when the listening socket left the set and could not
 * be put back (ENOMEM): the worker would live on and never be woken for a
 * connection again, one worker short with nothing said.  The caller ends the
 * worker with an error instead; the supervisor starts a fresh one.
 */
static int idle_wait_after_request(struct idle_wait *w, int listen_fd, int64_t woke_us)
{
	int64_t paused = woke_us - __atomic_load_n(w->finished_us, __ATOMIC_RELAXED);

	__atomic_store_n(w->finished_us, clock_us(), __ATOMIC_RELAXED);
	if (paused < IDLE_TURN_US || epoll_ctl(w->epfd, EPOLL_CTL_DEL, listen_fd, NULL) != 0)
		return 0;       /* not moved: still in the set where it was */
	return idle_wait_add_listen(w, listen_fd);
}

/*
 * Keeps the database's socket in the set as the connection comes and goes;
 * returns the fd watched, or -1 (no connection, or it could not be added: the
 * request then polls it itself).  A closed socket leaves the set by itself; a
 * new connection is registered again even when it got the same fd number.
 */
static int idle_wait_watch_db(struct idle_wait *w, const struct db *db)
{
	unsigned long connection;
	int fd = db_idle_socket(db, &connection);

	if (fd == w->db_fd && connection == w->db_connection)
		return fd;
	if (w->db_fd >= 0)
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->db_fd, NULL);     /* ENOENT when it was closed: fine */
	w->db_fd = -1;
	w->db_connection = connection;
	if (fd >= 0) {
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) == 0)
			w->db_fd = fd;
	}
	return w->db_fd;
}

/*
 * Lets FCGX_Finish_r close the connection at once, when nothing more can
 * come on it and no other connection is waiting.  libfcgi's close shuts
 * down our sending side, then waits (poll and read, up to 2 s) for nginx to
 * close its end: on TCP, data arriving at a closed socket makes the kernel
 * answer with a reset, which can destroy the response still on its way.
 * nginx sends the whole request before it reads the response, and nothing
 * after it: when the request has no body (or we read it to its end) and the
 * socket holds nothing unread, no data can follow, and a plain close() ends
 * the connection as the FastCGI specification has the application do.
 * That saves a sleep, a wake-up and three system calls, and the worker is
 * back in its wait before the next request of a client that sends one
 * after the other (at one connection: 41-54 us of worker CPU a GET against
 * 46-65, dev stack).  But not when connections are already waiting:
 * EPOLLEXCLUSIVE wakes one idle worker per connection that arrives, not
 * per connection waiting, so a worker that came straight back would take
 * the waiting ones one after another while the others slept (at 32
 * connections one worker served 10,363 requests of 20,000 and another 414,
 * p99 11-41 ms against 3-4 ms).  Then libfcgi's close stays, and while it
 * waits for nginx the connections that arrive wake the other workers.
 */
static void close_at_once_when_all_read(FCGX_Request *fr, int listen_fd)
{
	const char *length = FCGX_GetParam("CONTENT_LENGTH", fr->envp);
	struct pollfd waiting = { .fd = listen_fd, .events = POLLIN };
	int unread;

	/* The checks in memory first: a body not read to its end needs no system call to say no. */
	if (length != NULL && length[0] != '\0' && strcmp(length, "0") != 0 && !FCGX_HasSeenEOF(fr->in))
		return;
	if (poll(&waiting, 1, 0) != 0)
		return;
	if (ioctl(fr->ipcFd, FIONREAD, &unread) == 0 && unread == 0)
		FCGX_Detach(fr);        /* libfcgi's close of a detached request is close() alone */
}

int worker_run_fcgi(int listen_fd, const struct serve_options *opts)
{
	struct sigaction sa;
	FCGX_Request fr;
	struct req_io io = { fcgx_param, fcgx_read, fcgx_write, fcgx_end, &fr };
	struct app app;
	int status = 0;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	/*
	 * SIGTERM and SIGINT stay blocked except inside epoll_pwait() below,
	 * which unblocks them and waits for a connection in one step: a stop
	 * signal is never lost between testing the flag and blocking in
	 * accept(), and never interrupts a request's reads and writes (it waits
	 * until the request is answered).  The listening socket is watched with
	 * EPOLLEXCLUSIVE: a connection wakes one idle worker, not all of them
	 * (select and poll wake every waiter, and with 8 idle workers each
	 * request at one connection cost 8 wake-ups and 7 failed accepts).  It
	 * is non-blocking, so a worker that loses the race for a connection all
	 * the same comes back to the wait instead of sleeping in accept() with
	 * signals blocked.
	 */
	sigset_t stop_signals, waiting;
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	sigprocmask(SIG_BLOCK, &stop_signals, &waiting);
	sigdelset(&waiting, SIGTERM);
	sigdelset(&waiting, SIGINT);
	int fl = fcntl(listen_fd, F_GETFL);
	if (fl < 0 || fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		log_error("cannot make the listening socket non-blocking: %s", strerror(errno));
		return 1;
	}

	if (FCGX_Init() != 0 || FCGX_InitRequest(&fr, listen_fd, 0) != 0) {
		log_error("cannot initialise libfcgi");
		return 1;
	}
	app = app_new(opts, opts->gen);
	/* For `imagereg check`, which does not know how many of us there are. */
	outbound_publish(opts->cfg->generation_file, app.check_concurrency);
	if (app.cache == NULL) {
		log_error("out of memory");
		db_free(app.db);
		return 1;
	}
	/* Connect now so the first request does not pay for it; failure is fine. */
	db_ready(app.db);
	struct idle_wait wait;
	int can_wait = idle_wait_open(&wait, listen_fd, opts->last_finished_us) == 0;

	if (!can_wait) {
		log_error("cannot watch the listening socket: %s", strerror(errno));
		status = 1;
	}
	while (can_wait && !stop_requested) {
		int db_fd = idle_wait_watch_db(&wait, app.db);
		int listen_ready = 0, db_readable = 0;
		struct epoll_event got[2];
		int n = epoll_pwait(wait.epfd, got, 2, -1, &waiting);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("waiting for a connection failed: %s", strerror(errno));
			status = 1;
			break;
		}
		for (int i = 0; i < n; i++) {
			if (got[i].data.fd == listen_fd)
				listen_ready = 1;
			else
				db_readable = 1;
		}
		/* Notifications that came while idle are taken now; none: the request need not look again. */
		if (db_fd >= 0)
			db_idle_read(app.db, db_readable);
		if (!listen_ready)
			continue;
		int64_t woke_us = clock_us();
		int accepted = FCGX_Accept_r(&fr);     /* 0, or -errno */

		if (accepted == -EAGAIN || accepted == -EWOULDBLOCK)
			continue;       /* another worker took the connection */
		if (accepted < 0) {
			log_error("accept failed: %s", strerror(-accepted));
			status = 1;
			break;
		}
		app_handle(&io, &app);
		close_at_once_when_all_read(&fr, listen_fd);
		FCGX_Finish_r(&fr);
		if (idle_wait_after_request(&wait, listen_fd, woke_us) != 0) {
			log_error("cannot watch the listening socket again: %s; this worker exits", strerror(errno));
			status = 1;
			break;
		}
	}
	if (wait.epfd >= 0)
		close(wait.epfd);
	FCGX_Free(&fr, 1);
	cache_free(app.cache);
	db_free(app.db);
	return status;
}

static const char *cgi_param(void *ctx, const char *name)
{
	(void)ctx;
	return getenv(name);
}

static int cgi_read(void *ctx, char *buf, int n)
{
	size_t got = fread(buf, 1, (size_t)n, stdin);

	(void)ctx;
	return ferror(stdin) ? -1 : (int)got;
}

static int cgi_write(void *ctx, const char *buf, int n)
{
	(void)ctx;
	return fwrite(buf, 1, (size_t)n, stdout) == (size_t)n ? 0 : -1;
}

static int cgi_end(void *ctx)
{
	(void)ctx;
	return fflush(stdout) == 0 ? 0 : -1;
}

int worker_run_cgi(const struct serve_options *opts)
{
	struct req_io io = { cgi_param, cgi_read, cgi_write, cgi_end, NULL };
	/* One request: nothing to share, so no counters. */
	struct app app = app_new(opts, NULL);
	if (app.cache == NULL) {
		db_free(app.db);
		return 1;
	}
	app_handle(&io, &app);         /* ends (flushes) the response: a failed write shows in ferror */
	cache_free(app.cache);
	db_free(app.db);
	return ferror(stdout) ? 1 : 0;
}
