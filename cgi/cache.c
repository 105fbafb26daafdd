/* cache.c - the per-worker registry list and token verdicts, and when to forget them. */
#include "cache.h"
#include "clock.h"
#include "crypto.h"
#include "db.h"
#include "log.h"

#include <json-c/json.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A token verdict is trusted at most this long (and cache_max_age), then checked and stamped again. */
#define TOKEN_RECHECK_US (60 * 1000000LL)
/* Direct-mapped by the first byte of the hash: bounded memory whatever clients send. */
#define TOKEN_SLOTS 256
#define HASH_TEXT_LEN (2 + 2 * SHA256_BYTES)

struct token_slot {
	char hash[HASH_TEXT_LEN + 1];   /* "" when empty */
	char name[ACTOR_MAX + 1];
	enum token_verdict verdict;
	int64_t checked_us;
};

struct cache {
	struct db *db;
	struct generation *gen;
	int cluster;                    /* coherence = cluster: confirm with PostgreSQL before every answer */
	int64_t max_age_us;             /* cache_max_age: the bound for writes nobody told us about */
	int64_t registries_expire_us;   /* when the list is compared with the table, notification or not */
	uint64_t rand_state;            /* spreads the workers' expiries (xorshift; not for secrets) */
	uint64_t seen[GEN__MAX];        /* the shared counters as cache_sync read them */
	int registries_loaded;
	uint64_t registries_gen;        /* counter value the registries were loaded under */
	uint64_t rows_gen;              /* GEN_REGISTRY_ROWS as the last cache_sync took it in */
	struct registry_set set;
	struct db_ids pending;          /* rows changed since the set was read or refreshed */
	uint64_t tokens_gen;            /* counter value the token verdicts date from */
	struct token_slot tokens[TOKEN_SLOTS];
};


struct cache *cache_new(struct db *db, struct generation *gen, int max_age_s, int cluster)
{
	struct cache *c = calloc(1, sizeof *c);

	if (c != NULL) {
		c->db = db;
		c->gen = gen;
		c->cluster = cluster;
		c->max_age_us = (int64_t)(max_age_s > 0 ? max_age_s : 30) * 1000000;
		if (c->max_age_us > TOKEN_RECHECK_US)
			c->max_age_us = TOKEN_RECHECK_US;
		c->rand_state = (uint64_t)clock_us() * 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
		if (c->rand_state == 0)
			c->rand_state = 1;
	}
	return c;
}

/*
 * How long a list just read or confirmed may be answered from: between half
 * of cache_max_age and all of it, a different draw each time.  The bound for
 * writes nobody told us about stays cache_max_age; what the spread buys is
 * that the workers, which all read the list again after the same change,
 * do not all compare it with the table (set_confirmed), and after a write
 * that fired no trigger all read it again, at the same moment 30 s later.
 * At 10,000 registries 8 reads of 2 MB at once on 2 cores took 0.6 s each,
 * and every request waited behind them: a p99 of one second in a quiet run.
 */
static int64_t list_lifetime(struct cache *c)
{
	uint64_t x = c->rand_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	c->rand_state = x;
	return c->max_age_us / 2 + (int64_t)(x % (uint64_t)(c->max_age_us / 2 + 1));
}

/* A set this large, once freed, leaves memory worth giving back to the system. */
#define TRIM_ITEMS 256

static void set_clear(struct registry_set *set)
{
	size_t n = set->n;

	for (size_t i = 0; i < set->n; i++)
		free(set->items[i].text);
	free(set->items);
	free(set->list_json);
	free(set->slots);
	memset(set, 0, sizeof *set);
#ifdef __GLIBC__
	/* free() keeps the heap's top; after a bulk load is gone, shrink back. */
	if (n >= TRIM_ITEMS)
		malloc_trim(0);
#endif
}

static void forget_registries(struct cache *c)
{
	set_clear(&c->set);
	c->registries_loaded = 0;
	c->pending.n = 0;
}

static void forget_tokens(struct cache *c)
{
	for (size_t i = 0; i < TOKEN_SLOTS; i++)
		c->tokens[i].hash[0] = '\0';
	c->tokens_gen = c->seen[GEN_TOKENS];
}

void cache_free(struct cache *c)
{
	if (c == NULL)
		return;
	forget_registries(c);
	free(c);
}

/* Without the database nothing held can be vouched for: forget it all.  Returns -1 for cache_sync. */
static int lost_database(struct cache *c)
{
	forget_registries(c);
	forget_tokens(c);
	return -1;
}

int cache_sync(struct cache *c)
{
	unsigned changed;

	/*
	 * The counters first: every write they count committed before the round
	 * trip or the read below, so its notification is among what we take
	 * then, and a load after this sees it.
	 */
	for (int k = 0; k < GEN__MAX; k++)
		c->seen[k] = generation_get(c->gen, k);
	if ((c->cluster ? db_confirm(c->db) : db_ready(c->db)) < 0)
		return lost_database(c);
	changed = db_changes(c->db, &c->pending);
	/* Without shared counters another worker's write could be missed. */
	if (c->gen == NULL)
		changed = DB_CHANGED_ALL;
	/*
	 * GEN_REGISTRY_ROWS moved: a worker here wrote rows, saw PostgreSQL send
	 * its own notification naming them (cache_written), then moved the
	 * counter.  That notification reaches this session within one round
	 * trip, and those rows are all there is to read again.  (The cluster
	 * mode's round trip above came after the counter was read: done.)
	 */
	if (c->registries_loaded && c->seen[GEN_REGISTRY_ROWS] != c->rows_gen &&
	    !(changed & DB_CHANGED_REGISTRY) && !c->cluster) {
		if (db_confirm(c->db) < 0)
			return lost_database(c);
		changed |= db_changes(c->db, &c->pending);
	}
	c->rows_gen = c->seen[GEN_REGISTRY_ROWS];
	/*
	 * GEN_REGISTRY moved: a write here that nobody was told the rows of
	 * (triggers off, too many rows, the CLI).  A write that fired no trigger
	 * anywhere (session_replication_role = replica, disabled triggers, a
	 * restore) sends no notification at all: age is the bound, and at that
	 * age cache_registries compares the table with what we hold.
	 */
	if ((changed & DB_CHANGED_REGISTRY) || c->seen[GEN_REGISTRY] != c->registries_gen)
		forget_registries(c);
	if (!c->registries_loaded)
		c->pending.n = 0;                        /* the next load reads them anyway */
	if ((changed & DB_CHANGED_TOKENS) || c->seen[GEN_TOKENS] != c->tokens_gen)
		forget_tokens(c);
	return 0;
}

/*
 * The six Zadig fields of row i, then has_credentials and
 * credentials_updated_at (extra fields do not disturb Zadig's clients).
 * The version goes to the ETag header, not into the body.
 */
static struct json_object *registry_json(const PGresult *res, int i)
{
	static const struct { const char *field; enum registry_col col; } strings[] = {
		{ "registry_id", REG_ID }, { "address", REG_ADDRESS }, { "provider", REG_PROVIDER },
		{ "region", REG_REGION }, { "namespace", REG_NAMESPACE },
	};
	struct json_object *obj = json_object_new_object();

	for (size_t k = 0; k < sizeof strings / sizeof strings[0]; k++)
		json_object_object_add(obj, strings[k].field,
				       json_object_new_string(PQgetvalue(res, i, strings[k].col)));
	json_object_object_add(obj, "is_default",
			       json_object_new_boolean(PQgetvalue(res, i, REG_IS_DEFAULT)[0] == 't'));
	json_object_object_add(obj, "has_credentials",
			       json_object_new_boolean(PQgetvalue(res, i, REG_HAS_CREDENTIALS)[0] == 't'));
	json_object_object_add(obj, "credentials_updated_at", PQgetisnull(res, i, REG_CREDENTIALS_UPDATED_AT) ? NULL
			       : json_object_new_string(PQgetvalue(res, i, REG_CREDENTIALS_UPDATED_AT)));
	return obj;
}

/*
 * Fills item from row i of a registry statement's result; 0, or -1 when out
 * of memory.  The item keeps its serialized JSON and the filters' strings in
 * one block of its own (text), not the json-c object they came from: that
 * object and its members cost about 2.5 KB a row, the block about 300 bytes,
 * and at 10,000 rows the difference (25 MB a worker) was paid in page faults
 * at every reload.
 */
static int item_fill(struct cached_registry *item, const PGresult *res, int i)
{
	struct json_object *obj = registry_json(res, i);
	size_t json_len = 0;
	const char *json = json_object_to_json_string_length(obj,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &json_len);
	const char *address = PQgetvalue(res, i, REG_ADDRESS), *provider = PQgetvalue(res, i, REG_PROVIDER),
		   *namespace = PQgetvalue(res, i, REG_NAMESPACE);
	size_t a = strlen(address) + 1, p = strlen(provider) + 1, n = strlen(namespace) + 1;
	char *text = json != NULL ? malloc(json_len + 1 + a + p + n) : NULL;

	if (text == NULL) {
		json_object_put(obj);
		return -1;
	}
	memcpy(text, json, json_len + 1);
	json_object_put(obj);
	item->text = text;
	item->json = text;
	item->json_len = json_len;
	item->address = memcpy(text + json_len + 1, address, a);
	item->provider = memcpy(text + json_len + 1 + a, provider, p);
	item->namespace = memcpy(text + json_len + 1 + a + p, namespace, n);
	snprintf(item->id, sizeof item->id, "%s", PQgetvalue(res, i, REG_ID));
	snprintf(item->version, sizeof item->version, "%s", PQgetvalue(res, i, REG_VERSION));
	item->created_us = strtoll(PQgetvalue(res, i, REG_CREATED_US), NULL, 10);
	item->is_default = PQgetvalue(res, i, REG_IS_DEFAULT)[0] == 't';
	item->xmin = (uint32_t)strtoul(PQgetvalue(res, i, REG_XMIN), NULL, 10);
	return 0;
}

/* The list answer from the items' JSON, byte for byte what serializing the array would give; 0 or -1. */
static int set_render(struct registry_set *set)
{
	size_t total = 2;
	char *p, *json;

	for (size_t i = 0; i < set->n; i++)
		total += set->items[i].json_len + 1;
	p = json = malloc(total);
	if (json == NULL)
		return -1;
	*p++ = '[';
	for (size_t i = 0; i < set->n; i++) {
		if (i > 0)
			*p++ = ',';
		memcpy(p, set->items[i].json, set->items[i].json_len);
		p += set->items[i].json_len;
	}
	*p++ = ']';
	free(set->list_json);
	set->list_json = json;
	set->list_len = (size_t)(p - json);
	return 0;
}

/* FNV-1a over the id's hex digits: ObjectIds differ mostly in their last digits (a counter), so all of them count. */
static size_t id_hash(const char *id)
{
	uint64_t h = 1469598103934665603ULL;

	for (int i = 0; i < REGISTRY_ID_LEN && id[i] != '\0'; i++)
		h = (h ^ (unsigned char)id[i]) * 1099511628211ULL;
	return (size_t)h;
}

/* Builds the id index over the items as they are now; 0, or -1 when out of memory. */
static int set_index(struct registry_set *set)
{
	size_t nslots = 16;
	uint32_t *slots;

	while (nslots < 2 * set->n)
		nslots *= 2;
	slots = calloc(nslots, sizeof *slots);
	if (slots == NULL)
		return -1;
	for (size_t i = 0; i < set->n; i++) {
		size_t at = id_hash(set->items[i].id) & (nslots - 1);

		while (slots[at] != 0)
			at = (at + 1) & (nslots - 1);
		slots[at] = (uint32_t)(i + 1);
	}
	free(set->slots);
	set->slots = slots;
	set->nslots = nslots;
	return 0;
}

/* After the items changed: the list answer goes stale (and its memory back), rendered again on first use. */
static void set_list_stale(struct registry_set *set)
{
	free(set->list_json);
	set->list_json = NULL;
	set->list_len = 0;
	set->list_stale = 1;
	memset(set->totals, 0, sizeof set->totals);
}

/* The item with this id, through the index (valid while the items keep their places), or NULL. */
static struct cached_registry *item_find(const struct registry_set *set, const char *id)
{
	if (set->nslots == 0)
		return NULL;
	for (size_t at = id_hash(id) & (set->nslots - 1); set->slots[at] != 0; at = (at + 1) & (set->nslots - 1)) {
		struct cached_registry *item = &set->items[set->slots[at] - 1];

		if (memcmp(item->id, id, REGISTRY_ID_LEN + 1) == 0)
			return item;
	}
	return NULL;
}

/* Builds set from the list query's rows; 0, or -1 when out of memory. */
static int set_build(struct registry_set *set, const PGresult *res)
{
	size_t n = (size_t)PQntuples(res);

	set->items = calloc(n ? n : 1, sizeof *set->items);
	if (set->items == NULL)
		return -1;
	set->cap = n ? n : 1;
	for (size_t i = 0; i < n; i++) {
		set->n = i + 1;
		if (item_fill(&set->items[i], res, (int)i) < 0)
			return -1;
	}
	set_list_stale(set);
	return set_index(set);
}

/* The list's order: oldest first, then by id (ORDER BY created_at, id). */
static int item_order(const void *a, const void *b)
{
	const struct cached_registry *x = a, *y = b;

	if (x->created_us != y->created_us)
		return x->created_us < y->created_us ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* Grows items to hold n more; 0, or -1 when out of memory. */
static int set_reserve(struct registry_set *set, size_t more)
{
	struct cached_registry *items;
	size_t cap;

	if (set->n + more <= set->cap)
		return 0;
	cap = (set->n + more) * 2 + 16;
	items = realloc(set->items, cap * sizeof *items);
	if (items == NULL)
		return -1;
	set->items = items;
	set->cap = cap;
	return 0;
}

/*
 * Applies the rows read again for the ids of pending: changed rows replace
 * theirs, new ones join in list order, ids without a row are dropped.  The id
 * index is used while the items keep their places (replacing, marking the
 * deleted), then the list is compacted, sorted if rows were added, indexed
 * again if rows came or went, and its answer left to be rendered by the next
 * GET list: an update costs its rows, not the table.  0, or -1 when out of
 * memory (the set must then be read again whole).
 */
static int set_apply(struct registry_set *set, const PGresult *res, const struct db_ids *pending)
{
	size_t rows = (size_t)PQntuples(res), added = 0, removed = 0;
	struct cached_registry *fresh = calloc(rows ? rows : 1, sizeof *fresh);   /* rows not in the set yet */
	int status = -1;

	if (fresh == NULL)
		return -1;
	for (size_t r = 0; r < rows; r++) {
		struct cached_registry item, *old;

		memset(&item, 0, sizeof item);
		if (item_fill(&item, res, (int)r) < 0)
			goto out;
		old = item_find(set, item.id);
		if (old != NULL) {
			free(old->text);
			*old = item;
		} else {
			fresh[added++] = item;
		}
	}
	/* An id that was named but has no row any more was deleted: its object goes, its place is marked. */
	for (size_t k = 0; k < pending->n; k++) {
		struct cached_registry *gone = item_find(set, pending->id[k]);
		int found = 0;

		for (size_t r = 0; r < rows && !found; r++)
			found = strcmp(PQgetvalue(res, (int)r, REG_ID), pending->id[k]) == 0;
		if (gone == NULL || gone->text == NULL || found)
			continue;
		free(gone->text);
		gone->text = NULL;
		removed++;
	}
	if (removed > 0) {
		size_t kept = 0;

		for (size_t i = 0; i < set->n; i++)
			if (set->items[i].text != NULL)
				set->items[kept++] = set->items[i];
		set->n = kept;
	}
	/* Shrink after a bulk delete, so that memory comes back. */
	if (set->cap > 64 && set->n + added < set->cap / 4) {
		struct cached_registry *items = realloc(set->items, (set->n + added + 16) * sizeof *items);

		if (items != NULL) {
			set->items = items;
			set->cap = set->n + added + 16;
		}
	}
	if (set_reserve(set, added) < 0)
		goto out;
	memcpy(set->items + set->n, fresh, added * sizeof *fresh);
	set->n += added;
	if (added > 0)  /* new rows were put at the end: the list's order again */
		qsort(set->items, set->n, sizeof *set->items, item_order);
	set_list_stale(set);
	/* Rows replaced in place keep their index; rows added or removed moved others. */
	status = added > 0 || removed > 0 ? set_index(set) : 0;
	added = 0;      /* the set owns them now */
out:
	for (size_t i = 0; i < added; i++)
		free(fresh[i].text);
	free(fresh);
	return status;
}

/*
 * Reads again the rows named in c->pending and applies them to the loaded
 * set.  Returns 0, or -1 when that failed (the caller reads everything).
 */
static int cache_refresh(struct cache *c)
{
	/* "{id,id,...}": ids are 24 hex digits, nothing to quote. */
	char *array = malloc(c->pending.n * (REGISTRY_ID_LEN + 1) + 3), *p = array;
	const char *params[1] = { array };
	PGresult *res;
	int status = -1;

	if (array == NULL)
		return -1;
	*p++ = '{';
	for (size_t k = 0; k < c->pending.n; k++) {
		if (k > 0)
			*p++ = ',';
		memcpy(p, c->pending.id[k], REGISTRY_ID_LEN);
		p += REGISTRY_ID_LEN;
	}
	*p++ = '}';
	*p = '\0';
	res = db_exec(c->db, STMT_REGISTRY_ROWS, params);
	if (res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK && set_apply(&c->set, res, &c->pending) == 0)
		status = 0;
	PQclear(res);
	free(array);
	c->pending.n = 0;
	return status;
}

/*
 * The list reached its age (cache_max_age): 1 when the table still holds
 * exactly the rows we do (same count, same fingerprint of ids and row
 * versions), and the list lives on for another lifetime; 0 when it does not,
 * or PostgreSQL could not say (the caller reads it whole).  A write that
 * fired no trigger changed some row's xmin, so it shows here; so does a
 * notified change still on its way (read whole: a rare, safe miss).  One
 * scan of the table in PostgreSQL and a row to us, where reading it whole
 * cost a worker 100-400 ms at 10,000 rows, every worker every half to whole
 * cache_max_age, quiet or not.
 */
static int set_confirmed(struct cache *c)
{
	PGresult *res = db_exec(c->db, STMT_REGISTRY_FINGERPRINT, NULL);
	uint64_t sum = 0;
	int same;

	for (size_t i = 0; i < c->set.n; i++)
		sum = (sum + db_fingerprint_term(c->set.items[i].id, c->set.items[i].xmin)) % DB_FINGERPRINT_MOD;
	same = res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
	       strtoull(PQgetvalue(res, 0, FP_ROWS), NULL, 10) == c->set.n &&
	       strtoull(PQgetvalue(res, 0, FP_SUM), NULL, 10) == sum;
	PQclear(res);
	if (same)
		c->registries_expire_us = clock_us() + list_lifetime(c);
	return same;
}

int cache_registries(struct cache *c, const struct registry_set **set, char *msg, size_t msgsize)
{
	PGresult *res;
	int status = 200;

	*set = &c->set;
	if (c->registries_loaded && c->pending.n > 0 && cache_refresh(c) < 0)
		forget_registries(c);
	/* After the notified rows: what we hold is then all we know of, to compare with the table. */
	if (c->registries_loaded && clock_us() > c->registries_expire_us && !set_confirmed(c))
		forget_registries(c);
	if (c->registries_loaded)
		return 200;
	res = db_exec(c->db, STMT_REGISTRY_LIST, NULL);
	if (res == NULL) {
		snprintf(msg, msgsize, "database unavailable, try again later");
		return 503;
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		status = db_error_status(res, msg, msgsize);
		log_error("loading the registries: %s: %s", PQresultErrorField(res, PG_DIAG_SQLSTATE),
			  PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
	} else if (set_build(&c->set, res) < 0) {
		set_clear(&c->set);
		snprintf(msg, msgsize, "out of memory");
		status = 500;
	} else {
		c->registries_loaded = 1;
		c->registries_expire_us = clock_us() + list_lifetime(c);
		c->registries_gen = c->seen[GEN_REGISTRY];
	}
	PQclear(res);
	return status;
}

int cache_list_json(struct cache *c, const char **json, size_t *len)
{
	if (c->set.list_stale) {
		if (set_render(&c->set) < 0)
			return -1;
		c->set.list_stale = 0;
	}
	*json = c->set.list_json;
	*len = c->set.list_len;
	return 0;
}

/* The slot of the filter of q, or NULL. */
static struct filter_total *filter_total_find(struct registry_set *set, const struct list_query *q)
{
	for (int i = 0; i < FILTER_TOTALS; i++) {
		struct filter_total *t = &set->totals[i];

		if (t->used && t->is_default == q->is_default && t->q_len == q->q_len &&
		    strcmp(t->provider, q->provider) == 0 && memcmp(t->q, q->q, q->q_len) == 0)
			return t;
	}
	return NULL;
}

int cache_filter_total(struct cache *c, const struct list_query *q, size_t *total)
{
	const struct filter_total *t = filter_total_find(&c->set, q);

	if (t == NULL)
		return 0;
	*total = t->total;
	return 1;
}

void cache_filter_total_keep(struct cache *c, const struct list_query *q, size_t total)
{
	struct registry_set *set = &c->set;
	struct filter_total *t = filter_total_find(set, q);

	if (t == NULL) {
		t = &set->totals[set->totals_next];
		set->totals_next = (set->totals_next + 1) % FILTER_TOTALS;
	}
	t->used = 1;
	memcpy(t->provider, q->provider, sizeof t->provider);
	t->is_default = q->is_default;
	t->q_len = q->q_len;
	memcpy(t->q, q->q, q->q_len);
	t->total = total;
}

const struct cached_registry *registry_find(const struct registry_set *set, const char *id)
{
	return item_find(set, id);
}


enum token_verdict cache_token(struct cache *c, const char *hash_bytea, char *name, size_t namesize)
{
	/* The hash is uniformly random: its first byte spreads tokens evenly. */
	struct token_slot *slot = &c->tokens[(unsigned)(hex_value(hash_bytea[2]) << 4 | hex_value(hash_bytea[3])) % TOKEN_SLOTS];
	int64_t now = clock_us();
	const char *params[] = { hash_bytea };
	PGresult *res;

	if (strcmp(slot->hash, hash_bytea) != 0 || now - slot->checked_us > c->max_age_us) {
		res = db_exec(c->db, STMT_TOKEN_CHECK, params);
		if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
			PQclear(res);
			return TOKEN_DB_DOWN;
		}
		snprintf(slot->hash, sizeof slot->hash, "%s", hash_bytea);
		slot->checked_us = now;
		if (PQntuples(res) == 0) {
			slot->verdict = TOKEN_UNKNOWN;
			slot->name[0] = '\0';
		} else {
			slot->verdict = strcmp(PQgetvalue(res, 0, TOK_SCOPE), "write") == 0 ? TOKEN_WRITE : TOKEN_READ;
			snprintf(slot->name, sizeof slot->name, "%s", PQgetvalue(res, 0, TOK_NAME));
		}
		PQclear(res);
	}
	snprintf(name, namesize, "%s", slot->name);
	return slot->verdict;
}

void cache_written(struct cache *c, enum generation_kind kind)
{
	/*
	 * Our own notification came back before the write's result: the other
	 * workers will have it after one round trip, and re-read those rows only.
	 * None (triggers off, too many rows): they read the whole table.
	 */
	if (kind == GEN_REGISTRY && db_wrote_rows_notified(c->db, &c->pending))
		kind = GEN_REGISTRY_ROWS;
	generation_bump(c->gen, kind);
}
