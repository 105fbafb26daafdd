/* json_check.h - strict RFC 8259 syntax check of a request body. */
#ifndef IMAGEREG_JSON_CHECK_H
#define IMAGEREG_JSON_CHECK_H

#include <stddef.h>

/* Members one object may have; a body listing more is refused, not hashed. */
#define JSON_MAX_MEMBERS 1000

/*
 * Checks that buf[0..len) is exactly one JSON value by RFC 8259, no deeper
 * than max_depth, with no duplicate key in any object (compared after
 * unescaping).  json-c alone accepts NaN, Infinity, single quotes, raw
 * control characters and silently keeps the last of duplicate keys; a body
 * that means different things to different parsers is refused instead.
 * Returns 1, or 0 with a client-facing reason in err.  UTF-8 is checked
 * separately (utf8_valid).
 */
int json_check(const char *buf, size_t len, int max_depth, char *err, size_t errsize);

#endif
