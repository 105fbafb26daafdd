/* etag.c - the If-Match header: "*" or a list of entity tags, checked before any query runs. */
#include "etag.h"

#include <stdio.h>
#include <string.h>

static int is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* etagc = %x21 / %x23-7E / obs-text: anything visible but the double quote. */
static int is_etagc(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c != 0x7f);
}

/* The version a strong tag's text stands for, or 0 when it names none ("03", "abc", too big). */
static long long tag_version(const char *s, size_t len)
{
	long long v = 0;

	if (len == 0 || len > 18 || s[0] == '0')
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int if_match_parse(const char *header, struct if_match *out, char *err, size_t errsize)
{
	const char *p = header;

	memset(out, 0, sizeof *out);
	if (header == NULL)
		return 0;
	out->present = 1;
	for (;;) {
		while (is_ows(*p) || *p == ',')
			p++;
		if (*p == '\0')
			break;
		if (*p == '*') {
			if (out->any || out->tags > 0)
				goto malformed;
			out->any = 1;
			p++;
		} else {
			int weak = p[0] == 'W' && p[1] == '/';
			const char *text;

			if (out->any)
				goto malformed;
			if (weak) {
				p += 2;
				out->weak++;
			}
			if (*p != '"')
				goto malformed;
			text = ++p;
			while (is_etagc((unsigned char)*p))
				p++;
			if (*p != '"')
				goto malformed;
			if (++out->tags > IF_MATCH_MAX_TAGS) {
				snprintf(err, errsize, "If-Match lists more than %d entity tags", IF_MATCH_MAX_TAGS);
				return -1;
			}
			long long v = weak ? 0 : tag_version(text, (size_t)(p - text));

			if (v > 0)
				out->versions[out->n++] = v;
			p++;
		}
		while (is_ows(*p))
			p++;
		if (*p != ',' && *p != '\0')
			goto malformed;
	}
	if (!out->any && out->tags == 0) {
		snprintf(err, errsize, "If-Match is empty: send * or entity tags such as \"3\"");
		return -1;
	}
	return 0;
malformed:
	snprintf(err, errsize, "If-Match must be * or a comma-separated list of entity tags such as \"3\"");
	return -1;
}

const char *if_match_param(const struct if_match *m, char *buf, size_t size)
{
	size_t used;

	if (!m->present || m->any)
		return NULL;
	used = (size_t)snprintf(buf, size, "{");
	for (size_t i = 0; i < m->n && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%lld", i ? "," : "", m->versions[i]);
	if (used < size)
		snprintf(buf + used, size - used, "}");
	return buf;
}
