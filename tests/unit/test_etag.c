/* test_etag.c - the If-Match header: if_match_parse and the SQL parameter it becomes, one row each. */
#include "check.h"
#include "etag.h"

#include <string.h>

/*
 * One row: a header value (NULL = absent) and either the substring the error
 * must contain, or the p_if_match parameter it must give (NULL = no condition)
 * and how many entity tags it listed.
 */
static const struct if_match_case {
	const char *name;
	const char *header;
	const char *err;
	const char *param;
	size_t tags;
} cases[] = {
	{ "absent: no condition", NULL, NULL, NULL, 0 },
	{ "star: any existing version", "*", NULL, NULL, 0 },
	{ "star with spaces", "  *\t", NULL, NULL, 0 },
	{ "one strong tag", "\"3\"", NULL, "{3}", 1 },
	{ "big version", "\"123456789012345678\"", NULL, "{123456789012345678}", 1 },
	{ "a list", "\"1\", \"2\",\"3\"", NULL, "{1,2,3}", 3 },
	{ "empty list elements are allowed", ", \"1\" ,, \"2\",", NULL, "{1,2}", 2 },
	{ "weak tag never matches", "W/\"3\"", NULL, "{}", 1 },
	{ "weak and strong", "W/\"3\", \"4\"", NULL, "{4}", 2 },
	{ "strong tag that is no version", "\"abc\"", NULL, "{}", 1 },
	{ "leading zero is another tag", "\"03\"", NULL, "{}", 1 },
	{ "zero is no version", "\"0\"", NULL, "{}", 1 },
	{ "negative is no version", "\"-1\"", NULL, "{}", 1 },
	{ "too many digits", "\"12345678901234567890\"", NULL, "{}", 1 },
	{ "empty strong tag", "\"\"", NULL, "{}", 1 },
	{ "obs-text inside a tag", "\"\xc3\xa9\"", NULL, "{}", 1 },
	{ "32 tags", "\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\",\"12\",\"13\",\"14\",\"15\","
	  "\"16\",\"17\",\"18\",\"19\",\"20\",\"21\",\"22\",\"23\",\"24\",\"25\",\"26\",\"27\",\"28\",\"29\",\"30\","
	  "\"31\",\"32\"", NULL, "{1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,"
	  "31,32}", 32 },
	{ "33 tags", "\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\",\"12\",\"13\",\"14\",\"15\","
	  "\"16\",\"17\",\"18\",\"19\",\"20\",\"21\",\"22\",\"23\",\"24\",\"25\",\"26\",\"27\",\"28\",\"29\",\"30\","
	  "\"31\",\"32\",\"33\"", "If-Match lists more than 32 entity tags", NULL, 0 },
	{ "empty header", "", "If-Match is empty", NULL, 0 },
	{ "only commas and spaces", " , ,", "If-Match is empty", NULL, 0 },
	{ "unquoted", "3", "If-Match must be * or a comma-separated list of entity tags", NULL, 0 },
	{ "unterminated", "\"3", "If-Match must be", NULL, 0 },
	{ "lower-case weak prefix", "w/\"3\"", "If-Match must be", NULL, 0 },
	{ "space inside a tag", "\"3 4\"", "If-Match must be", NULL, 0 },
	{ "two tags without a comma", "\"3\" \"4\"", "If-Match must be", NULL, 0 },
	{ "star twice", "*, *", "If-Match must be", NULL, 0 },
	{ "star and a tag", "*, \"3\"", "If-Match must be", NULL, 0 },
	{ "a tag and star", "\"3\", *", "If-Match must be", NULL, 0 },
	{ "single quotes", "'3'", "If-Match must be", NULL, 0 },
	{ "control character", "\"3\x01\"", "If-Match must be", NULL, 0 },
	{ "junk after the tag", "\"3\"x", "If-Match must be", NULL, 0 },
};

static void test_parse(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct if_match_case *c = &cases[i];
		struct if_match m;
		char err[256] = "", buf[IF_MATCH_PARAM_SIZE];
		int rc = if_match_parse(c->header, &m, err, sizeof err);

		if (c->err != NULL) {
			if (CHECK(rc == -1, "%s: parsed, want an error", c->name))
				CHECK(strstr(err, c->err) != NULL, "%s: error \"%s\" lacks \"%s\"", c->name, err, c->err);
			continue;
		}
		if (!CHECK(rc == 0, "%s: failed: %s", c->name, err))
			continue;
		CHECK(m.present == (c->header != NULL), "%s: present %d", c->name, m.present);
		CHECK(m.tags == c->tags, "%s: %zu tags, want %zu", c->name, m.tags, c->tags);
		CHECK_STR(if_match_param(&m, buf, sizeof buf), c->param, "%s: parameter", c->name);
	}
}

/* Weak tags are counted, so a 412 can say why they did not match. */
static void test_weak_count(void)
{
	static const struct { const char *header; size_t weak; } rows[] = {
		{ "\"1\"", 0 }, { "W/\"1\"", 1 }, { "W/\"1\", \"2\", W/\"x\"", 2 }, { "*", 0 },
	};

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct if_match m;
		char err[128];

		if (CHECK(if_match_parse(rows[i].header, &m, err, sizeof err) == 0, "%s: %s", rows[i].header, err))
			CHECK(m.weak == rows[i].weak, "%s: %zu weak, want %zu", rows[i].header, m.weak, rows[i].weak);
	}
}

/* The largest list fits the parameter buffer. */
static void test_param_size(void)
{
	struct if_match m;
	char buf[IF_MATCH_PARAM_SIZE];

	memset(&m, 0, sizeof m);
	m.present = 1;
	m.tags = m.n = IF_MATCH_MAX_TAGS;
	for (size_t i = 0; i < IF_MATCH_MAX_TAGS; i++)
		m.versions[i] = 999999999999999999LL;
	const char *p = if_match_param(&m, buf, sizeof buf);
	CHECK(p != NULL && strlen(p) == 2 + IF_MATCH_MAX_TAGS * 18 + IF_MATCH_MAX_TAGS - 1 && p[strlen(p) - 1] == '}',
	      "largest parameter truncated: %zu bytes", p ? strlen(p) : 0);
}

int main(void)
{
	test_parse();
	test_weak_count();
	test_param_size();
	return check_done();
}
