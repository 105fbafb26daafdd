/* list_query.c - the list endpoint's query parameters: one table row per parameter, each with its validator. */
#define _GNU_SOURCE             /* strcasestr */
#include "list_query.h"
#include "crypto.h"
#include "validate.h"

#include <stdio.h>
#include <string.h>

/* Longest decoded value looked at; longer ones fail their parameter's rule. */
#define VALUE_MAX 255

typedef int (*param_parser)(struct list_query *out, const char *v, size_t len);

static int parse_provider(struct list_query *out, const char *v, size_t len)
{
	if (len >= sizeof out->provider || !provider_known(v))
		return -1;
	memcpy(out->provider, v, len + 1);
	return 0;
}

static int parse_is_default(struct list_query *out, const char *v, size_t len)
{
	(void)len;
	if (strcmp(v, "true") == 0)
		out->is_default = 1;
	else if (strcmp(v, "false") == 0)
		out->is_default = 0;
	else
		return -1;
	return 0;
}

static int parse_q(struct list_query *out, const char *v, size_t len)
{
	if (len > LIST_Q_MAX)
		return -1;
	memcpy(out->q, v, len + 1);
	out->q_len = len;
	return 0;
}

/* Digits only (leading zeros allowed, as Go's strconv.Atoi allows them), min..max. */
static int parse_number(const char *v, long min, long max, long *out)
{
	long long n = 0;
	size_t digits = 0;

	while (*v == '0' && v[1] != '\0')
		v++;
	for (; *v != '\0'; v++) {
		if (*v < '0' || *v > '9' || ++digits > 10)
			return -1;
		n = n * 10 + (*v - '0');
	}
	if (n < min || n > max)
		return -1;
	*out = (long)n;
	return 0;
}

static int parse_page(struct list_query *out, const char *v, size_t len)
{
	(void)len;
	return parse_number(v, 1, LIST_PAGE_MAX, &out->page);
}

static int parse_page_size(struct list_query *out, const char *v, size_t len)
{
	(void)len;
	return parse_number(v, 1, LIST_PAGE_SIZE_MAX, &out->page_size);
}

/*
 * A repository name as the Registry API spells it: path components of
 * lowercase letters and digits, separated inside by '.', '_', '__' or dashes,
 * joined by '/'.  It goes into a registry URL path: no "..", no empty
 * component, no '%', nothing to escape.
 */
static int parse_repository(struct list_query *out, const char *v, size_t len)
{
	if (len > LIST_REPOSITORY_MAX)
		return -1;
	for (const char *p = v; *p != '\0';) {
		size_t comp = strcspn(p, "/");

		if (comp == 0 || strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789._-") != comp ||
		    strchr("._-", p[0]) != NULL || strchr("._-", p[comp - 1]) != NULL)
			return -1;
		p += comp;
		if (*p == '/' && *++p == '\0')
			return -1;      /* a trailing slash */
	}
	memcpy(out->repository, v, len + 1);
	return 0;
}

/* One line per parameter: its name, its parser, and what it must be (the rest of the error message). */
static const struct param_rule {
	const char *name;
	param_parser parse;
	const char *rule;               /* NULL: built from the provider table */
} param_rules[] = {
	[LQ_PROVIDER] = { "provider", parse_provider, NULL },
	[LQ_IS_DEFAULT] = { "is_default", parse_is_default, "must be true or false" },
	[LQ_Q] = { "q", parse_q, "must be at most 200 bytes" },
	[LQ_PAGE] = { "page", parse_page, "must be a whole number from 1 to 1000000000" },
	[LQ_PAGE_SIZE] = { "page_size", parse_page_size, "must be a whole number from 1 to 100" },
	[LQ_REPOSITORY] = { "repository", parse_repository,
			    "must be a repository name: lowercase components (a-z, 0-9, '.', '_', '-') joined by '/'" },
};


/*
 * Decodes s[0..len) (application/x-www-form-urlencoded: %XY, '+' is a space)
 * into out[0..outsize), NUL-terminated.  Returns the decoded length, -1 for a
 * bad escape, -2 when it does not fit.
 */
static long decode(const char *s, size_t len, char *out, size_t outsize)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= len)
				return -1;
			hi = hex_value(s[i + 1]);
			lo = hex_value(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (n + 1 >= outsize)
			return -2;
		out[n++] = c;
	}
	out[n] = '\0';
	return (long)n;
}

static void provider_rule(char *buf, size_t size)
{
	size_t used = (size_t)snprintf(buf, size, "must be one of ");
	const char *name;

	for (size_t i = 0; (name = provider_name(i)) != NULL && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "", name);
}

/* Checks and stores one known parameter's raw value; 0, or -1 with err set. */
static int take(struct list_query *out, size_t idx, const char *raw, size_t raw_len, char *err, size_t errsize)
{
	const struct param_rule *p = &param_rules[idx];
	char value[VALUE_MAX + 1], rule[128];
	long len;

	if (out->seen & (1u << idx)) {
		snprintf(err, errsize, "query parameter %s is given more than once", p->name);
		return -1;
	}
	out->seen |= 1u << idx;
	len = decode(raw, raw_len, value, sizeof value);
	if (len == -1) {
		snprintf(err, errsize, "query parameter %s is not valid percent-encoding", p->name);
		return -1;
	}
	if (len == 0) {
		snprintf(err, errsize, "query parameter %s must not be empty", p->name);
		return -1;
	}
	if (len > 0 && memchr(value, '\0', (size_t)len) != NULL) {
		snprintf(err, errsize, "query parameter %s must not contain U+0000", p->name);
		return -1;
	}
	if (len > 0 && !utf8_valid(value, (size_t)len)) {
		snprintf(err, errsize, "query parameter %s is not valid UTF-8", p->name);
		return -1;
	}
	/* Too long to decode (-2) breaks every parameter's rule. */
	if (len < 0 || p->parse(out, value, (size_t)len) < 0) {
		if (p->rule == NULL)
			provider_rule(rule, sizeof rule);
		snprintf(err, errsize, "query parameter %s %s", p->name, p->rule ? p->rule : rule);
		return -1;
	}
	return 0;
}

/* The index of the known parameter a raw name decodes to, or -1 (unknown parameters are ignored). */
static int known_param(const char *raw, size_t len)
{
	char name[32];

	if (decode(raw, len, name, sizeof name) < 0)
		return -1;
	for (size_t i = 0; i < sizeof param_rules / sizeof param_rules[0]; i++)
		if (strcmp(name, param_rules[i].name) == 0)
			return (int)i;
	return -1;
}

int list_query_parse(const char *query, struct list_query *out, char *err, size_t errsize)
{
	memset(out, 0, sizeof *out);
	out->is_default = -1;
	for (const char *p = query ? query : ""; *p != '\0';) {
		size_t len = strcspn(p, "&");
		size_t name_len = strcspn(p, "=&");
		int idx = known_param(p, name_len);

		if (idx >= 0) {
			/* "name" without "=" has an empty value, as in Go's url.ParseQuery. */
			const char *value = name_len < len ? p + name_len + 1 : p + len;
			size_t value_len = name_len < len ? len - name_len - 1 : 0;

			if (take(out, (size_t)idx, value, value_len, err, errsize) < 0)
				return -1;
		}
		p += len;
		if (*p == '&')
			p++;
	}
	if (out->page != 0 && out->page_size == 0)
		out->page_size = LIST_PAGE_SIZE_DEFAULT;
	if (out->page_size != 0 && out->page == 0)
		out->page = 1;
	return 0;
}

int list_query_active(const struct list_query *q)
{
	return q->provider[0] != '\0' || q->is_default >= 0 || q->q_len > 0 || q->page > 0;
}

int list_query_match(const struct list_query *q, const char *address, const char *provider,
		     const char *namespace, int is_default)
{
	if (q->provider[0] != '\0' && strcmp(provider, q->provider) != 0)
		return 0;
	if (q->is_default >= 0 && (is_default != 0) != q->is_default)
		return 0;
	/*
	 * glibc's strcasestr runs in linear time (two-way), and folds ASCII
	 * letters only: the responder never calls setlocale, so it is in the C
	 * locale.  Neither string can hold a NUL (PostgreSQL text, and q refuses
	 * U+0000).
	 */
	if (q->q_len > 0 && strcasestr(address, q->q) == NULL && strcasestr(namespace, q->q) == NULL)
		return 0;
	return 1;
}
