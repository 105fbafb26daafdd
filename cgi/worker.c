/* worker.c - the FastCGI accept loop and the plain-CGI one-shot. */
#include "worker.h"
#include "outbound.h"
#include "app.h"
#include "cache.h"
#include "log.h"

#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

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

int worker_run_fcgi(int listen_fd, const struct serve_options *opts)
{
	struct sigaction sa;
	FCGX_Request fr;
	struct req_io io = { fcgx_param, fcgx_read, fcgx_write, &fr };
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
	 * SIGTERM and SIGINT stay blocked except inside pselect() below, which
	 * unblocks them and waits for a connection in one step: a stop signal
	 * is never lost between testing the flag and blocking in accept(), and
	 * never interrupts a request's reads and writes (it waits until the
	 * request is answered).  The listening socket is non-blocking, so a
	 * worker that loses the race for a connection to another one comes
	 * back to pselect() instead of sleeping in accept() with signals blocked.
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
	while (!stop_requested) {
		fd_set readable;
		int db_fd = db_idle_socket(app.db);
		int watch_db = db_fd >= 0 && db_fd < FD_SETSIZE;

		FD_ZERO(&readable);
		FD_SET(listen_fd, &readable);
		if (watch_db)
			FD_SET(db_fd, &readable);
		if (pselect((watch_db && db_fd > listen_fd ? db_fd : listen_fd) + 1, &readable, NULL, NULL, NULL,
			    &waiting) < 0) {
			if (errno == EINTR)
				continue;
			log_error("waiting for a connection failed: %s", strerror(errno));
			status = 1;
			break;
		}
		/* Notifications that came while idle are taken now; none: the request need not look again. */
		if (watch_db)
			db_idle_read(app.db, FD_ISSET(db_fd, &readable));
		if (!FD_ISSET(listen_fd, &readable))
			continue;
		int accepted = FCGX_Accept_r(&fr);     /* 0, or -errno */

		if (accepted == -EAGAIN || accepted == -EWOULDBLOCK)
			continue;       /* another worker took the connection */
		if (accepted < 0) {
			log_error("accept failed: %s", strerror(-accepted));
			status = 1;
			break;
		}
		app_handle(&io, &app);
		FCGX_Finish_r(&fr);
	}
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

int worker_run_cgi(const struct serve_options *opts)
{
	struct req_io io = { cgi_param, cgi_read, cgi_write, NULL };
	/* One request: nothing to share, so no counters. */
	struct app app = app_new(opts, NULL);
	if (app.cache == NULL) {
		db_free(app.db);
		return 1;
	}
	app_handle(&io, &app);
	cache_free(app.cache);
	db_free(app.db);
	return fflush(stdout) == 0 ? 0 : 1;
}
