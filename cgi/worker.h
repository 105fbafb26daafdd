/* worker.h - serving requests: the FastCGI accept loop and plain CGI. */
#ifndef IMAGEREG_WORKER_H
#define IMAGEREG_WORKER_H

#include "db.h"

struct account;
struct generation;
struct seal_key;

/* How every worker serves: its database, the at-rest key, authentication. */
struct serve_options {
	struct db_options db;
	const struct seal_key *key;
	int auth;
	int max_body;               /* bytes */
	const char *cors_origins;   /* space-separated; "" = CORS off */
	int check_timeout_ms;       /* registry check time limit */
	const char *check_allow_networks; /* space-separated CIDRs the check may reach; "" = none */
	int check_concurrency;      /* check_concurrency as configured; 0 = derived from workers */
	int workers;                /* how many workers share the host's outbound slots */
	const char *outbound_file;  /* generation_file: holds the outbound slots */
	struct generation *gen;     /* shared change counters; NULL: the cache lives one request */
	int cache_max_age_s;        /* longest a cached answer goes unchecked with PostgreSQL */
	const struct account *become; /* the account preforked workers switch to; NULL: none */
};

/*
 * Accepts FastCGI requests on listen_fd until SIGTERM or SIGINT; the request
 * in flight is finished first.  Returns the process exit status.
 */
int worker_run_fcgi(int listen_fd, const struct serve_options *opts);

/* Serves the one request of a CGI invocation (environment, stdin, stdout). */
int worker_run_cgi(const struct serve_options *opts);

#endif
