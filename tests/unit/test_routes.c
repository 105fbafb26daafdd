/* test_routes.c - the route table and matcher: which method and path reach which handler, 404, 405 and Allow. */
#include "check.h"
#include "handlers.h"
#include "handlers_browse.h"
#include "handlers_check.h"
#include "routes.h"

#include <stdlib.h>
#include <string.h>

#define COLL "/openapi/system/registry"
#define ID "0123456789abcdef01234567"          /* 24 lowercase hex: a valid id */
#define ITEM COLL "/" ID
#define CHECK_PATH COLL "/validate"
#define ITEM_CHECK_PATH ITEM "/validate"

/* route_find: one row per method and path. */
static const struct find_case {
	const char *name;
	const char *method;
	const char *path;
	enum route_match want;
	void (*handler)(struct req *r);  /* ROUTE_FOUND: the handler chosen */
	const char *text;                /* ROUTE_FOUND: its pattern; ROUTE_NO_METHOD: the Allow list */
	const char *id;                  /* ROUTE_FOUND: the :id copied ("" without one) */
} find_cases[] = {
	/* Every route of the table. */
	{ "list", "GET", COLL, ROUTE_FOUND, h_registry_list, COLL, "" },
	{ "create", "POST", COLL, ROUTE_FOUND, h_registry_create, COLL, "" },
	{ "get one", "GET", ITEM, ROUTE_FOUND, h_registry_get, COLL "/:id", ID },
	{ "update", "PUT", ITEM, ROUTE_FOUND, h_registry_update, COLL "/:id", ID },
	{ "delete", "DELETE", ITEM, ROUTE_FOUND, h_registry_delete, COLL "/:id", ID },
	{ "validate", "POST", CHECK_PATH, ROUTE_FOUND, h_registry_check, CHECK_PATH, "" },
	{ "validate stored", "POST", ITEM_CHECK_PATH, ROUTE_FOUND, h_registry_check_stored,
	  COLL "/:id/validate", ID },
	{ "repositories", "GET", ITEM "/repositories", ROUTE_FOUND, h_registry_repositories,
	  COLL "/:id/repositories", ID },
	{ "tags", "GET", ITEM "/repositories/tags", ROUTE_FOUND, h_registry_tags, COLL "/:id/repositories/tags", ID },
	{ "validate stored, malformed id (app.c refuses it)", "POST", COLL "/zz/validate", ROUTE_FOUND,
	  h_registry_check_stored, COLL "/:id/validate", "zz" },
	{ "validate stored, id segment \"validate\"", "POST", CHECK_PATH "/validate", ROUTE_FOUND,
	  h_registry_check_stored, COLL "/:id/validate", "validate" },
	/* The matcher takes any one segment as :id; app.c checks its shape afterwards. */
	{ "id segment not validated by the matcher", "GET", COLL "/not-an-id", ROUTE_FOUND,
	  h_registry_get, COLL "/:id", "not-an-id" },
	{ "one-character id segment", "DELETE", COLL "/x", ROUTE_FOUND, h_registry_delete, COLL "/:id", "x" },
	{ "percent-encoded slash stays in the segment", "GET", COLL "/a%2Fb", ROUTE_FOUND,
	  h_registry_get, COLL "/:id", "a%2Fb" },

	/* Unknown paths: 404. */
	{ "root", "GET", "/", ROUTE_NO_PATH, NULL, NULL, NULL },
	{ "empty path", "GET", "", ROUTE_NO_PATH, NULL, NULL, NULL },
	{ "openapi", "GET", "/openapi", ROUTE_NO_PATH, NULL, NULL, NULL },
	{ "openapi/system", "GET", "/openapi/system", ROUTE_NO_PATH, NULL, NULL, NULL },
	{ "prefix of the collection", "GET", "/openapi/system/registr", ROUTE_NO_PATH, NULL, NULL, NULL },
	{ "collection with a suffix", "GET", COLL "X", ROUTE_NO_PATH, NULL, NULL, NULL },
	{ "collection with a suffix, POST", "POST", COLL "ies", ROUTE_NO_PATH, NULL, NULL, NULL },
	{ "collection without leading slash", "GET", "openapi/system/registry", ROUTE_NO_PATH, NULL, NULL, NULL },
	{ "collection in upper case", "GET", "/OPENAPI/SYSTEM/REGISTRY", ROUTE_NO_PATH, NULL, NULL, NULL },
	{ "collection with trailing slash", "GET", COLL "/", ROUTE_NO_PATH, NULL, NULL, NULL },
	{ "collection with trailing slash, POST", "POST", COLL "/", ROUTE_NO_PATH, NULL, NULL, NULL },
	{ "item with trailing slash", "GET", ITEM "/", ROUTE_NO_PATH, NULL, NULL, NULL },
	{ "leading double slash", "GET", "/" COLL, ROUTE_NO_PATH, NULL, NULL, NULL },
	{ "inner double slash", "GET", "/openapi//system/registry", ROUTE_NO_PATH, NULL, NULL, NULL },
	{ "double slash before the id", "GET", COLL "//" ID, ROUTE_NO_PATH, NULL, NULL, NULL },
	{ "double slash before the id, DELETE", "DELETE", COLL "//" ID, ROUTE_NO_PATH, NULL, NULL, NULL },
	{ "item with an extra segment", "GET", ITEM "/extra", ROUTE_NO_PATH, NULL, NULL, NULL },
	{ "item with an extra segment, PUT", "PUT", ITEM "/extra", ROUTE_NO_PATH, NULL, NULL, NULL },
	{ "validate with a trailing slash", "POST", CHECK_PATH "/", ROUTE_NO_PATH, NULL, NULL, NULL },
	{ "validate stored with a trailing slash", "POST", ITEM_CHECK_PATH "/", ROUTE_NO_PATH, NULL, NULL, NULL },
	{ "validate stored with an extra segment", "POST", ITEM_CHECK_PATH "/x", ROUTE_NO_PATH, NULL, NULL, NULL },
	{ "validate in upper case", "POST", COLL "/CHECK_PATH", ROUTE_NO_METHOD, NULL, "GET, PUT, DELETE", NULL },
	{ "validate with a suffix is an id segment", "POST", CHECK_PATH "x", ROUTE_NO_METHOD, NULL,
	  "GET, PUT, DELETE", NULL },
	{ "query string is not part of the path", "GET", COLL "?x=1", ROUTE_NO_PATH, NULL, NULL, NULL },
	{ "unknown path with an unknown method", "BREW", "/coffee", ROUTE_NO_PATH, NULL, NULL, NULL },

	/* The path exists, the method does not: 405 with the exact Allow list. */
	{ "PUT on the collection", "PUT", COLL, ROUTE_NO_METHOD, NULL, "GET, POST", NULL },
	{ "DELETE on the collection", "DELETE", COLL, ROUTE_NO_METHOD, NULL, "GET, POST", NULL },
	{ "PATCH on the collection", "PATCH", COLL, ROUTE_NO_METHOD, NULL, "GET, POST", NULL },
	{ "HEAD on the collection", "HEAD", COLL, ROUTE_NO_METHOD, NULL, "GET, POST", NULL },
	{ "OPTIONS on the collection", "OPTIONS", COLL, ROUTE_NO_METHOD, NULL, "GET, POST", NULL },
	{ "empty method on the collection", "", COLL, ROUTE_NO_METHOD, NULL, "GET, POST", NULL },
	{ "POST on an item", "POST", ITEM, ROUTE_NO_METHOD, NULL, "GET, PUT, DELETE", NULL },
	{ "PATCH on an item", "PATCH", ITEM, ROUTE_NO_METHOD, NULL, "GET, PUT, DELETE", NULL },
	{ "POST on a malformed id is still 405", "POST", COLL "/zz", ROUTE_NO_METHOD, NULL,
	  "GET, PUT, DELETE", NULL },
	/* ".../validate" is the check's path for every method, not an item with a malformed id. */
	{ "GET on validate", "GET", CHECK_PATH, ROUTE_NO_METHOD, NULL, "POST", NULL },
	{ "PUT on validate", "PUT", CHECK_PATH, ROUTE_NO_METHOD, NULL, "POST", NULL },
	{ "DELETE on validate", "DELETE", CHECK_PATH, ROUTE_NO_METHOD, NULL, "POST", NULL },
	{ "GET on validate stored", "GET", ITEM_CHECK_PATH, ROUTE_NO_METHOD, NULL, "POST", NULL },
	{ "PUT on validate stored", "PUT", ITEM_CHECK_PATH, ROUTE_NO_METHOD, NULL, "POST", NULL },

	/* Methods are case-sensitive (RFC 9110): "get" is not GET. */
	{ "get in lower case", "get", COLL, ROUTE_NO_METHOD, NULL, "GET, POST", NULL },
	{ "post in lower case", "post", COLL, ROUTE_NO_METHOD, NULL, "GET, POST", NULL },
	{ "Get in mixed case", "Get", ITEM, ROUTE_NO_METHOD, NULL, "GET, PUT, DELETE", NULL },
	{ "delete in lower case", "delete", ITEM, ROUTE_NO_METHOD, NULL, "GET, PUT, DELETE", NULL },
	{ "method with trailing space", "GET ", COLL, ROUTE_NO_METHOD, NULL, "GET, POST", NULL },
	{ "method that is a prefix", "GE", COLL, ROUTE_NO_METHOD, NULL, "GET, POST", NULL },
};

static void test_find(void)
{
	for (size_t i = 0; i < sizeof find_cases / sizeof find_cases[0]; i++) {
		const struct find_case *c = &find_cases[i];
		static const struct route junk;
		const struct route *route = &junk;   /* must be reset by route_find */
		char id[REGISTRY_ID_LEN + 2] = "junk", allow[64] = "junk";
		size_t id_len = 12345;
		enum route_match got;

		got = route_find(c->method, c->path, &route, id, sizeof id, &id_len, allow, sizeof allow);
		if (!CHECK(got == c->want, "%s: %s %s matched %d, want %d", c->name, c->method, c->path,
			   (int)got, (int)c->want))
			continue;
		if (got != ROUTE_FOUND) {
			CHECK(route == NULL, "%s: route is NULL unless found", c->name);
			if (got == ROUTE_NO_METHOD)
				CHECK_STR(allow, c->text, "%s: Allow", c->name);
			else
				CHECK_STR(allow, "", "%s: Allow is empty on 404", c->name);
			continue;
		}
		if (!CHECK(route != NULL, "%s: route set", c->name))
			continue;
		CHECK(route->handler == c->handler, "%s: handler", c->name);
		CHECK_STR(route->method, c->method, "%s: route method", c->name);
		CHECK_STR(route->pattern, c->text, "%s: pattern", c->name);
		CHECK_STR(id, c->id, "%s: id", c->name);
		CHECK(id_len == strlen(c->id), "%s: id_len %zu, want %zu", c->name, id_len, strlen(c->id));
	}
}

/* The table itself: each line once, with the flags the dispatcher relies on. */
static const struct table_case {
	const char *method;
	const char *pattern;
	void (*handler)(struct req *r);
	unsigned flags;
} table_cases[] = {
	{ "GET", COLL, h_registry_list, 0 },
	{ "POST", COLL, h_registry_create, ROUTE_BODY | ROUTE_WRITE },
	{ "GET", COLL "/:id", h_registry_get, ROUTE_ID },
	{ "PUT", COLL "/:id", h_registry_update, ROUTE_ID | ROUTE_BODY | ROUTE_WRITE },
	{ "DELETE", COLL "/:id", h_registry_delete, ROUTE_ID | ROUTE_WRITE },
	{ "POST", COLL "/validate", h_registry_check, ROUTE_BODY | ROUTE_WRITE },
	{ "POST", COLL "/:id/validate", h_registry_check_stored, ROUTE_ID | ROUTE_WRITE },
	{ "GET", COLL "/:id/repositories", h_registry_repositories, ROUTE_ID },
	{ "GET", COLL "/:id/repositories/tags", h_registry_tags, ROUTE_ID },
	{ "GET", "/healthz", h_health, ROUTE_PUBLIC },
};

static void test_table(void)
{
	size_t n;
	const struct route *t = route_table(&n);

	CHECK(n == sizeof table_cases / sizeof table_cases[0], "table has %zu routes, want %zu", n,
	      sizeof table_cases / sizeof table_cases[0]);
	for (size_t i = 0; i < n && i < sizeof table_cases / sizeof table_cases[0]; i++) {
		const struct table_case *c = &table_cases[i];

		CHECK_STR(t[i].method, c->method, "table[%zu] method", i);
		CHECK_STR(t[i].pattern, c->pattern, "table[%zu] pattern", i);
		CHECK(t[i].handler == c->handler, "table[%zu] %s %s handler", i, c->method, c->pattern);
		CHECK(t[i].flags == c->flags, "table[%zu] %s %s flags 0x%x, want 0x%x", i, c->method,
		      c->pattern, t[i].flags, c->flags);
		CHECK(t[i].summary != NULL && t[i].summary[0] != '\0', "table[%zu] has a summary", i);
	}
	/* Every line is reachable: its own method and pattern (":id" filled in) find it. */
	for (size_t i = 0; i < n; i++) {
		const struct route *route;
		char path[256], id[REGISTRY_ID_LEN + 2], allow[64];
		const char *colon = strstr(t[i].pattern, ":id");
		size_t id_len;

		if (colon != NULL)
			snprintf(path, sizeof path, "%.*s%s%s", (int)(colon - t[i].pattern), t[i].pattern,
				 ID, colon + 3);
		else
			snprintf(path, sizeof path, "%s", t[i].pattern);
		CHECK(route_find(t[i].method, path, &route, id, sizeof id, &id_len, allow, sizeof allow)
			      == ROUTE_FOUND && route == &t[i],
		      "table[%zu] %s %s is reachable", i, t[i].method, path);
	}
}

/* route_id_valid: bytes with an explicit length, so NULs and length mismatches can be tested. */
static const struct id_case {
	const char *name;
	const char *s;
	size_t len;
	int want;
} id_cases[] = {
#define IDC(name, lit, want) { name, lit, sizeof(lit) - 1, want }
	IDC("24 lowercase hex", ID, 1),
	IDC("all digits", "000000000000000000000000", 1),
	IDC("all letters", "abcdefabcdefabcdefabcdef", 1),
	IDC("uppercase hex", "0123456789ABCDEF01234567", 0),
	IDC("one uppercase letter", "0123456789abcdeF01234567", 0),
	IDC("23 characters", "0123456789abcdef0123456", 0),
	IDC("25 characters", "0123456789abcdef012345678", 0),
	IDC("non-hex letter g", "0123456789abcdeg01234567", 0),
	IDC("dash", "0123456789abcdef-1234567", 0),
	IDC("space", "0123456789abcdef 1234567", 0),
	IDC("empty", "", 0),
	IDC("embedded NUL counted in the length", "0123456789abcdef012345\0" "7", 0),
	IDC("NUL at the end counted in the length", "0123456789abcdef0123456\0", 0),
	IDC("high byte", "0123456789abcdef0123456\xe9", 0),
#undef IDC
	/* The length is what counts, not the terminator. */
	{ "valid id with length 23", ID, 23, 0 },
	{ "valid id with length 25 (its NUL)", ID, 25, 0 },
	{ "valid id with length 0", ID, 0, 0 },
	{ "valid 24 prefix of a longer string", ID "ff", 24, 1 },
};

static void test_id_valid(void)
{
	for (size_t i = 0; i < sizeof id_cases / sizeof id_cases[0]; i++) {
		const struct id_case *c = &id_cases[i];
		/* An exact-size copy, so a read past len shows under AddressSanitizer. */
		char *s = malloc(c->len ? c->len : 1);

		if (!CHECK(s != NULL, "%s: malloc", c->name))
			continue;
		memcpy(s, c->s, c->len);
		CHECK(route_id_valid(s, c->len) == c->want, "%s: route_id_valid want %d", c->name, c->want);
		free(s);
	}
}

/*
 * Long id segments: the copy is cut to idsize-1 bytes and NUL-terminated, no
 * byte past idsize is written, and id_len reports the full length so the
 * caller can reject it.
 */
static const struct long_case {
	const char *name;
	size_t seg_len;
	size_t idsize;
} long_cases[] = {
	{ "1000-character segment, app-sized buffer", 1000, REGISTRY_ID_LEN + 2 },
	{ "25-character segment, app-sized buffer", 25, REGISTRY_ID_LEN + 2 },
	{ "26-character segment, app-sized buffer", 26, REGISTRY_ID_LEN + 2 },
	{ "24-character segment, exact buffer", 24, REGISTRY_ID_LEN + 1 },
	{ "25-character segment, exact buffer", 25, REGISTRY_ID_LEN + 1 },
	{ "1000-character segment, one-byte buffer", 1000, 1 },
	{ "4000-character segment, app-sized buffer", 4000, REGISTRY_ID_LEN + 2 },
};

static void test_long_id(void)
{
	for (size_t i = 0; i < sizeof long_cases / sizeof long_cases[0]; i++) {
		const struct long_case *c = &long_cases[i];
		size_t path_len = strlen(COLL) + 1 + c->seg_len;
		char *path = malloc(path_len + 1);
		char id[64], allow[64];
		const struct route *route;
		size_t id_len = 0, want_copy = c->seg_len < c->idsize ? c->seg_len : c->idsize - 1;
		int intact = 1;

		if (!CHECK(path != NULL, "%s: malloc", c->name))
			continue;
		memcpy(path, COLL "/", strlen(COLL) + 1);
		memset(path + strlen(COLL) + 1, 'a', c->seg_len);
		path[path_len] = '\0';
		memset(id, 'Z', sizeof id);     /* canary past idsize */
		CHECK(route_find("GET", path, &route, id, c->idsize, &id_len, allow, sizeof allow) == ROUTE_FOUND,
		      "%s: found", c->name);
		CHECK(id_len == c->seg_len, "%s: id_len %zu, want %zu", c->name, id_len, c->seg_len);
		CHECK(strlen(id) == want_copy, "%s: copied %zu bytes, want %zu", c->name, strlen(id), want_copy);
		for (size_t k = 0; k < want_copy; k++)
			intact &= id[k] == 'a';
		for (size_t k = c->idsize; k < sizeof id; k++)
			intact &= id[k] == 'Z';
		CHECK(intact, "%s: copy is the segment's prefix and nothing past idsize is written", c->name);
		/* Only a segment of exactly 24 hex characters may pass, whatever the buffer kept. */
		CHECK(route_id_valid(id, id_len) == (c->seg_len == REGISTRY_ID_LEN),
		      "%s: validity follows id_len, not the truncated copy", c->name);
		free(path);
	}
}

/* A small Allow buffer is filled with whole methods only, and always terminated. */
static const struct allow_case {
	const char *name;
	const char *method;
	const char *path;
	size_t allowsize;
	const char *want;
} allow_cases[] = {
	{ "collection, exact size", "PATCH", COLL, sizeof "GET, POST", "GET, POST" },
	{ "collection, one byte short", "PATCH", COLL, sizeof "GET, POST" - 1, "GET" },
	{ "collection, one byte", "PATCH", COLL, 1, "" },
	{ "item, exact size", "POST", ITEM, sizeof "GET, PUT, DELETE", "GET, PUT, DELETE" },
	{ "item, one byte short", "POST", ITEM, sizeof "GET, PUT, DELETE" - 1, "GET, PUT" },
};

static void test_allow_size(void)
{
	for (size_t i = 0; i < sizeof allow_cases / sizeof allow_cases[0]; i++) {
		const struct allow_case *c = &allow_cases[i];
		char allow[64], id[REGISTRY_ID_LEN + 2];
		const struct route *route;
		size_t id_len;
		int intact = 1;

		memset(allow, 'Z', sizeof allow);
		CHECK(route_find(c->method, c->path, &route, id, sizeof id, &id_len, allow, c->allowsize)
			      == ROUTE_NO_METHOD, "%s: 405", c->name);
		CHECK_STR(allow, c->want, "%s: Allow", c->name);
		for (size_t k = c->allowsize; k < sizeof allow; k++)
			intact &= allow[k] == 'Z';
		CHECK(intact, "%s: nothing written past allowsize", c->name);
	}
}

int main(void)
{
	test_find();
	test_table();
	test_id_valid();
	test_long_id();
	test_allow_size();
	return check_done();
}
