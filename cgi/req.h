/* req.h - the per-request context every handler receives. */
#ifndef IMAGEREG_REQ_H
#define IMAGEREG_REQ_H

#include <stddef.h>

struct json_object;
struct cache;
struct db;
struct seal_key;

/* What every request of a worker shares: set up once at start. */
struct config;

struct app {
	const struct config *cfg;       /* every setting (auth_required, max_body, cors_origins, check_*) */
	struct db *db;                  /* the worker's connection */
	struct cache *cache;            /* what it remembers between requests; NULL only in tests */
	const struct seal_key *key;     /* seals credentials; NULL only in tests */
	int check_concurrency;          /* outbound slots on this host, derived; 0 only in tests: unbounded */
};

/* Longest API token name (api_token_name_shape). */
#define ACTOR_MAX 64

/*
 * How a request reaches us: FastCGI (fcgiapp streams), plain CGI (environment,
 * stdin, stdout) or a test.  The rest of the code only sees these functions.
 */
struct req_io {
	/* The CGI parameter NAME, or NULL when absent. */
	const char *(*param)(void *ctx, const char *name);
	/* Reads up to n body bytes; returns the count, 0 at end, -1 on error. */
	int (*read)(void *ctx, char *buf, int n);
	/* Writes n bytes of response; returns -1 on error. */
	int (*write)(void *ctx, const char *buf, int n);
	/*
	 * Sends what is buffered and ends the response; returns -1 on error.
	 * Called once, after the last write and the access line: the client
	 * has its answer before the worker's checks for closing the connection.
	 */
	int (*end)(void *ctx);
	void *ctx;
};

/* Length of an id: 24 lowercase hex characters, like a Mongo ObjectID. */
#define REGISTRY_ID_LEN 24

/* Default largest request body (max_body); larger ones get 413 before any byte is read. */
#define MAX_BODY_BYTES (1024 * 1024)

struct req {
	const struct req_io *io;
	struct db *db;                  /* the worker's connection; borrowed */
	struct cache *cache;            /* the worker's cache; borrowed */
	const struct seal_key *key;     /* the at-rest key; borrowed */
	char actor[ACTOR_MAX + 8];      /* token name, for the audit trail and logs */
	const char *method;             /* REQUEST_METHOD, never NULL */
	const char *path;               /* PATH_INFO below the mount point, never NULL */
	char id[REGISTRY_ID_LEN + 1];   /* the :id of the path, when the route has one */
	struct json_object *body;       /* parsed body when the route takes one; owned */
	int status;                     /* status sent, 0 until a response went out */
	const struct config *cfg;       /* the settings; borrowed */
	char cors[384];                 /* CORS header lines for this origin, or "" */
	int check_concurrency;          /* from struct app */
};

#endif
