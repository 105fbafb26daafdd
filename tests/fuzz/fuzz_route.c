/*
 * fuzz_route.c - libFuzzer: route_find and route_id_valid against a model
 * built from route_table(), with buffers of every awkward size.
 *
 * Input: a first byte below the length of methods[] picks a method and the
 * rest is the path; otherwise the bytes up to the first NUL are the method
 * and the bytes after it the path.  A NUL in the path ends it, as in a CGI
 * parameter.
 */
#include "fuzz.h"
#include "routes.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const methods[] = {
	"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "", "get",
};

/* id and allow sizes tried besides the ones app.c uses. */
static const size_t id_sizes[] = { 0, 1, 2, 8, REGISTRY_ID_LEN, REGISTRY_ID_LEN + 1, REGISTRY_ID_LEN + 2, 64 };
static const size_t allow_sizes[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 16, 17, 18, 64 };

/* The sizes app.c passes; the model's answers are checked at these. */
#define APP_ID_SIZE (REGISTRY_ID_LEN + 2)
#define APP_ALLOW_SIZE 64

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_log();
	return 0;
}

/* A heap copy of s[0..len) cut at the first NUL: exactly sized, so ASan sees any overrun. */
static char *cstr(const char *s, size_t len)
{
	const char *nul = memchr(s, '\0', len);
	size_t n = nul ? (size_t)(nul - s) : len;
	char *out = malloc(n + 1);

	ENSURE(out != NULL);
	memcpy(out, s, n);
	out[n] = '\0';
	return out;
}

/*
 * The model: splits pattern and path on '/' and compares segment by
 * segment; ":id" takes any one non-empty segment.  Returns 1 on a match,
 * with the :id segment in *seg (NULL when the pattern has none).
 */
static int model_match(const char *pattern, const char *path, const char **seg, size_t *seg_len)
{
	*seg = NULL;
	*seg_len = 0;
	for (;;) {
		size_t pl = strcspn(pattern, "/"), sl = strcspn(path, "/");

		if (pl == 3 && memcmp(pattern, ":id", 3) == 0) {
			if (sl == 0)
				return 0;
			*seg = path;
			*seg_len = sl;
		} else if (pl != sl || memcmp(pattern, path, pl) != 0) {
			return 0;
		}
		pattern += pl;
		path += sl;
		if (*pattern == '\0' || *path == '\0')
			return *pattern == '\0' && *path == '\0';
		pattern++;
		path++;
	}
}

/* How many ":id" segments a pattern has: the path belongs to the matching patterns with the fewest. */
static int pattern_params(const char *pattern)
{
	int n = 0;

	for (const char *p = pattern; (p = strstr(p, ":id")) != NULL; p += 3)
		n++;
	return n;
}

struct expect {
	enum route_match match;
	const struct route *route;
	char id[4096];          /* the :id segment, whole */
	size_t id_len;
	char allow[256];
};

static void model_find(const char *method, const char *path, struct expect *e)
{
	size_t n;
	const struct route *table = route_table(&n);
	int path_known = 0, fewest = -1;
	const char *seg;
	size_t seg_len;

	memset(e, 0, sizeof *e);
	e->match = ROUTE_NO_PATH;
	/* ".../validate" is its own path, not an :id segment: literal segments win. */
	for (size_t i = 0; i < n; i++)
		if (model_match(table[i].pattern, path, &seg, &seg_len) &&
		    (fewest < 0 || pattern_params(table[i].pattern) < fewest))
			fewest = pattern_params(table[i].pattern);
	for (size_t i = 0; i < n; i++) {
		if (!model_match(table[i].pattern, path, &seg, &seg_len) ||
		    pattern_params(table[i].pattern) != fewest)
			continue;
		if (strcmp(table[i].method, method) == 0) {
			e->match = ROUTE_FOUND;
			e->route = &table[i];
			e->id_len = seg_len;
			if (seg_len < sizeof e->id)
				memcpy(e->id, seg ? seg : "", seg_len);
			return;
		}
		if (path_known)
			strcat(e->allow, ", ");
		strcat(e->allow, table[i].method);
		path_known = 1;
	}
	if (path_known)
		e->match = ROUTE_NO_METHOD;
}

/* route_id_valid's contract, written plainly. */
static int model_id_valid(const char *s, size_t len)
{
	if (len != REGISTRY_ID_LEN)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (strchr("0123456789abcdef", s[i]) == NULL || s[i] == '\0')
			return 0;
	return 1;
}

/* One route_find call with id and allow buffers of exactly the given sizes. */
static void find_sized(const char *method, const char *path, const struct expect *e,
		       size_t idsize, size_t allowsize)
{
	const struct route *route = (const struct route *)1;
	char *id = malloc(idsize), *allow = malloc(allowsize);
	size_t id_len = (size_t)-1;
	enum route_match m;

	ENSURE(id != NULL && allow != NULL);
	m = route_find(method, path, &route, id, idsize, &id_len, allow, allowsize);
	ENSURE(m == e->match);
	ENSURE(route == e->route);
	if (m == ROUTE_FOUND) {
		ENSURE(strcmp(route->method, method) == 0);
		/* An :id route reports the segment's full length, however small id is. */
		ENSURE(id_len == e->id_len);
		ENSURE(((route->flags & ROUTE_ID) != 0) == (id_len > 0));
		if (idsize > 0) {
			size_t want = id_len < idsize ? id_len : idsize - 1;

			ENSURE(strlen(id) == want);
			ENSURE(id_len >= sizeof e->id || memcmp(id, e->id, want) == 0);
		}
	} else if (allowsize > 0) {
		size_t len = strlen(allow);

		/* A short buffer holds whole methods from the front of the list, never a piece of one. */
		ENSURE(len < allowsize);
		ENSURE(strncmp(allow, e->allow, len) == 0);
		ENSURE(e->allow[len] == '\0' || (len > 0 && e->allow[len] == ',') || len == 0);
		if (allowsize == APP_ALLOW_SIZE)
			ENSURE(strcmp(allow, e->allow) == 0);
		if (m == ROUTE_NO_METHOD && allowsize == APP_ALLOW_SIZE)
			ENSURE(len > 0);
	}
	/* What app.c does next, with the buffer size it uses. */
	if (m == ROUTE_FOUND && idsize == APP_ID_SIZE)
		ENSURE(route_id_valid(id, id_len) == model_id_valid(e->id, id_len));
	free(id);
	free(allow);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	char *method, *path;
	struct expect *e;

	if (size == 0)
		return 0;
	if (data[0] < sizeof methods / sizeof methods[0]) {
		method = cstr(methods[data[0]], strlen(methods[data[0]]));
		path = cstr(buf + 1, size - 1);
	} else {
		const char *nul = memchr(buf, '\0', size);
		size_t mlen = nul ? (size_t)(nul - buf) : size;

		method = cstr(buf, mlen);
		path = nul ? cstr(nul + 1, size - mlen - 1) : cstr("", 0);
	}
	e = malloc(sizeof *e);
	ENSURE(e != NULL);
	model_find(method, path, e);
	/* Each odd size next to the other buffer at app.c's size: the two do not interact. */
	for (size_t i = 0; i < sizeof id_sizes / sizeof id_sizes[0]; i++)
		find_sized(method, path, e, id_sizes[i], APP_ALLOW_SIZE);
	for (size_t j = 0; j < sizeof allow_sizes / sizeof allow_sizes[0]; j++)
		find_sized(method, path, e, APP_ID_SIZE, allow_sizes[j]);
	/* route_id_valid on raw bytes, NULs included. */
	ENSURE(route_id_valid(buf, size) == model_id_valid(buf, size));
	free(e);
	free(method);
	free(path);
	return 0;
}
