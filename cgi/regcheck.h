/*
 * regcheck.h - checks a registry before (or after) it is saved: talks the
 * Docker Registry HTTP API v2 (GET /v2/, the WWW-Authenticate challenge,
 * Basic or Bearer token authentication) with libcurl, behind an SSRF guard.
 * Knows nothing of FastCGI or the database: settings in, a result out.
 * The guard's address rules are regcheck_net.h; the challenge parser is
 * regcheck_challenge.h.
 */
#ifndef IMAGEREG_REGCHECK_H
#define IMAGEREG_REGCHECK_H

#include <stddef.h>

/* Callers build the allow-list regcheck_options points to. */
#include "regcheck_net.h"

struct json_object;

/* What failed; the names are the API's error_kind values. */
enum regcheck_kind {
	RC_OK,                  /* every step passed: error_kind null */
	RC_DNS,                 /* the host name does not resolve */
	RC_CONNECT,             /* no TCP connection, or the SSRF guard refused the address */
	RC_TLS,                 /* handshake or certificate verification failed */
	RC_NOT_A_REGISTRY,      /* something answered, but /v2/ is not the Registry API v2 */
	RC_AUTH,                /* credentials missing, refused, or no token */
	RC_TIMEOUT,             /* no answer within the timeout */
	RC_UNSUPPORTED,         /* the check cannot be done for this provider (ecr) */
	RC__MAX
};

/* The error_kind text of k ("dns", ...); NULL for RC_OK. */
const char *regcheck_kind_name(enum regcheck_kind k);

/* The settings to check, as a POST body or a stored row has them; all borrowed. */
struct regcheck_input {
	const char *address;    /* http(s)://host[:port][/path]; /v2/ is asked at the host's root */
	const char *provider;   /* "ecr" is not checked (SigV4), anything else is */
	const char *namespace;  /* NULL or "": no namespace probe */
	int enable_tls;         /* 1: tls_cert is the only trust anchor */
	const char *tls_cert;   /* PEM certificates, or NULL */
	const char *access_key; /* NULL or "" with secret_key NULL or "": no credentials */
	const char *secret_key;
	/*
	 * 1: the credentials are stored ones, which never go over plain http:
	 * a write token could otherwise point a registry at http:// on the same
	 * host (keeping its credentials) and read them off the wire.
	 */
	int stored_credentials;
};

struct regcheck_options {
	int timeout_ms;                     /* the whole check, every request included */
	const struct regcheck_net *allow;   /* networks the SSRF guard lets through */
	size_t nallow;
};

struct regcheck_result {
	int checked;            /* 0: not run (ecr); the four booleans are then unknown */
	int reachable;          /* a TCP (and TLS) connection was made and HTTP answered */
	int tls_verified;       /* https, and the peer's certificate verified */
	int registry_api;       /* /v2/ proved a Registry API v2: its header, or a Bearer challenge */
	int authenticated;      /* the credentials were accepted, or none were needed */
	long latency_ms;        /* the whole check */
	int namespace_known;    /* the catalog answered the namespace probe */
	int namespace_visible;  /* a repository "<namespace>/..." is in the catalog the credentials see */
	int cert_days_known;    /* https, and the certificate's expiry was read */
	long cert_days;         /* days until the registry's certificate expires (under 14: a warning) */
	enum regcheck_kind kind;
	char error[320];        /* a sentence for people when kind != RC_OK; never a secret */
	char warning[640];      /* "" or caveats about a passing check, joined by "; " */
};

/*
 * Runs the check.  Never fails as a function: every problem is described in
 * *res.  Holds nothing after it returns: the token is wiped, the copies curl
 * made of the credentials are freed.  curl_global_init must have run.
 */
void regcheck_run(const struct regcheck_input *in, const struct regcheck_options *opts,
		  struct regcheck_result *res);

/*
 * For a stored registry whose sealed credentials the key could not open, so
 * that it was checked without them: unless the check failed before
 * authentication mattered, the result says so rather than what the registry
 * said about no credentials.
 */
void regcheck_credentials_unopened(struct regcheck_result *res);

/*
 * The result as the API answers it: checked_address, reachable,
 * tls_verified, registry_api, authenticated, namespace_visible (null when
 * not probed), cert_expires_in_days (null unless https), latency_ms, error,
 * error_kind,
 * warning (error, error_kind and warning are null when there is nothing to
 * say; the booleans are null only when checked is 0).  Caller owns it.
 */
struct json_object *regcheck_result_json(const struct regcheck_result *res, const char *address);

/* ------------------------------------------------------------------------- */
/* Browsing what a registry holds, through the check's transport: the same    */
/* SSRF guard, TLS settings, Basic and Bearer challenges, and time limit.     */
/* ------------------------------------------------------------------------- */

enum regbrowse_what { BROWSE_REPOSITORIES, BROWSE_TAGS };

struct regbrowse_request {
	enum regbrowse_what what;
	const char *namespace;  /* repositories: those named "<namespace>/..."; NULL or "": every one */
	const char *repository; /* tags: the repository ("ns/app") */
	const char *q;          /* keep names containing q (ASCII case-insensitive); NULL or "": all */
	int first_only;         /* repositories: stop at the first match (is the namespace visible?) */
	size_t digest_from;     /* tags: the manifest digests of names[digest_from..+digest_count] */
	size_t digest_count;
};

struct regbrowse_result {
	struct regcheck_result res;     /* kind RC_OK, or what failed (RC_UNSUPPORTED: ecr, Docker Hub's catalog) */
	char **names;                   /* the matching names in the registry's order; owned, see regbrowse_free */
	char **digests;                 /* tags: NULL, or per name a digest or NULL; owned */
	size_t n, cap;
	int pages;                      /* registry pages read */
	int not_found;                  /* tags: the registry has no such repository (404) */
};

/*
 * Lists the repositories under a namespace (the catalog, GET /v2/_catalog,
 * from last=<namespace> on, n/last paging and Link rel="next" followed) or a
 * repository's tags (GET /v2/<name>/tags/list, and HEAD
 * /v2/<name>/manifests/<tag> for the digests asked for).  Never fails as a
 * function; free *out with regbrowse_free whatever happened.
 */
void regbrowse_run(const struct regcheck_input *in, const struct regbrowse_request *rq,
		   const struct regcheck_options *opts, struct regbrowse_result *out);

void regbrowse_free(struct regbrowse_result *out);

#endif
