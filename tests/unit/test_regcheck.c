/*
 * test_regcheck.c - the registry check's pure parts: the SSRF guard's address
 * classes and allow-list (IPv4-mapped and other IPv6 forms of IPv4 included),
 * check_allow_networks parsing, WWW-Authenticate challenges, the result's
 * JSON shape.  The network part is tested end to end (tests/e2e/t_registry_check.py).
 */
#include "check.h"
#include "regcheck.h"
#include "regcheck_challenge.h"
#include "regcheck_net.h"

#include <arpa/inet.h>
#include <json-c/json.h>
#include <string.h>

/* Address text to family and bytes; 0 when it is not an address (a broken case). */
static int parse_addr(const char *text, int *family, unsigned char bytes[16])
{
	if (inet_pton(AF_INET, text, bytes) == 1) {
		*family = AF_INET;
		return 1;
	}
	if (inet_pton(AF_INET6, text, bytes) == 1) {
		*family = AF_INET6;
		return 1;
	}
	return 0;
}

/* regcheck_classify: one row per address. */
static const struct class_case {
	const char *addr;
	enum regcheck_addr want;
} class_cases[] = {
	{ "127.0.0.1", ADDR_LOOPBACK },
	{ "127.255.255.254", ADDR_LOOPBACK },
	{ "126.255.255.255", ADDR_PUBLIC },
	{ "128.0.0.1", ADDR_PUBLIC },
	{ "169.254.0.1", ADDR_LINK_LOCAL },
	{ "169.254.255.255", ADDR_LINK_LOCAL },
	{ "169.253.255.255", ADDR_PUBLIC },
	{ "169.255.0.0", ADDR_PUBLIC },
	{ "169.254.169.254", ADDR_METADATA },
	{ "169.254.169.253", ADDR_LINK_LOCAL },
	{ "169.254.170.2", ADDR_METADATA },
	{ "169.254.170.23", ADDR_METADATA },
	{ "169.254.170.3", ADDR_LINK_LOCAL },
	{ "::ffff:169.254.170.2", ADDR_METADATA },
	{ "fd00:ec2::23", ADDR_METADATA },
	{ "fd00:ec2::24", ADDR_PUBLIC },
	{ "100.100.100.200", ADDR_METADATA },
	{ "100.100.100.201", ADDR_PUBLIC },
	{ "0.0.0.0", ADDR_UNSPECIFIED },
	{ "0.1.2.3", ADDR_UNSPECIFIED },
	{ "1.0.0.0", ADDR_PUBLIC },
	/* On-premises registries live in private networks: allowed by default. */
	{ "10.0.0.1", ADDR_PUBLIC },
	{ "172.16.0.1", ADDR_PUBLIC },
	{ "192.168.1.1", ADDR_PUBLIC },
	{ "8.8.8.8", ADDR_PUBLIC },
	{ "::1", ADDR_LOOPBACK },
	{ "::", ADDR_UNSPECIFIED },
	{ "fe80::1", ADDR_LINK_LOCAL },
	{ "febf:ffff::1", ADDR_LINK_LOCAL },
	{ "fec0::1", ADDR_PUBLIC },
	{ "fe7f::1", ADDR_PUBLIC },
	{ "fd00:ec2::254", ADDR_METADATA },
	{ "fd00:ec2::253", ADDR_PUBLIC },
	{ "fd00::1", ADDR_PUBLIC },
	{ "2001:db8::1", ADDR_PUBLIC },
	/* IPv6 spellings of IPv4 addresses are judged as the IPv4 address. */
	{ "::ffff:127.0.0.1", ADDR_LOOPBACK },
	{ "::ffff:7f00:1", ADDR_LOOPBACK },
	{ "::ffff:169.254.169.254", ADDR_METADATA },
	{ "::ffff:169.254.1.1", ADDR_LINK_LOCAL },
	{ "::ffff:0.0.0.0", ADDR_UNSPECIFIED },
	{ "::ffff:10.0.0.1", ADDR_PUBLIC },
	{ "::127.0.0.1", ADDR_LOOPBACK },
	{ "64:ff9b::127.0.0.1", ADDR_LOOPBACK },
	{ "64:ff9b::169.254.169.254", ADDR_METADATA },
	{ "64:ff9b::8.8.8.8", ADDR_PUBLIC },
	{ "64:ff9b:1::127.0.0.1", ADDR_PUBLIC },
	{ "::fffe:127.0.0.1", ADDR_PUBLIC },
};

static void test_classify(void)
{
	for (size_t i = 0; i < sizeof class_cases / sizeof class_cases[0]; i++) {
		const struct class_case *c = &class_cases[i];
		unsigned char bytes[16];
		int family = 0;

		if (!CHECK(parse_addr(c->addr, &family, bytes), "%s parses", c->addr))
			continue;
		CHECK_STR(regcheck_addr_name(regcheck_classify(family, bytes)), regcheck_addr_name(c->want),
			  "class of %s", c->addr);
	}
	unsigned char zero[16] = { 0 };
	CHECK(regcheck_classify(AF_UNIX, zero) == ADDR_NOT_IP, "AF_UNIX is not an IP address");
}

/* regcheck_vet: the class, unless an allowed network holds the address; metadata never. */
static const struct vet_case {
	const char *allow;
	const char *addr;
	enum regcheck_addr want;
} vet_cases[] = {
	{ "", "127.0.0.1", ADDR_LOOPBACK },
	{ "", "10.1.2.3", ADDR_PUBLIC },
	{ "127.0.0.0/8", "127.0.0.1", ADDR_PUBLIC },
	{ "127.0.0.0/8", "127.1.2.3", ADDR_PUBLIC },
	{ "127.0.0.0/8", "::ffff:127.0.0.1", ADDR_PUBLIC },
	{ "127.0.0.0/8", "64:ff9b::127.0.0.1", ADDR_PUBLIC },
	{ "127.0.0.0/8", "::1", ADDR_LOOPBACK },
	{ "127.0.0.1/32", "127.0.0.2", ADDR_LOOPBACK },
	{ "127.0.0.1", "127.0.0.1", ADDR_PUBLIC },
	{ "::1/128", "::1", ADDR_PUBLIC },
	{ "::1", "127.0.0.1", ADDR_LOOPBACK },
	{ "10.0.0.0/8 127.0.0.0/8", "127.0.0.1", ADDR_PUBLIC },
	{ "169.254.0.0/16", "169.254.3.4", ADDR_PUBLIC },
	{ "169.254.0.0/16", "169.254.169.254", ADDR_METADATA },
	{ "169.254.169.254/32", "169.254.169.254", ADDR_METADATA },
	{ "0.0.0.0/0", "169.254.169.254", ADDR_METADATA },
	{ "0.0.0.0/0", "100.100.100.200", ADDR_METADATA },
	{ "0.0.0.0/0", "::ffff:169.254.169.254", ADDR_METADATA },
	{ "0.0.0.0/0", "127.0.0.1", ADDR_PUBLIC },
	{ "0.0.0.0/0", "0.0.0.0", ADDR_PUBLIC },
	{ "::/0", "fd00:ec2::254", ADDR_METADATA },
	{ "::/0", "::1", ADDR_PUBLIC },
	{ "fe80::/10", "fe80::1", ADDR_PUBLIC },
	{ "fe80::/64", "fe80:0:0:1::1", ADDR_LINK_LOCAL },
	{ "127.0.0.0/9", "127.128.0.1", ADDR_LOOPBACK },
	{ "127.128.0.0/9", "127.128.0.1", ADDR_PUBLIC },
};

static void test_vet(void)
{
	for (size_t i = 0; i < sizeof vet_cases / sizeof vet_cases[0]; i++) {
		const struct vet_case *c = &vet_cases[i];
		struct regcheck_net nets[REGCHECK_MAX_NETS];
		unsigned char bytes[16];
		char err[160] = "";
		size_t n;
		int family = 0;

		if (!CHECK(regcheck_nets_parse(c->allow, nets, REGCHECK_MAX_NETS, &n, err, sizeof err) == 0,
			   "allow \"%s\" parses: %s", c->allow, err) ||
		    !CHECK(parse_addr(c->addr, &family, bytes), "%s parses", c->addr))
			continue;
		CHECK_STR(regcheck_addr_name(regcheck_vet(family, bytes, nets, n)), regcheck_addr_name(c->want),
			  "%s with allow \"%s\"", c->addr, c->allow);
	}
}

/* regcheck_nets_parse: what check_allow_networks accepts, and how many networks. */
static const struct nets_case {
	const char *text;
	int ok;
	size_t count;
	int family, prefix;     /* of the first network */
} nets_cases[] = {
	{ "", 1, 0, 0, 0 },
	{ "   ", 1, 0, 0, 0 },
	{ "127.0.0.0/8", 1, 1, AF_INET, 8 },
	{ " 127.0.0.0/8 ", 1, 1, AF_INET, 8 },
	{ "10.0.0.0/8 fd00::/8", 1, 2, AF_INET, 8 },
	{ "10.0.0.0/8,192.168.0.0/16", 1, 2, AF_INET, 8 },
	{ "10.0.0.0/8\t, 192.168.0.0/16  172.16.0.0/12", 1, 3, AF_INET, 8 },
	{ "1.2.3.4", 1, 1, AF_INET, 32 },
	{ "::1", 1, 1, AF_INET6, 128 },
	{ "fd00::/8", 1, 1, AF_INET6, 8 },
	{ "0.0.0.0/0", 1, 1, AF_INET, 0 },
	{ "::/0", 1, 1, AF_INET6, 0 },
	{ "10.0.0.0/08", 1, 1, AF_INET, 8 },
	{ "10.0.0.1/8", 0, 0, 0, 0 },           /* host bits: a typo for something */
	{ "fd00::1/8", 0, 0, 0, 0 },
	{ "10.0.0.0/33", 0, 0, 0, 0 },
	{ "fd00::/129", 0, 0, 0, 0 },
	{ "10.0.0.0/", 0, 0, 0, 0 },
	{ "10.0.0.0/-1", 0, 0, 0, 0 },
	{ "10.0.0.0/+8", 0, 0, 0, 0 },
	{ "10.0.0.0/8/8", 0, 0, 0, 0 },
	{ "10.0.0.0/0008", 0, 0, 0, 0 },
	{ "/8", 0, 0, 0, 0 },
	{ "banana", 0, 0, 0, 0 },
	{ "10.0.0.256/32", 0, 0, 0, 0 },
	{ "10.0.0/24", 0, 0, 0, 0 },
	{ "127.0.0.0/8 banana", 0, 0, 0, 0 },
	{ "127.0.0.0/8;10.0.0.0/8", 0, 0, 0, 0 },
	{ "0123456789012345678901234567890123456789012345678901234567890123456789", 0, 0, 0, 0 },
};

static void test_nets_parse(void)
{
	for (size_t i = 0; i < sizeof nets_cases / sizeof nets_cases[0]; i++) {
		const struct nets_case *c = &nets_cases[i];
		struct regcheck_net nets[REGCHECK_MAX_NETS];
		char err[160] = "";
		size_t n = 99;
		int rc = regcheck_nets_parse(c->text, nets, REGCHECK_MAX_NETS, &n, err, sizeof err);

		if (!CHECK((rc == 0) == c->ok, "\"%s\": parse %s, want %s (%s)", c->text, rc == 0 ? "ok" : "refused",
			   c->ok ? "ok" : "refused", err))
			continue;
		if (!c->ok) {
			CHECK(err[0] != '\0', "\"%s\": a reason is given", c->text);
			continue;
		}
		CHECK(n == c->count, "\"%s\": %zu networks, want %zu", c->text, n, c->count);
		if (n > 0)
			CHECK(nets[0].family == c->family && nets[0].prefix == c->prefix,
			      "\"%s\": first network family %d prefix %d", c->text, nets[0].family, nets[0].prefix);
	}
	/* The limit: REGCHECK_MAX_NETS networks pass, one more does not; never written past max. */
	char many[REGCHECK_MAX_NETS * 16 + 32] = "";
	struct regcheck_net nets[REGCHECK_MAX_NETS + 1];
	char err[160];
	size_t n;

	for (int i = 0; i < REGCHECK_MAX_NETS; i++) {
		size_t used = strlen(many);

		snprintf(many + used, sizeof many - used, "10.%d.0.0/16 ", i);
	}
	CHECK(regcheck_nets_parse(many, nets, REGCHECK_MAX_NETS, &n, err, sizeof err) == 0 &&
	      n == REGCHECK_MAX_NETS, "%d networks are accepted", REGCHECK_MAX_NETS);
	strcat(many, "10.200.0.0/16");
	nets[REGCHECK_MAX_NETS].prefix = -7;
	CHECK(regcheck_nets_parse(many, nets, REGCHECK_MAX_NETS, &n, err, sizeof err) < 0, "one more is refused");
	CHECK(nets[REGCHECK_MAX_NETS].prefix == -7, "nothing written past max");
	CHECK(regcheck_nets_parse(NULL, nets, REGCHECK_MAX_NETS, &n, err, sizeof err) == 0 && n == 0,
	      "NULL is no networks");
}

/* regcheck_parse_challenge: one WWW-Authenticate value each, from a fresh state. */
static const struct challenge_case {
	const char *name;
	const char *value;
	int ok;
	enum regcheck_scheme scheme;
	const char *realm, *service, *scope;
} challenge_cases[] = {
	{ "basic", "Basic realm=\"fake\"", 1, SCHEME_BASIC, "fake", "", "" },
	{ "docker hub bearer", "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\"", 1,
	  SCHEME_BEARER, "https://auth.docker.io/token", "registry.docker.io", "" },
	{ "bearer with scope", "Bearer realm=\"https://h/service/token\",service=\"harbor-registry\","
	  "scope=\"repository:p/x:pull\"", 1, SCHEME_BEARER, "https://h/service/token", "harbor-registry",
	  "repository:p/x:pull" },
	{ "case-insensitive scheme and names", "bEaReR REALM=\"r\",Service=\"s\"", 1, SCHEME_BEARER, "r", "s", "" },
	{ "white space around = and ,", "Bearer   realm = \"r\" ,  service=\"s\"  ", 1, SCHEME_BEARER, "r", "s", "" },
	{ "unquoted values", "Bearer realm=r,service=s", 1, SCHEME_BEARER, "r", "s", "" },
	{ "escapes in a quoted value", "Basic realm=\"a \\\"b\\\" \\\\c\"", 1, SCHEME_BASIC, "a \"b\" \\c", "", "" },
	{ "comma inside quotes", "Bearer realm=\"a,b\",service=\"c\"", 1, SCHEME_BEARER, "a,b", "c", "" },
	{ "unknown parameters ignored", "Bearer realm=\"r\",error=\"invalid_token\",charset=\"UTF-8\"", 1,
	  SCHEME_BEARER, "r", "", "" },
	{ "Bearer wins over an earlier Basic", "Basic realm=\"a\", Bearer realm=\"b\",service=\"c\"", 1,
	  SCHEME_BEARER, "b", "c", "" },
	{ "Bearer wins over a later Basic", "Bearer realm=\"b\", Basic realm=\"a\"", 1, SCHEME_BEARER, "b", "", "" },
	{ "Basic wins over another scheme", "Negotiate, Basic realm=\"x\"", 1, SCHEME_BASIC, "x", "", "" },
	{ "token68 skipped", "Negotiate abc+/==, Basic realm=\"x\"", 1, SCHEME_BASIC, "x", "", "" },
	{ "another scheme alone", "Negotiate", 1, SCHEME_OTHER, "", "", "" },
	{ "scheme without parameters", "Basic", 1, SCHEME_BASIC, "", "", "" },
	{ "empty value", "", 1, SCHEME_NONE, "", "", "" },
	{ "only commas", " , ,", 1, SCHEME_NONE, "", "", "" },
	{ "parameter without a scheme", "realm=\"x\"", 0, SCHEME_NONE, "", "", "" },
	{ "unterminated quote", "Bearer realm=\"https://x", 0, SCHEME_NONE, "", "", "" },
	/* RFC 9110 reads this as a token68, not an empty realm: no realm either way. */
	{ "realm= alone is a token68", "Bearer realm=", 1, SCHEME_BEARER, "", "", "" },
	{ "empty value of a later parameter", "Bearer realm=\"x\",service=", 0, SCHEME_NONE, "", "", "" },
	{ "junk after a value", "Bearer realm=\"x\" junk", 0, SCHEME_NONE, "", "", "" },
	{ "control character in quotes", "Bearer realm=\"a\rb\"", 0, SCHEME_NONE, "", "", "" },
	{ "not a token", "@@@", 0, SCHEME_NONE, "", "", "" },
};

static void test_challenge(void)
{
	for (size_t i = 0; i < sizeof challenge_cases / sizeof challenge_cases[0]; i++) {
		const struct challenge_case *c = &challenge_cases[i];
		struct regcheck_challenge ch;
		int rc;

		memset(&ch, 0, sizeof ch);
		rc = regcheck_parse_challenge(c->value, &ch);
		if (!CHECK((rc == 0) == c->ok, "%s: parse %s", c->name, rc == 0 ? "ok" : "refused"))
			continue;
		CHECK(ch.scheme == c->scheme, "%s: scheme %d, want %d", c->name, (int)ch.scheme, (int)c->scheme);
		CHECK_STR(ch.realm, c->realm, "%s: realm", c->name);
		CHECK_STR(ch.service, c->service, "%s: service", c->name);
		CHECK_STR(ch.scope, c->scope, "%s: scope", c->name);
	}
}

/* Several header lines feed one state; a malformed one leaves it as it was. */
static void test_challenge_lines(void)
{
	struct regcheck_challenge ch;
	char long_realm[1200];

	memset(&ch, 0, sizeof ch);
	CHECK(regcheck_parse_challenge("Basic realm=\"a\"", &ch) == 0 && ch.scheme == SCHEME_BASIC, "first line");
	CHECK(regcheck_parse_challenge("Bearer realm=\"b\"", &ch) == 0 && ch.scheme == SCHEME_BEARER,
	      "a Bearer line replaces Basic");
	CHECK(regcheck_parse_challenge("Basic realm=\"c\"", &ch) == 0 && ch.scheme == SCHEME_BEARER &&
	      strcmp(ch.realm, "b") == 0, "a later Basic line does not replace Bearer");
	CHECK(regcheck_parse_challenge("Bearer realm=\"d\"", &ch) == 0 && strcmp(ch.realm, "b") == 0,
	      "the first Bearer is kept");
	CHECK(regcheck_parse_challenge("Bearer realm=\"broken", &ch) < 0 && strcmp(ch.realm, "b") == 0,
	      "a malformed line changes nothing");
	memset(&ch, 0, sizeof ch);
	snprintf(long_realm, sizeof long_realm, "Bearer realm=\"%0*d\"", 1100, 7);
	CHECK(regcheck_parse_challenge(long_realm, &ch) < 0 && ch.scheme == SCHEME_NONE,
	      "a realm longer than the buffer is refused, not cut");
	snprintf(long_realm, sizeof long_realm, "Bearer realm=\"%0*d\"", 1023, 7);
	CHECK(regcheck_parse_challenge(long_realm, &ch) == 0 && strlen(ch.realm) == 1023,
	      "a realm that just fits is kept whole");
}

static void test_kind_names(void)
{
	static const char *const want[RC__MAX] = {
		NULL, "dns", "connect", "tls", "not_a_registry", "auth", "timeout", "unsupported",
	};

	for (int k = 0; k < RC__MAX; k++)
		CHECK_STR(regcheck_kind_name((enum regcheck_kind)k), want[k], "kind %d", k);
	CHECK(regcheck_kind_name(RC__MAX) == NULL, "out of range is NULL");
}

/* The JSON shape: every key always there, null where there is nothing to say. */
static void test_result_json(void)
{
	static const char *const keys[] = {
		"checked_address", "reachable", "tls_verified", "registry_api", "authenticated",
		"namespace_visible", "cert_expires_in_days", "latency_ms", "error", "error_kind", "warning",
	};
	struct regcheck_result ok = { .checked = 1, .reachable = 1, .tls_verified = 1, .registry_api = 1,
				      .authenticated = 1, .latency_ms = 42, .kind = RC_OK };
	struct regcheck_result bad = { .checked = 1, .reachable = 1, .kind = RC_AUTH,
				       .error = "refused", .warning = "plain http" };
	struct regcheck_result ecr = { .checked = 0, .kind = RC_UNSUPPORTED, .error = "not for ecr" };
	struct json_object *o, *v;

	o = regcheck_result_json(&ok, "https://r.example");
	CHECK(json_object_object_length(o) == (int)(sizeof keys / sizeof keys[0]), "passing result: %d keys",
	      json_object_object_length(o));
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		CHECK(json_object_object_get_ex(o, keys[i], NULL), "passing result has %s", keys[i]);
	CHECK(json_object_object_get_ex(o, "error", &v) && v == NULL, "passing: error is null");
	CHECK(json_object_object_get_ex(o, "error_kind", &v) && v == NULL, "passing: error_kind is null");
	CHECK(json_object_object_get_ex(o, "warning", &v) && v == NULL, "passing: warning is null");
	CHECK(json_object_object_get_ex(o, "authenticated", &v) && json_object_get_boolean(v), "authenticated");
	CHECK(json_object_object_get_ex(o, "latency_ms", &v) && json_object_get_int(v) == 42, "latency_ms");
	json_object_put(o);

	o = regcheck_result_json(&bad, "http://r.example");
	CHECK(json_object_object_get_ex(o, "error_kind", &v) && v && strcmp(json_object_get_string(v), "auth") == 0,
	      "failing: error_kind auth");
	CHECK(json_object_object_get_ex(o, "authenticated", &v) && v && !json_object_get_boolean(v),
	      "failing: authenticated false, not null");
	CHECK(json_object_object_get_ex(o, "warning", &v) && v && strcmp(json_object_get_string(v), "plain http") == 0,
	      "failing: the warning");
	json_object_put(o);

	o = regcheck_result_json(&ecr, "https://1.dkr.ecr.eu-west-1.amazonaws.com");
	for (size_t i = 1; i <= 4; i++)
		CHECK(json_object_object_get_ex(o, keys[i], &v) && v == NULL, "not checked: %s is null", keys[i]);
	CHECK(json_object_object_get_ex(o, "error_kind", &v) && v &&
	      strcmp(json_object_get_string(v), "unsupported") == 0, "not checked: unsupported");
	json_object_put(o);
}

/* ecr is answered without a connection: not a false failure, not a network wait. */
static void test_ecr_not_contacted(void)
{
	struct regcheck_input in = { .address = "https://127.0.0.1:1", .provider = "ecr" };
	struct regcheck_options opts = { .timeout_ms = 100 };
	struct regcheck_result res;

	regcheck_run(&in, &opts, &res);
	CHECK(res.kind == RC_UNSUPPORTED && !res.checked, "ecr: unsupported, not checked");
	CHECK(strstr(res.error, "ecr") != NULL && strstr(res.error, "SigV4") != NULL, "ecr: says why: %s", res.error);
	CHECK(res.latency_ms == 0, "ecr: no time spent");
}

int main(void)
{
	test_classify();
	test_vet();
	test_nets_parse();
	test_challenge();
	test_challenge_lines();
	test_kind_names();
	test_result_json();
	test_ecr_not_contacted();
	return check_done();
}
