/*
 * etag.h - ETags of registries and the If-Match request header (RFC 9110,
 * sections 8.8.3 and 13.1.1).  A registry's ETag is its row version as a
 * strong entity tag, "3"; If-Match is compared with it by the strong
 * comparison, so a weak tag (W/"3") never matches.
 */
#ifndef IMAGEREG_ETAG_H
#define IMAGEREG_ETAG_H

#include <stddef.h>

#define IF_MATCH_MAX_TAGS 32
/* Room for the SQL parameter: "{" + up to 32 versions of 19 digits + commas + "}". */
#define IF_MATCH_PARAM_SIZE (2 + IF_MATCH_MAX_TAGS * 20 + 1)

struct if_match {
	int present;                    /* the header was sent */
	int any;                        /* it was "*": any current version matches */
	size_t tags;                    /* entity tags listed, weak ones included */
	size_t weak;                    /* of which weak (W/"..."), which never match */
	size_t n;                       /* of which strong tags that can name a version: */
	long long versions[IF_MATCH_MAX_TAGS];
};

/*
 * Parses an If-Match value (NULL = header absent) into *out.  "*", or a
 * comma-separated list of entity tags; strong tags whose text is not a
 * version (1, 2, ... without leading zeros) are kept as non-matching.
 * Returns 0, or -1 with a client-facing description naming the header.
 */
int if_match_parse(const char *header, struct if_match *out, char *err, size_t errsize);

/*
 * The condition as the write functions' p_if_match parameter: NULL for none
 * (no header, or "*": the row exists, which the functions check anyway), else
 * a bigint[] literal in buf ("{}" when no tag can match).
 */
const char *if_match_param(const struct if_match *m, char *buf, size_t size);

#endif
