/* regcheck_challenge.c - the registry check's WWW-Authenticate parser (RFC 9110 section 11.6.1). */
#include "regcheck_challenge.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

static int is_tchar(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

static int is_token68_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch != '\0' && strchr("-._~+/", ch) != NULL);
}

static const char *skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static size_t token_len(const char *p)
{
	size_t n = 0;

	while (is_tchar(p[n]))
		n++;
	return n;
}

/*
 * A quoted-string at p (on the opening quote), unescaped into out.  Returns
 * the position after the closing quote, or NULL when it is unterminated,
 * holds a control character or does not fit.
 */
static const char *quoted_string(const char *p, char *out, size_t outsize)
{
	size_t n = 0;

	for (p++; *p != '"'; p++) {
		if (*p == '\\')
			p++;
		if (*p == '\0' || ((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
			return NULL;
		if (n + 1 >= outsize)
			return NULL;
		out[n++] = *p;
	}
	out[n] = '\0';
	return p + 1;
}

static int scheme_rank(enum regcheck_scheme s)
{
	return s == SCHEME_BEARER ? 3 : s == SCHEME_BASIC ? 2 : s == SCHEME_OTHER ? 1 : 0;
}

static void offer(struct regcheck_challenge *best, const struct regcheck_challenge *c)
{
	if (scheme_rank(c->scheme) > scheme_rank(best->scheme))
		*best = *c;
}

/* Stores a parameter of the current challenge; -1 when it does not fit. */
static int set_param(struct regcheck_challenge *c, const char *name, size_t name_len, const char *value)
{
	static const struct {
		const char *name;
		size_t offset, size;
	} params[] = {
		{ "realm", offsetof(struct regcheck_challenge, realm), sizeof ((struct regcheck_challenge *)0)->realm },
		{ "service", offsetof(struct regcheck_challenge, service), sizeof ((struct regcheck_challenge *)0)->service },
		{ "scope", offsetof(struct regcheck_challenge, scope), sizeof ((struct regcheck_challenge *)0)->scope },
	};

	for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) {
		if (strlen(params[i].name) != name_len || strncasecmp(params[i].name, name, name_len) != 0)
			continue;
		if (strlen(value) >= params[i].size)
			return -1;
		memcpy((char *)c + params[i].offset, value, strlen(value) + 1);
	}
	return 0;
}

int regcheck_parse_challenge(const char *value, struct regcheck_challenge *best)
{
	struct regcheck_challenge keep = *best, cur;
	char val[1024];
	int have = 0;
	const char *p = value;

	memset(&cur, 0, sizeof cur);
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		size_t n = token_len(p);
		const char *name = p, *q;

		if (n == 0)
			return -1;
		q = skip_ows(p + n);
		if (*q != '=') {
			/* A new challenge: its scheme, then perhaps a token68. */
			if (have)
				offer(&keep, &cur);
			memset(&cur, 0, sizeof cur);
			have = 1;
			cur.scheme = n == 5 && strncasecmp(name, "basic", 5) == 0 ? SCHEME_BASIC
				   : n == 6 && strncasecmp(name, "bearer", 6) == 0 ? SCHEME_BEARER
				   : SCHEME_OTHER;
			if (q > p + n && is_token68_char(*q)) {
				const char *t = q, *e;

				while (is_token68_char(*t))
					t++;
				while (*t == '=')
					t++;
				e = skip_ows(t);
				if (*e == '\0' || *e == ',')
					q = e;
			}
			p = q;
			if (*p != '\0' && *p != ',' && q == p && !is_tchar(*p))
				return -1;
			continue;
		}
		/* An auth-param: name = token / quoted-string. */
		if (!have)
			return -1;
		q = skip_ows(q + 1);
		if (*q == '"') {
			q = quoted_string(q, val, sizeof val);
			if (q == NULL)
				return -1;
		} else {
			size_t m = token_len(q);

			if (m == 0 || m >= sizeof val)
				return -1;
			memcpy(val, q, m);
			val[m] = '\0';
			q += m;
		}
		if (set_param(&cur, name, n, val) < 0)
			return -1;
		p = skip_ows(q);
		if (*p != '\0' && *p != ',')
			return -1;
	}
	if (have)
		offer(&keep, &cur);
	*best = keep;
	return 0;
}
