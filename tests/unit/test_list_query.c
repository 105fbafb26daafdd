/* test_list_query.c - the list endpoint's query parameters: list_query_parse and list_query_match, one row each. */
#include "check.h"
#include "list_query.h"

#include <stdio.h>
#include <string.h>

/*
 * One row: a QUERY_STRING and either the substring the error must contain, or
 * what the struct must hold afterwards (provider, is_default, q, page,
 * page_size; active = list_query_active).
 */
struct parse_case {
	const char *name;
	const char *query;
	const char *err;                /* NULL: must parse */
	const char *provider;
	int is_default;
	const char *q;
	long page, page_size;
	int active;
};

/* Parses; the rest as given. */
#define OK(name, query, provider, is_default, q, page, page_size, active) \
	{ name, query, NULL, provider, is_default, q, page, page_size, active }
/* Fails with err containing msg. */
#define NO(name, query, msg) { name, query, msg, "", -1, "", 0, 0, 0 }
#define A100 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const struct parse_case cases[] = {
	/* No parameters: everything, as before filters existed. */
	OK("NULL query string", NULL, "", -1, "", 0, 0, 0),
	OK("empty query string", "", "", -1, "", 0, 0, 0),
	OK("only separators", "&&&", "", -1, "", 0, 0, 0),
	OK("unknown parameters are ignored", "foo=bar&x&y=&projectName=zadig", "", -1, "", 0, 0, 0),
	OK("unknown parameter given twice is ignored", "foo=1&foo=2", "", -1, "", 0, 0, 0),
	OK("unknown parameter with a bad escape is ignored", "foo=%zz&b%z=1", "", -1, "", 0, 0, 0),
	OK("names are case-sensitive: Provider is unknown", "Provider=bogus", "", -1, "", 0, 0, 0),

	/* provider */
	OK("provider harbor", "provider=harbor", "harbor", -1, "", 0, 0, 1),
	OK("provider ecr", "provider=ecr", "ecr", -1, "", 0, 0, 1),
	OK("every provider: native", "provider=native", "native", -1, "", 0, 0, 1),
	OK("provider percent-encoded", "provider=%68arbor", "harbor", -1, "", 0, 0, 1),
	OK("parameter name percent-encoded", "%70rovider=nexus", "nexus", -1, "", 0, 0, 1),
	NO("provider unknown", "provider=quay", "query parameter provider must be one of acr, tcr, swr, ecr, "
	   "dockerhub, harbor, nexus, native"),
	NO("provider upper case", "provider=Harbor", "provider must be one of"),
	NO("provider empty", "provider=", "query parameter provider must not be empty"),
	NO("provider without =", "provider", "query parameter provider must not be empty"),
	NO("provider twice", "provider=harbor&provider=acr", "query parameter provider is given more than once"),
	NO("provider twice, same value", "provider=acr&provider=acr", "provider is given more than once"),
	NO("provider twice, once encoded", "provider=acr&%70rovider=acr", "provider is given more than once"),
	NO("provider with trailing space", "provider=harbor+", "provider must be one of"),
	NO("provider very long", "provider=" A100 A100 A100, "provider must be one of"),

	/* is_default */
	OK("is_default true", "is_default=true", "", 1, "", 0, 0, 1),
	OK("is_default false", "is_default=false", "", 0, "", 0, 0, 1),
	NO("is_default TRUE", "is_default=TRUE", "query parameter is_default must be true or false"),
	NO("is_default 1", "is_default=1", "is_default must be true or false"),
	NO("is_default yes", "is_default=yes", "is_default must be true or false"),
	NO("is_default empty", "is_default=", "query parameter is_default must not be empty"),
	NO("is_default twice", "is_default=true&is_default=true", "is_default is given more than once"),

	/* q */
	OK("q plain", "q=team", "", -1, "team", 0, 0, 1),
	OK("q plus is a space", "q=my+team", "", -1, "my team", 0, 0, 1),
	OK("q %20 is a space", "q=my%20team", "", -1, "my team", 0, 0, 1),
	OK("q encoded ampersand and equals", "q=a%26b%3Dc", "", -1, "a&b=c", 0, 0, 1),
	OK("q keeps a literal =", "q=a=b", "", -1, "a=b", 0, 0, 1),
	OK("q UTF-8", "q=%C3%A9quipe", "", -1, "\xc3\xa9quipe", 0, 0, 1),
	OK("q of 200 bytes", "q=" A100 A100, "", -1, A100 A100, 0, 0, 1),
	NO("q of 201 bytes", "q=a" A100 A100, "query parameter q must be at most 200 bytes"),
	NO("q of 201 bytes, some encoded", "q=%41%41%41" A100 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "q must be at most 200 bytes"),
	NO("q far too long", "q=" A100 A100 A100, "q must be at most 200 bytes"),
	NO("q empty", "q=", "query parameter q must not be empty"),
	NO("q bad escape", "q=%zz", "query parameter q is not valid percent-encoding"),
	NO("q truncated escape", "q=ab%4", "query parameter q is not valid percent-encoding"),
	NO("q lone percent", "q=%", "q is not valid percent-encoding"),
	NO("q with NUL", "q=a%00b", "query parameter q must not contain U+0000"),
	NO("q invalid UTF-8", "q=%C3", "query parameter q is not valid UTF-8"),
	NO("q overlong UTF-8", "q=%C0%AF", "q is not valid UTF-8"),
	NO("q raw invalid UTF-8", "q=\xff", "q is not valid UTF-8"),
	NO("q twice", "q=a&q=b", "query parameter q is given more than once"),

	/* page and page_size */
	OK("page alone: 20 a page", "page=2", "", -1, "", 2, 20, 1),
	OK("page_size alone: page 1", "page_size=5", "", -1, "", 1, 5, 1),
	OK("both", "page=3&page_size=7", "", -1, "", 3, 7, 1),
	OK("page_size 100", "page_size=100", "", -1, "", 1, 100, 1),
	OK("page 1", "page=1", "", -1, "", 1, 20, 1),
	OK("highest page", "page=1000000000", "", -1, "", 1000000000, 20, 1),
	OK("leading zeros", "page=007&page_size=0010", "", -1, "", 7, 10, 1),
	NO("page 0", "page=0", "query parameter page must be a whole number from 1 to 1000000000"),
	NO("page negative", "page=-1", "page must be a whole number from 1 to 1000000000"),
	NO("page plus sign", "page=%2B1", "page must be a whole number"),
	NO("page with space", "page=+1", "page must be a whole number"),
	NO("page too big", "page=1000000001", "page must be a whole number from 1 to 1000000000"),
	NO("page huge", "page=99999999999999999999999", "page must be a whole number"),
	NO("page not a number", "page=two", "page must be a whole number"),
	NO("page fraction", "page=1.5", "page must be a whole number"),
	NO("page hex", "page=0x10", "page must be a whole number"),
	NO("page empty", "page=", "query parameter page must not be empty"),
	NO("page twice", "page=1&page=1", "query parameter page is given more than once"),
	NO("page_size 0", "page_size=0", "query parameter page_size must be a whole number from 1 to 100"),
	NO("page_size 101", "page_size=101", "page_size must be a whole number from 1 to 100"),
	NO("page_size empty", "page_size", "query parameter page_size must not be empty"),
	NO("page_size twice", "page_size=10&page_size=20", "page_size is given more than once"),

	/* Together */
	OK("all five", "provider=harbor&is_default=false&q=Team&page=2&page_size=10", "harbor", 0, "Team", 2, 10, 1),
	OK("all five, any order, with unknown ones", "page_size=10&x=1&q=Team&page=2&is_default=false&provider=harbor",
	   "harbor", 0, "Team", 2, 10, 1),
	NO("first error wins", "page=0&provider=quay", "query parameter page must be"),
	NO("a valid and a bad one", "provider=harbor&is_default=maybe", "is_default must be true or false"),
};

static void test_parse(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct parse_case *c = &cases[i];
		struct list_query q;
		char err[256] = "";
		int rc = list_query_parse(c->query, &q, err, sizeof err);

		if (c->err != NULL) {
			if (CHECK(rc == -1, "%s: parsed, want an error", c->name))
				CHECK(strstr(err, c->err) != NULL, "%s: error \"%s\" lacks \"%s\"", c->name, err, c->err);
			continue;
		}
		if (!CHECK(rc == 0, "%s: failed: %s", c->name, err))
			continue;
		CHECK_STR(q.provider, c->provider, "%s: provider", c->name);
		CHECK(q.is_default == c->is_default, "%s: is_default %d, want %d", c->name, q.is_default, c->is_default);
		CHECK_STR(q.q, c->q, "%s: q", c->name);
		CHECK(q.q_len == strlen(c->q), "%s: q_len %zu", c->name, q.q_len);
		CHECK(q.page == c->page && q.page_size == c->page_size, "%s: page %ld size %ld, want %ld %ld", c->name,
		      q.page, q.page_size, c->page, c->page_size);
		CHECK(list_query_active(&q) == c->active, "%s: active %d", c->name, list_query_active(&q));
	}
}

/* The repository parameter of the tags route: a Registry API name, or a 400 naming it. */
static const struct repository_case {
	const char *query;
	const char *want;               /* NULL: refused */
} repository_cases[] = {
	{ "repository=team/app", "team/app" },
	{ "repository=team%2Fapp", "team/app" },
	{ "repository=a/b/c.d_e-f", "a/b/c.d_e-f" },
	{ "repository=app", "app" },
	{ "repository=Team/app", NULL },
	{ "repository=team//app", NULL },
	{ "repository=/team/app", NULL },
	{ "repository=team/app/", NULL },
	{ "repository=team/../etc", NULL },
	{ "repository=team/.app", NULL },
	{ "repository=team/app-", NULL },
	{ "repository=team/app%3Fx", NULL },
	{ "repository=team/a%20pp", NULL },
	{ "repository=", NULL },
	{ "repository=" A100 A100 A100, NULL },
};

static void test_repository(void)
{
	for (size_t i = 0; i < sizeof repository_cases / sizeof repository_cases[0]; i++) {
		const struct repository_case *c = &repository_cases[i];
		struct list_query q;
		char err[256];
		int rc = list_query_parse(c->query, &q, err, sizeof err);

		if (c->want != NULL)
			CHECK(rc == 0 && strcmp(q.repository, c->want) == 0 && (q.seen & 1u << LQ_REPOSITORY),
			      "%s: parsed as %s", c->query, rc == 0 ? q.repository : err);
		else
			CHECK(rc == -1 && strstr(err, "repository") != NULL, "%s: refused naming it (%s)", c->query,
			      rc == 0 ? q.repository : err);
	}
}

/* A small error buffer still gets a NUL-terminated (truncated) message. */
static void test_small_err(void)
{
	struct list_query q;
	char err[8];

	memset(err, 'x', sizeof err);
	CHECK(list_query_parse("page=0", &q, err, sizeof err) == -1, "small err: parsed");
	CHECK(memchr(err, '\0', sizeof err) != NULL, "small err: not terminated");
}

/* One registry and a query: match or not. */
static const struct match_case {
	const char *name;
	const char *query;
	const char *address, *provider, *namespace;
	int is_default;
	int want;
} match_cases[] = {
	{ "no filter matches all", "", "https://a", "acr", "ns", 0, 1 },
	{ "paging alone filters nothing", "page=9", "https://a", "acr", "ns", 0, 1 },
	{ "provider equal", "provider=acr", "https://a", "acr", "ns", 0, 1 },
	{ "provider differs", "provider=tcr", "https://a", "acr", "ns", 0, 0 },
	{ "is_default true on the default", "is_default=true", "https://a", "acr", "ns", 1, 1 },
	{ "is_default true on another", "is_default=true", "https://a", "acr", "ns", 0, 0 },
	{ "is_default false on another", "is_default=false", "https://a", "acr", "ns", 0, 1 },
	{ "is_default false on the default", "is_default=false", "https://a", "acr", "ns", 1, 0 },
	{ "q in the address", "q=example", "https://registry.example.com", "acr", "ns", 0, 1 },
	{ "q in the namespace", "q=team", "https://a", "acr", "my-team", 0, 1 },
	{ "q in neither", "q=zzz", "https://a", "acr", "ns", 0, 0 },
	{ "q ignores ASCII case", "q=ExAmPlE", "https://REGISTRY.EXAMPLE.com", "acr", "ns", 0, 1 },
	{ "q ignores case in the namespace", "q=TEAM", "https://a", "acr", "Team-A", 0, 1 },
	{ "q the whole address", "q=https%3A%2F%2Fa", "https://a", "acr", "ns", 0, 1 },
	{ "q longer than the field", "q=https%3A%2F%2Fab", "https://a", "acr", "ns", 0, 0 },
	{ "q matches the scheme too", "q=https", "https://a", "acr", "ns", 0, 1 },
	{ "q is not a provider filter", "q=acr", "https://a", "acr", "ns", 0, 0 },
	{ "q non-ASCII exact", "q=%C3%A9quipe", "https://a", "acr", "\xc3\xa9quipe", 0, 1 },
	{ "q non-ASCII not folded", "q=%C3%89QUIPE", "https://a", "acr", "\xc3\xa9quipe", 0, 0 },
	{ "q against an empty namespace (ecr)", "q=x", "https://a", "ecr", "", 0, 0 },
	{ "all filters pass", "provider=acr&is_default=true&q=NS", "https://a", "acr", "ns", 1, 1 },
	{ "all but one filter pass", "provider=acr&is_default=false&q=NS", "https://a", "acr", "ns", 1, 0 },
};

static void test_match(void)
{
	for (size_t i = 0; i < sizeof match_cases / sizeof match_cases[0]; i++) {
		const struct match_case *c = &match_cases[i];
		struct list_query q;
		char err[256];

		if (!CHECK(list_query_parse(c->query, &q, err, sizeof err) == 0, "%s: %s", c->name, err))
			continue;
		CHECK(list_query_match(&q, c->address, c->provider, c->namespace, c->is_default) == c->want,
		      "%s: match is %d", c->name, !c->want);
	}
}

int main(void)
{
	test_parse();
	test_repository();
	test_small_err();
	test_match();
	return check_done();
}
