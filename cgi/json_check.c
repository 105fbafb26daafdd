/* json_check.c - a small recursive-descent JSON validator, depth-bounded. */
#include "json_check.h"

#include <stdio.h>
#include <string.h>

/* Room for a decoded key; longer keys are refused (no field name is near it). */
#define KEY_DECODED_MAX 128

struct scan {
	const char *p, *start, *end;
	int depth, max_depth;
	char *err;
	size_t errsize;
	const char *key;        /* printable key of the member being scanned, or NULL */
	size_t key_len;
};

static int fail(struct scan *s, const char *what)
{
	if (s->p >= s->end)
		snprintf(s->err, s->errsize, "request body is truncated JSON");
	else
		snprintf(s->err, s->errsize, "request body is not valid JSON: %s at byte %zu",
			 what, (size_t)(s->p - s->start));
	return 0;
}

static void skip_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static int hex4(const char *p, unsigned *out)
{
	*out = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		unsigned v = c >= '0' && c <= '9' ? (unsigned)(c - '0')
			   : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
			   : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 16u;
		if (v == 16)
			return 0;
		*out = *out << 4 | v;
	}
	return 1;
}

/* Appends code point cp as UTF-8 to out (room checked by the caller's limit). */
static size_t put_utf8(char *out, size_t n, unsigned cp)
{
	if (cp < 0x80) {
		out[n++] = (char)cp;
	} else if (cp < 0x800) {
		out[n++] = (char)(0xc0 | cp >> 6);
		out[n++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		out[n++] = (char)(0xe0 | cp >> 12);
		out[n++] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[n++] = (char)(0x80 | (cp & 0x3f));
	} else {
		out[n++] = (char)(0xf0 | cp >> 18);
		out[n++] = (char)(0x80 | (cp >> 12 & 0x3f));
		out[n++] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[n++] = (char)(0x80 | (cp & 0x3f));
	}
	return n;
}

/*
 * Scans a string at s->p.  When key is set, also decodes it into key and
 * refuses a key that does not fit KEY_DECODED_MAX bytes.
 */
static int scan_string(struct scan *s, char *key, size_t *key_len)
{
	size_t n = 0;
	int overflow = 0;

	if (s->p >= s->end || *s->p != '"')
		return fail(s, "expected a string");
	s->p++;
	while (s->p < s->end && *s->p != '"') {
		unsigned char c = (unsigned char)*s->p;
		unsigned cp = c;

		if (c < 0x20)
			return fail(s, "control character inside a string");
		if (c == '\\') {
			if (s->p + 1 >= s->end)
				return fail(s, "unterminated escape");
			char e = s->p[1];
			const char *simple = strchr("\"\\/bfnrt", e);

			if (e != '\0' && simple != NULL) {
				static const char decoded[] = "\"\\/\b\f\n\r\t";
				cp = (unsigned char)decoded[simple - "\"\\/bfnrt"];
				s->p += 2;
			} else if (e == 'u') {
				if (s->end - s->p < 6 || !hex4(s->p + 2, &cp))
					return fail(s, "bad \\u escape");
				s->p += 6;
				/* A surrogate pair decodes to one code point; a lone half is no character. */
				unsigned lo;
				if (cp >= 0xd800 && cp <= 0xdbff && s->end - s->p >= 6 && s->p[0] == '\\' &&
				    s->p[1] == 'u' && hex4(s->p + 2, &lo) && lo >= 0xdc00 && lo <= 0xdfff) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					s->p += 6;
				} else if (cp >= 0xd800 && cp <= 0xdfff) {
					return fail(s, "\\u escape of a lone UTF-16 surrogate");
				}
				/* PostgreSQL text and C strings cannot hold it: refuse it everywhere. */
				if (cp == 0) {
					if (key != NULL)
						snprintf(s->err, s->errsize,
							 "an object key must not contain the character U+0000");
					else if (s->key != NULL)
						snprintf(s->err, s->errsize, "%.*s must not contain the character U+0000",
							 (int)s->key_len, s->key);
					else
						snprintf(s->err, s->errsize,
							 "request body must not contain the character U+0000");
					return 0;
				}
			} else {
				return fail(s, "unknown escape in a string");
			}
			if (key != NULL && !overflow) {
				if (n + 4 > KEY_DECODED_MAX)
					overflow = 1;
				else
					n = put_utf8(key, n, cp);
			}
			continue;
		}
		if (key != NULL && !overflow) {
			if (n + 1 > KEY_DECODED_MAX)
				overflow = 1;
			else
				key[n++] = (char)c;
		}
		s->p++;
	}
	if (s->p >= s->end)
		return fail(s, "unterminated string");
	s->p++;
	/* Raw forms are not comparable ("a" and "\\u0061"), so every key must decode. */
	if (key != NULL && overflow) {
		snprintf(s->err, s->errsize, "request body has an object key longer than %d bytes",
			 KEY_DECODED_MAX - 4);
		return 0;
	}
	if (key_len != NULL)
		*key_len = n;
	return 1;
}

static int digits(struct scan *s)
{
	const char *from = s->p;

	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return s->p > from;
}

static int scan_number(struct scan *s)
{
	if (s->p < s->end && *s->p == '-')
		s->p++;
	if (s->p < s->end && *s->p == '0')
		s->p++;
	else if (!digits(s))
		return fail(s, "unexpected character (NaN, Infinity and quotes other than \" are not JSON)");
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (!digits(s))
			return fail(s, "digits expected after the decimal point");
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (!digits(s))
			return fail(s, "digits expected in the exponent");
	}
	return 1;
}

static int scan_literal(struct scan *s, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return fail(s, "unexpected word");
	s->p += n;
	return 1;
}

static int scan_value(struct scan *s);

/* A key seen in the current object, unescaped. */
struct seen_key {
	char decoded[KEY_DECODED_MAX];
	size_t len;
};

/* 1 when a key can be quoted in a message: short printable ASCII. */
static int key_printable(const struct seen_key *k)
{
	if (k->len == 0 || k->len > 32)
		return 0;
	for (size_t j = 0; j < k->len; j++)
		if (k->decoded[j] <= 0x20 || k->decoded[j] >= 0x7f || k->decoded[j] == '"')
			return 0;
	return 1;
}

/*
 * The keys of the objects being scanned, outermost first: an object's keys
 * sit above those of the objects enclosing it.  Static because a process
 * checks one body at a time and 160 KiB is too much for the stack.
 */
static struct seen_key keys_storage[JSON_MAX_MEMBERS];
static size_t keys_used;

static int scan_object(struct scan *s)
{
	size_t base = keys_used, count = 0;
	struct seen_key *keys = keys_storage + base;

	s->p++;
	skip_ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return 1;
	}
	for (;;) {
		struct seen_key k;

		skip_ws(s);
		if (!scan_string(s, k.decoded, &k.len))
			goto out_fail;
		for (size_t i = 0; i < count; i++) {
			if (k.len == keys[i].len && memcmp(k.decoded, keys[i].decoded, k.len) == 0) {
				if (key_printable(&k))
					snprintf(s->err, s->errsize, "request body has the key \"%.*s\" twice",
						 (int)k.len, k.decoded);
				else
					snprintf(s->err, s->errsize, "request body has a duplicate key");
				goto out_fail;
			}
		}
		if (base + count >= JSON_MAX_MEMBERS) {
			snprintf(s->err, s->errsize, "request body has more than %d object members",
				 JSON_MAX_MEMBERS);
			goto out_fail;
		}
		keys[count++] = k;
		keys_used = base + count;
		skip_ws(s);
		if (s->p >= s->end || *s->p != ':') {
			fail(s, "expected ':' after an object key");
			goto out_fail;
		}
		s->p++;
		s->key = key_printable(&k) ? keys[count - 1].decoded : NULL;
		s->key_len = k.len;
		if (!scan_value(s))
			goto out_fail;
		s->key = NULL;
		skip_ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == '}') {
			s->p++;
			keys_used = base;
			return 1;
		}
		fail(s, "expected ',' or '}' in an object");
		goto out_fail;
	}
out_fail:
	keys_used = base;
	return 0;
}

static int scan_array(struct scan *s)
{
	s->p++;
	skip_ws(s);
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		return 1;
	}
	for (;;) {
		if (!scan_value(s))
			return 0;
		skip_ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == ']') {
			s->p++;
			return 1;
		}
		return fail(s, "expected ',' or ']' in an array");
	}
}

static int scan_value(struct scan *s)
{
	int ok;

	skip_ws(s);
	if (s->p >= s->end)
		return fail(s, "unexpected end of the body");
	switch (*s->p) {
	case '{':
	case '[':
		if (++s->depth > s->max_depth) {
			snprintf(s->err, s->errsize, "request body nests deeper than %d levels", s->max_depth);
			return 0;
		}
		ok = *s->p == '{' ? scan_object(s) : scan_array(s);
		s->depth--;
		return ok;
	case '"':
		return scan_string(s, NULL, NULL);
	case 't':
		return scan_literal(s, "true");
	case 'f':
		return scan_literal(s, "false");
	case 'n':
		return scan_literal(s, "null");
	default:
		return scan_number(s);
	}
}

int json_check(const char *buf, size_t len, int max_depth, char *err, size_t errsize)
{
	struct scan s = {
		.p = buf, .start = buf, .end = buf + len, .max_depth = max_depth,
		.err = err, .errsize = errsize,
	};

	if (!scan_value(&s))
		return 0;
	skip_ws(&s);
	if (s.p != s.end)
		return fail(&s, "unexpected data after the JSON value");
	return 1;
}
