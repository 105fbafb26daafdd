/*
 * cache.h - what a worker keeps between requests so that reads need no
 * database round trip: the registry list (rendered as JSON once per change)
 * and the tokens it has checked.
 *
 * Consistency: a trigger (sql/003) NOTIFYs on every change to registry and
 * api_token and the worker LISTENs; cache_sync reads the notifications that
 * have arrived without blocking.  Writers on this host also bump a counter
 * in shared memory (generation.h) after their commit, before they answer, so
 * a write that has returned is seen by the next request to any worker here.
 * Without a counter file the cache lives for one request only.
 */
#ifndef IMAGEREG_CACHE_H
#define IMAGEREG_CACHE_H

#include "generation.h"
#include "list_query.h"
#include "req.h"

#include <stddef.h>
#include <stdint.h>

struct db;
struct json_object;

/* One registry as the API shows it. */
struct cached_registry {
	char id[REGISTRY_ID_LEN + 1];
	char version[21];               /* row version in decimal: the ETag is "<version>" */
	long long created_us;           /* the list's order is (created_us, id) */
	uint32_t xmin;                  /* the row version's transaction: its share of the fingerprint */
	char *text;                     /* one block: json, then the three strings below; owned by the cache */
	const char *json;               /* the response object serialized (in text) */
	size_t json_len;
	/* What the list filters look at (in text). */
	const char *address;
	const char *provider;
	const char *namespace;
	int is_default;
};

/*
 * How many registries matched a filter, kept until the items change, so
 * that a page of a filtered list need not look at every row to say
 * X-Total-Count: paging through a console's filtered list, page 1 at
 * 10,000 rows looked at 10,000 rows for 20.  A few filters are kept, the
 * oldest replaced.
 */
#define FILTER_TOTALS 4

struct filter_total {
	int used;
	char provider[sizeof ((struct list_query *)0)->provider];
	int is_default;
	size_t q_len;
	char q[LIST_Q_MAX + 1];
	size_t total;
};

/* Every registry, oldest first, and the list response already serialized. */
struct registry_set {
	size_t n;
	size_t cap;                     /* items allocated */
	struct cached_registry *items;
	char *list_json;                /* the whole list's answer, rendered on first use after a change */
	size_t list_len;
	int list_stale;                 /* list_json is not the items' any more (NULL then) */
	/* The id index (registry_find): open addressing, each slot an index into items plus one, 0 when empty;
	 * nslots a power of two, at least twice n.  Rebuilt with the list, so GET one costs the same at 10 rows
	 * and at 10,000. */
	uint32_t *slots;
	size_t nslots;
	struct filter_total totals[FILTER_TOTALS]; /* emptied with the list's answer (set_list_stale) */
	unsigned totals_next;           /* the slot the next filter takes */
};

struct cache;

/*
 * gen may be NULL (plain CGI, or no counter file): then nothing outlives a
 * request.  max_age_s (cache_max_age) bounds how long the list and a token
 * verdict are used without asking PostgreSQL, for writes that sent no
 * notification; token verdicts are re-checked at least once a minute.
 * cluster (coherence = cluster) makes cache_sync confirm with PostgreSQL,
 * one round trip, that it has every notification of the changes committed
 * before the request: exact across hosts.
 */
struct cache *cache_new(struct db *db, struct generation *gen, int max_age_s, int cluster);
void cache_free(struct cache *c);

/*
 * Once per request, before anything is answered from the cache: connects if
 * needed, reads the notifications that have arrived (in cluster mode after a
 * round trip that brings every one already committed) and compares the
 * shared counters, and forgets what changed.  Returns 0, or -1 when the database is
 * unreachable (its state cannot be known: the caller answers 503).
 */
int cache_sync(struct cache *c);

/*
 * The registries, loaded when they changed.  Returns 200 and sets *set
 * (valid until the next cache_sync), or an HTTP status with msg filled.
 */
int cache_registries(struct cache *c, const struct registry_set **set, char *msg, size_t msgsize);

/*
 * The whole list's JSON, after cache_registries: rendered from the items'
 * cached texts when a change made it stale, so a write costs its rows, and
 * the copy of the list is paid once by the next GET list.  0, or -1 when out
 * of memory.
 */
int cache_list_json(struct cache *c, const char **json, size_t *len);

/*
 * After cache_registries: 1 and *total when the registries matching q's
 * filters (provider, is_default, q; not the paging) were counted since the
 * items last changed, else 0.  cache_filter_total_keep records a count.
 */
int cache_filter_total(struct cache *c, const struct list_query *q, size_t *total);
void cache_filter_total_keep(struct cache *c, const struct list_query *q, size_t total);

/* The registry with this id in set, or NULL. */
const struct cached_registry *registry_find(const struct registry_set *set, const char *id);

enum token_verdict { TOKEN_UNKNOWN, TOKEN_READ, TOKEN_WRITE, TOKEN_DB_DOWN };

/*
 * Checks a token by its SHA-256 in bytea text form; the name goes to
 * name[0..namesize).  A cached verdict is used for up to a minute, after which
 * the database is asked again (and stamps last_used_at).
 */
enum token_verdict cache_token(struct cache *c, const char *hash_bytea, char *name, size_t namesize);

/* After a write statement ran, committed or not: tells every worker here. */
void cache_written(struct cache *c, enum generation_kind kind);

#endif
