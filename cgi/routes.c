/* routes.c - the one route table and the path matcher. */
#include "routes.h"
#include "handlers.h"
#include "handlers_browse.h"
#include "handlers_check.h"

#include <string.h>

#define REGISTRY "/openapi/system/registry"

static const struct route routes[] = {
	{ "GET", REGISTRY, h_registry_list, 0, "List registries, oldest first" },
	{ "POST", REGISTRY, h_registry_create, ROUTE_BODY | ROUTE_WRITE, "Create a registry" },
	{ "GET", REGISTRY "/:id", h_registry_get, ROUTE_ID, "Show one registry" },
	{ "PUT", REGISTRY "/:id", h_registry_update, ROUTE_ID | ROUTE_BODY | ROUTE_WRITE, "Update a registry" },
	{ "DELETE", REGISTRY "/:id", h_registry_delete, ROUTE_ID | ROUTE_WRITE, "Delete a registry" },
	{ "POST", REGISTRY "/validate", h_registry_check, ROUTE_BODY | ROUTE_WRITE,
	  "Check registry settings without saving them" },
	{ "POST", REGISTRY "/:id/validate", h_registry_check_stored, ROUTE_ID | ROUTE_WRITE,
	  "Check a stored registry with its stored settings" },
	{ "GET", REGISTRY "/:id/repositories", h_registry_repositories, ROUTE_ID,
	  "List the repositories under a stored registry's namespace, as the registry holds them" },
	{ "GET", REGISTRY "/:id/repositories/tags", h_registry_tags, ROUTE_ID,
	  "List one repository's tags (?repository=namespace/name), with manifest digests" },
	{ "GET", "/healthz", h_health, ROUTE_PUBLIC, "Is the service and its database up" },
};

const struct route *route_table(size_t *n)
{
	*n = sizeof routes / sizeof routes[0];
	return routes;
}

int route_id_valid(const char *s, size_t len)
{
	if (len != REGISTRY_ID_LEN)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/*
 * Matches path against pattern segment by segment; ":id" matches one
 * non-empty segment, whose start and length are returned.  *params counts
 * the :id segments, so a literal segment can win over one.
 */
static int pattern_match(const char *pattern, const char *path,
			 const char **seg, size_t *seg_len, int *params)
{
	*seg = NULL;
	*seg_len = 0;
	*params = 0;
	while (*pattern != '\0') {
		if (strncmp(pattern, ":id", 3) == 0) {
			(*params)++;
			size_t len = strcspn(path, "/");

			if (len == 0)
				return 0;
			*seg = path;
			*seg_len = len;
			pattern += 3;
			path += len;
			continue;
		}
		if (*pattern != *path)
			return 0;
		pattern++;
		path++;
	}
	return *path == '\0';
}

enum route_match route_find(const char *method, const char *path,
			    const struct route **route, char *id, size_t idsize,
			    size_t *id_len, char *allow, size_t allowsize)
{
	int path_known = 0, params, fewest = -1;
	size_t used = 0;
	const char *seg;
	size_t seg_len;

	*route = NULL;
	if (allowsize > 0)
		allow[0] = '\0';
	/*
	 * The path belongs to the matching pattern with the fewest :id
	 * segments: ".../validate" is the check's path, not a malformed id, for
	 * every method.
	 */
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
		if (pattern_match(routes[i].pattern, path, &seg, &seg_len, &params) &&
		    (fewest < 0 || params < fewest))
			fewest = params;
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		if (!pattern_match(routes[i].pattern, path, &seg, &seg_len, &params) || params != fewest)
			continue;
		if (strcmp(routes[i].method, method) == 0) {
			size_t copy = seg_len < idsize ? seg_len : idsize - 1;

			*route = &routes[i];
			if (idsize > 0) {
				memcpy(id, seg ? seg : "", seg ? copy : 0);
				id[seg ? copy : 0] = '\0';
			}
			*id_len = seg_len;
			return ROUTE_FOUND;
		}
		/* Collect the Allow list: "GET, POST". */
		size_t mlen = strlen(routes[i].method);
		if (used + mlen + 3 <= allowsize) {
			if (used > 0) {
				memcpy(allow + used, ", ", 2);
				used += 2;
			}
			memcpy(allow + used, routes[i].method, mlen + 1);
			used += mlen;
		}
		path_known = 1;
	}
	return path_known ? ROUTE_NO_METHOD : ROUTE_NO_PATH;
}
