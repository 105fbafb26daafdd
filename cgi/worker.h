/* worker.h - serving requests: the FastCGI accept loop and plain CGI. */
#ifndef IMAGEREG_WORKER_H
#define IMAGEREG_WORKER_H

#include "config.h"
#include "db.h"

#include <stdint.h>

struct account;
struct generation;
struct seal_key;

/* How every worker serves: its database, the at-rest key, authentication. */
struct serve_options {
	const struct config *cfg;   /* every setting, and what config_load derived from them */
	const struct seal_key *key;
	int workers;                /* how many workers share the host's outbound slots */
	struct generation *gen;     /* shared change counters; NULL: the cache lives one request */
	const struct account *become; /* the account preforked workers switch to; NULL: none */
	int64_t *last_finished_us;  /* shared by preforked workers: when one of them last finished a request; NULL: alone */
};

/*
 * Accepts FastCGI requests on listen_fd until SIGTERM or SIGINT; the request
 * in flight is finished first.  Returns the process exit status.
 */
int worker_run_fcgi(int listen_fd, const struct serve_options *opts);

/* Serves the one request of a CGI invocation (environment, stdin, stdout). */
int worker_run_cgi(const struct serve_options *opts);

#endif
