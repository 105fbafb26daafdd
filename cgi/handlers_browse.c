/*
 * handlers_browse.c - browsing a stored registry: the repositories under its
 * namespace and one repository's tags, read from the registry itself through
 * the check's transport (cgi/regcheck.c): the same SSRF guard, TLS settings,
 * Basic and Bearer challenges, check_timeout, and host-wide check_concurrency.
 *
 * A repository name holds '/', so the tags route takes it as a query
 * parameter (?repository=ns/app): a %2F in the path is refused before any
 * handler runs, and nginx would decode it anyway.
 */
#include "handlers_browse.h"
#include "handlers.h"
#include "handlers_check.h"
#include "crypto.h"
#include "db.h"
#include "list_query.h"
#include "log.h"
#include "outbound.h"
#include "regcheck.h"
#include "resp.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The HTTP status of a browse that failed, by what failed. */
static int failure_status(const struct regbrowse_result *b)
{
	if (b->not_found)
		return 404;
	switch (b->res.kind) {
	case RC_UNSUPPORTED:
		return 422;     /* the request is fine; this registry cannot answer it */
	case RC_TIMEOUT:
		return 504;
	default:
		return 502;     /* the registry failed us, not the client: not a 401/403 of ours */
	}
}

/*
 * The query (q, page, page_size, and repository for tags) into *q; 0, or -1
 * after answering 400.  provider and is_default filter registries, not what
 * a registry holds: refused rather than ignored.
 */
static int browse_query(struct req *r, struct list_query *q, int tags)
{
	char err[256];

	if (list_query_parse(r->io->param(r->io->ctx, "QUERY_STRING"), q, err, sizeof err) < 0) {
		resp_error(r, 400, "%s", err);
		return -1;
	}
	if (q->seen & (1u << LQ_PROVIDER | 1u << LQ_IS_DEFAULT | (tags ? 0 : 1u << LQ_REPOSITORY))) {
		resp_error(r, 400, "query parameter %s does not apply to this route",
			   q->seen & 1u << LQ_PROVIDER ? "provider" : q->seen & 1u << LQ_IS_DEFAULT ? "is_default"
			   : "repository");
		return -1;
	}
	if (tags && q->repository[0] == '\0') {
		resp_error(r, 400, "query parameter repository is required (?repository=namespace/name)");
		return -1;
	}
	return 0;
}

/*
 * The page of names [from, to) as a JSON array of {"name"} (and "digest" for
 * tags), sent with X-Total-Count.
 */
static void send_page(struct req *r, const struct regbrowse_result *b, size_t from, size_t to)
{
	struct json_object *arr = json_object_new_array();
	char header[64];

	for (size_t i = from; i < to; i++) {
		struct json_object *item = json_object_new_object();

		json_object_object_add(item, "name", json_object_new_string(b->names[i]));
		if (b->digests != NULL)
			json_object_object_add(item, "digest", b->digests[i] ? json_object_new_string(b->digests[i])
								  : NULL);
		json_object_array_add(arr, item);
	}
	snprintf(header, sizeof header, "X-Total-Count: %zu\r\n", b->n);
	resp_json(r, 200, header, arr);
	json_object_put(arr);
}

/*
 * Both routes: the stored registry, its credentials, one slot, the registry's
 * pages.  200 list with X-Total-Count, 400 naming the parameter, 404 (no such
 * registry, or the registry has no such repository), 422 unsupported (ecr;
 * Docker Hub's catalog; a registry without the catalog API), 429 with
 * Retry-After (check_concurrency), 502 (the registry failed or refused the
 * stored credentials), 503, 504 (check_timeout ran out).
 */
static void browse(struct req *r, enum regbrowse_what what)
{
	struct list_query q;
	struct regbrowse_result b;
	char *access = NULL, *secret = NULL;
	PGresult *res = NULL;
	int slot = -1;

	memset(&b, 0, sizeof b);
	if (browse_query(r, &q, what == BROWSE_TAGS) < 0)
		return;
	res = check_target_load(r);
	if (res == NULL)
		goto out;
	const char *namespace = PQgetvalue(res, 0, CHK_NAMESPACE);
	size_t ns_len = strlen(namespace);
	if (what == BROWSE_TAGS && ns_len > 0 &&
	    (strncmp(q.repository, namespace, ns_len) != 0 || q.repository[ns_len] != '/')) {
		/* Browsing is for what the registry entry is about: its namespace. */
		resp_error(r, 400, "query parameter repository must name a repository under the registry's"
			   " namespace (%s/...)", namespace);
		goto out;
	}
	if (unseal_stored(r, res, CHK_ACCESS_KEY_SEALED, "access_key", &access) < 0 ||
	    unseal_stored(r, res, CHK_SECRET_KEY_SEALED, "secret_key", &secret) < 0) {
		log_warn("registry %s: stored credentials cannot be opened with key %s; not browsed", r->id,
			 r->key ? r->key->id : "-");
		resp_error(r, 502, "the stored credentials cannot be opened with this key (sealed under another"
			   " key: finish the key rotation)");
		goto out;
	}
	struct regcheck_options opts = check_options(r);
	size_t from = q.page > 0 ? (size_t)(q.page - 1) * (size_t)q.page_size : 0;
	const struct regcheck_input in = {
		.address = PQgetvalue(res, 0, CHK_ADDRESS), .provider = PQgetvalue(res, 0, CHK_PROVIDER),
		.enable_tls = PQgetvalue(res, 0, CHK_ENABLE_TLS)[0] == 't',
		.tls_cert = PQgetisnull(res, 0, CHK_TLS_CERT) ? NULL : PQgetvalue(res, 0, CHK_TLS_CERT),
		.access_key = access, .secret_key = secret, .stored_credentials = 1, .namespace = namespace,
	};
	/* Digests for the page shown (all of an unpaged list, up to a page's worth). */
	const struct regbrowse_request rq = {
		.what = what, .namespace = namespace, .repository = q.repository, .q = q.q,
		.digest_from = from, .digest_count = q.page > 0 ? (size_t)q.page_size : LIST_PAGE_SIZE_MAX,
	};
	if (outbound_take(r, &slot) < 0)
		goto out;
	regbrowse_run(&in, &rq, &opts, &b);
	outbound_release(slot);
	slot = -1;
	log_info("browse registry %s %s: %s kind=%s %zu names %d pages %ldms", r->id,
		 what == BROWSE_TAGS ? "tags" : "repositories", b.res.kind == RC_OK ? "ok" : "failed",
		 b.res.kind == RC_OK ? "-" : regcheck_kind_name(b.res.kind), b.n, b.pages, b.res.latency_ms);
	if (b.res.kind != RC_OK) {
		resp_error(r, failure_status(&b), "%s", b.res.error);
		goto out;
	}
	size_t to = q.page > 0 ? from + (size_t)q.page_size : b.n;
	send_page(r, &b, from < b.n ? from : b.n, to < b.n ? to : b.n);
out:
	regbrowse_free(&b);
	secret_free(access);
	secret_free(secret);
	PQclear(res);
	outbound_release(slot);
}

void h_registry_repositories(struct req *r)
{
	browse(r, BROWSE_REPOSITORIES);
}

void h_registry_tags(struct req *r)
{
	browse(r, BROWSE_TAGS);
}
