/* test_validate.c - request bodies: body_parse and registry_input_parse, one behaviour per table row. */
#include "check.h"
#include "validate.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

/* Which modes a row runs in. */
enum { CREATE = 1 << INPUT_CREATE, UPDATE = 1 << INPUT_UPDATE, BOTH = CREATE | UPDATE };

/*
 * One row: a body (bytes with an explicit length, so NUL and invalid UTF-8
 * can be written), the modes it runs in, and either the substring the error
 * must contain or, for an accepted body, one field and its expected value.
 *
 * Long bodies are written short: when fill > 0, each '@' in body and value
 * becomes fill copies of unit ("a" when NULL) and each '~' fill copies of
 * close.  Rows with fill 0 are taken byte for byte.
 */
struct validate_case {
	const char *name;
	const char *body;
	size_t len;
	unsigned modes;
	int ok;
	const char *err;        /* !ok: substring of err */
	const char *field;      /* ok: a field of struct registry_input to check, or NULL */
	const char *value;      /* its value; NULL for absent, "true"/"false"/"absent" for booleans */
	size_t fill;
	const char *unit;
	const char *close;
};

#define B(lit) lit, sizeof(lit) - 1

/* Bodies are built from these pieces; HARBOR is a complete valid body's fields. */
#define ADDR "\"address\":\"https://h\""
#define PROV "\"provider\":\"harbor\""
#define NS "\"namespace\":\"n\""
#define HARBOR ADDR "," PROV "," NS
#define ECR ADDR ",\"provider\":\"ecr\",\"region\":\"us-east-1\""
/* A real self-signed certificate (EC P-256, CN=imagereg-test), JSON-escaped. */
#define CERT \
	"-----BEGIN CERTIFICATE-----\\n" \
	"MIIBiDCCAS2gAwIBAgIUCXycJff0cdSC5dHVDcp1Zl0iNL0wCgYIKoZIzj0EAwIw\\n" \
	"GDEWMBQGA1UEAwwNaW1hZ2VyZWctdGVzdDAgFw0yNjExMjkyMjA3MzRaGA8yMTI2\\n" \
	"MTEwNTIyMDczNFowGDEWMBQGA1UEAwwNaW1hZ2VyZWctdGVzdDBZMBMGByqGSM49\\n" \
	"AgEGCCqGSM49AwEHA0IABMEZStL/VSl53J3RsyCZg3AHtoWqF8NXlIcB+42gOq2m\\n" \
	"h9g+YEktMkwMf+dRBHrDhg9ez/LdEetbkfoMT2HY1DGjUzBRMB0GA1UdDgQWBBSl\\n" \
	"aLxNNLxKKESvC8484Ogz1XvlJTAfBgNVHSMEGDAWgBSlaLxNNLxKKESvC8484Ogz\\n" \
	"1XvlJTAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kAMEYCIQCjZUf5PVZ2\\n" \
	"xxD0RmBsDhdYM9en0OWvyAmtQyfUUMhNtwIhAIwp895SCyiX3xHuA+zQE0MMXnwU\\n" \
	"/osXtugMMppVwKr9\\n" \
	"-----END CERTIFICATE-----\\n"

/* Accepted in the given modes; field has value. */
#define OK(name, body, modes, field, value) { name, B(body), modes, 1, NULL, field, value, 0, NULL, NULL }
/* Rejected in the given modes with err containing msg. */
#define NO(name, body, modes, msg) { name, B(body), modes, 0, msg, NULL, NULL, 0, NULL, NULL }
/* Same, with '@' expanded to n copies of "a". */
#define OKF(name, body, n, field, value) { name, B(body), BOTH, 1, NULL, field, value, n, NULL, NULL }
#define NOF(name, body, n, msg) { name, B(body), BOTH, 0, msg, NULL, NULL, n, NULL, NULL }
/* A string field given a value of the wrong kind: rest is the other fields of a valid body. */
#define BADSTR(field, rest, json, what) \
	NO(field " given " what, "{" rest ",\"" field "\":" json "}", BOTH, field " must be a string")
#define BADBOOL(field, json, what) \
	NO(field " given " what, "{" HARBOR ",\"" field "\":" json "}", BOTH, field " must be a boolean")
#define NUL(field, rest) \
	NO(field " with \\u0000", "{" rest ",\"" field "\":\"a\\u0000b\"}", BOTH, \
	   field " must not contain the character U+0000")

static const struct validate_case cases[] = {
	/* Smallest valid body of each provider. */
	OK("acr minimal", "{" ADDR ",\"provider\":\"acr\"," NS "}", BOTH, "provider", "acr"),
	OK("tcr minimal", "{" ADDR ",\"provider\":\"tcr\"," NS "}", BOTH, "provider", "tcr"),
	OK("swr minimal", "{" ADDR ",\"provider\":\"swr\"," NS "}", BOTH, "provider", "swr"),
	OK("dockerhub minimal", "{" ADDR ",\"provider\":\"dockerhub\"," NS "}", BOTH, "provider", "dockerhub"),
	OK("harbor minimal", "{" HARBOR "}", BOTH, "provider", "harbor"),
	OK("nexus minimal", "{" ADDR ",\"provider\":\"nexus\"," NS "}", BOTH, "provider", "nexus"),
	OK("native minimal", "{" ADDR ",\"provider\":\"native\"," NS "}", BOTH, "provider", "native"),
	OK("ecr minimal has no namespace", "{" ECR "}", BOTH, "namespace", NULL),
	OK("ecr keeps its region", "{" ECR "}", BOTH, "region", "us-east-1"),
	OK("ecr with a namespace", "{" ECR "," NS "}", BOTH, "namespace", "n"),
	OK("minimal body leaves is_default absent", "{" HARBOR "}", BOTH, "is_default", "absent"),
	OK("minimal body leaves enable_tls absent", "{" HARBOR "}", BOTH, "enable_tls", "absent"),
	OK("keys in any order", "{" NS "," PROV "," ADDR "}", BOTH, "address", "https://h"),
	OK("leading and trailing white space around the object", " \t\r\n{" HARBOR "}\n\r\t ", BOTH,
	   "namespace", "n"),

	/* Provider. */
	NO("provider missing", "{" ADDR "," NS "}", BOTH, "provider is required"),
	NO("provider empty", "{" ADDR ",\"provider\":\"\"," NS "}", BOTH, "provider is required"),
	NO("provider null", "{" ADDR ",\"provider\":null," NS "}", BOTH, "provider is required"),
	NO("provider unknown", "{" ADDR ",\"provider\":\"gcr\"," NS "}", BOTH, "provider must be one of"),
	NO("provider ECR in upper case", "{" ADDR ",\"provider\":\"ECR\",\"region\":\"r\"}", BOTH,
	   "provider must be one of"),
	NO("provider Harbor capitalised", "{" ADDR ",\"provider\":\"Harbor\"," NS "}", BOTH,
	   "provider must be one of"),
	NO("provider is not trimmed", "{" ADDR ",\"provider\":\" harbor\"," NS "}", BOTH,
	   "provider must be one of"),
	NO("provider with a suffix", "{" ADDR ",\"provider\":\"harbor2\"," NS "}", BOTH,
	   "provider must be one of"),

	/* ecr: region instead of namespace. */
	NO("ecr without region", "{" ADDR ",\"provider\":\"ecr\"}", BOTH, "region is required when provider is ecr"),
	NO("ecr with empty region", "{" ADDR ",\"provider\":\"ecr\",\"region\":\"\"}", BOTH,
	   "region is required when provider is ecr"),
	NO("ecr with blank region", "{" ADDR ",\"provider\":\"ecr\",\"region\":\" \\t \"}", BOTH,
	   "region is required when provider is ecr"),
	NO("ecr with null region", "{" ADDR ",\"provider\":\"ecr\",\"region\":null}", BOTH,
	   "region is required when provider is ecr"),
	NO("ecr without region, with namespace", "{" ADDR ",\"provider\":\"ecr\"," NS "}", BOTH,
	   "region is required when provider is ecr"),
	OK("region is trimmed", "{" ADDR ",\"provider\":\"ecr\",\"region\":\" eu-west-1\\n\"}", BOTH,
	   "region", "eu-west-1"),
	OK("region allowed for other providers", "{" HARBOR ",\"region\":\"r\"}", BOTH, "region", "r"),

	/* Namespace: required except for ecr; blank is empty. */
	NO("namespace missing", "{" ADDR "," PROV "}", BOTH, "namespace cannot be empty"),
	NO("namespace empty", "{" ADDR "," PROV ",\"namespace\":\"\"}", BOTH, "namespace cannot be empty"),
	NO("namespace spaces only", "{" ADDR "," PROV ",\"namespace\":\"   \"}", BOTH, "namespace cannot be empty"),
	NO("namespace white space only", "{" ADDR "," PROV ",\"namespace\":\"\\t\\r\\n\\f\\u000b \"}", BOTH,
	   "namespace cannot be empty"),
	NO("namespace null", "{" ADDR "," PROV ",\"namespace\":null}", BOTH, "namespace cannot be empty"),
	OK("namespace is trimmed", "{" ADDR "," PROV ",\"namespace\":\"  team a \\t\"}", BOTH, "namespace",
	   "team a"),

	/* Address. */
	NO("address missing", "{" PROV "," NS "}", BOTH, "address is required"),
	NO("address empty", "{\"address\":\"\"," PROV "," NS "}", BOTH, "address is required"),
	NO("address blank", "{\"address\":\"  \\t \"," PROV "," NS "}", BOTH, "address is required"),
	NO("address null", "{\"address\":null," PROV "," NS "}", BOTH, "address is required"),
	NO("address key in another case is not address", "{\"Address\":\"https://h\"," PROV "," NS "}", BOTH,
	   "address is required"),
	NO("address ftp://", "{\"address\":\"ftp://h\"," PROV "," NS "}", BOTH, "http:// or https://"),
	NO("address without scheme", "{\"address\":\"h:5000\"," PROV "," NS "}", BOTH, "http:// or https://"),
	NO("address scheme-relative", "{\"address\":\"//h\"," PROV "," NS "}", BOTH, "http:// or https://"),
	NO("address https:/ with one slash", "{\"address\":\"https:/h\"," PROV "," NS "}", BOTH,
	   "http:// or https://"),
	NO("address no host https://", "{\"address\":\"https://\"," PROV "," NS "}", BOTH, "host"),
	NO("address no host https:///x", "{\"address\":\"https:///x\"," PROV "," NS "}", BOTH, "host"),
	NO("address no host, port only", "{\"address\":\"https://:5000\"," PROV "," NS "}", BOTH, "host"),
	NO("address no host, query only", "{\"address\":\"https://?q\"," PROV "," NS "}", BOTH, "host"),
	NO("address empty brackets", "{\"address\":\"https://[]\"," PROV "," NS "}", BOTH, "host"),
	NO("address unclosed bracket", "{\"address\":\"https://[::1\"," PROV "," NS "}", BOTH, "host"),
	NO("address user and password", "{\"address\":\"https://u:p@h\"," PROV "," NS "}", BOTH,
	   "user information"),
	NO("address user only", "{\"address\":\"https://u@h\"," PROV "," NS "}", BOTH, "user information"),
	NO("address host with a backslash", "{\"address\":\"https://a\\\\b\"," PROV "," NS "}", BOTH,
	   "address host may contain only"),
	NO("address host percent-encoded", "{\"address\":\"https://%41\"," PROV "," NS "}", BOTH,
	   "address host may contain only"),
	NO("address host with a dollar", "{\"address\":\"https://$1/x\"," PROV "," NS "}", BOTH,
	   "address host may contain only"),
	OK("address host with underscore and digits", "{\"address\":\"https://my_reg-01.example.com:5000\"," PROV "," NS "}",
	   BOTH, "address", "https://my_reg-01.example.com:5000"),
	OK("address @ in the path is not user information", "{\"address\":\"https://h/a@b\"," PROV "," NS "}", BOTH,
	   "address", "https://h/a@b"),
	NO("address space inside", "{\"address\":\"https://h /x\"," PROV "," NS "}", BOTH, "white space"),
	NO("address tab inside", "{\"address\":\"https://h\\t/x\"," PROV "," NS "}", BOTH, "white space"),
	NO("address newline inside", "{\"address\":\"https://h\\n.x\"," PROV "," NS "}", BOTH, "white space"),
	NO("address control character", "{\"address\":\"https://h\\u0001\"," PROV "," NS "}", BOTH,
	   "control characters"),
	NO("address DEL", "{\"address\":\"https://h\\u007f\"," PROV "," NS "}", BOTH, "control characters"),
	OK("address surrounding spaces trimmed", "{\"address\":\"  https://h  \"," PROV "," NS "}", BOTH,
	   "address", "https://h"),
	OK("address surrounding white space trimmed", "{\"address\":\"\\t\\r\\nhttps://h:5000/v2\\n\"," PROV "," NS "}",
	   BOTH, "address", "https://h:5000/v2"),
	OK("address http://", "{\"address\":\"http://h\"," PROV "," NS "}", BOTH, "address", "http://h"),
	OK("address scheme in upper case", "{\"address\":\"HTTPS://H\"," PROV "," NS "}", BOTH, "address", "HTTPS://H"),
	OK("address with path, query and fragment", "{\"address\":\"https://h/v2?x=1#y\"," PROV "," NS "}", BOTH,
	   "address", "https://h/v2?x=1#y"),
	OK("address port 5000", "{\"address\":\"https://h:5000\"," PROV "," NS "}", BOTH, "address", "https://h:5000"),
	OK("address port 1", "{\"address\":\"https://h:1\"," PROV "," NS "}", BOTH, "address", "https://h:1"),
	OK("address port 65535", "{\"address\":\"https://h:65535\"," PROV "," NS "}", BOTH, "address",
	   "https://h:65535"),
	OK("address IPv6 with port", "{\"address\":\"https://[::1]:5000\"," PROV "," NS "}", BOTH, "address",
	   "https://[::1]:5000"),
	OK("address IPv6 without port", "{\"address\":\"https://[::1]/v2\"," PROV "," NS "}", BOTH, "address",
	   "https://[::1]/v2"),
	NO("address port 0", "{\"address\":\"https://h:0\"," PROV "," NS "}", BOTH, "invalid port"),
	NO("address port 65536", "{\"address\":\"https://h:65536\"," PROV "," NS "}", BOTH, "invalid port"),
	NO("address port abc", "{\"address\":\"https://h:abc\"," PROV "," NS "}", BOTH, "invalid port"),
	NO("address port empty", "{\"address\":\"https://h:\"," PROV "," NS "}", BOTH, "invalid port"),
	NO("address port negative", "{\"address\":\"https://h:-1\"," PROV "," NS "}", BOTH, "invalid port"),
	NO("address port with plus", "{\"address\":\"https://h:+80\"," PROV "," NS "}", BOTH, "invalid port"),
	NO("address port six digits", "{\"address\":\"https://h:123456\"," PROV "," NS "}", BOTH, "invalid port"),
	NO("address two ports", "{\"address\":\"https://h:50:00\"," PROV "," NS "}", BOTH, "invalid port"),
	NO("address IPv6 port 0", "{\"address\":\"https://[::1]:0\"," PROV "," NS "}", BOTH, "invalid port"),
	NO("address junk after IPv6 bracket", "{\"address\":\"https://[::1]x\"," PROV "," NS "}", BOTH,
	   "invalid port"),
	/* "https://" is 8 bytes: 2040 more make 2048. */
	OKF("address exactly 2048 bytes", "{\"address\":\"https://@\"," PROV "," NS "}", 2040, "address",
	    "https://@"),
	NOF("address 2049 bytes", "{\"address\":\"https://@\"," PROV "," NS "}", 2041, "address is longer than 2048 bytes"),
	OKF("address 2048 bytes after trimming", "{\"address\":\"  https://@ \\n\"," PROV "," NS "}", 2040, "address",
	    "https://@"),

	/* Wrong JSON types: the error names the field. */
	BADSTR("registry_id", HARBOR, "5", "a number"),
	BADSTR("registry_id", HARBOR, "true", "a boolean"),
	BADSTR("registry_id", HARBOR, "[\"x\"]", "an array"),
	BADSTR("registry_id", HARBOR, "{\"x\":1}", "an object"),
	BADSTR("address", PROV "," NS, "5", "a number"),
	BADSTR("address", PROV "," NS, "false", "a boolean"),
	BADSTR("address", PROV "," NS, "[\"https://h\"]", "an array"),
	BADSTR("address", PROV "," NS, "{\"url\":\"https://h\"}", "an object"),
	BADSTR("provider", ADDR "," NS, "1.5", "a number"),
	BADSTR("provider", ADDR "," NS, "true", "a boolean"),
	BADSTR("provider", ADDR "," NS, "[]", "an array"),
	BADSTR("provider", ADDR "," NS, "{}", "an object"),
	BADSTR("namespace", ADDR "," PROV, "0", "a number"),
	BADSTR("namespace", ADDR "," PROV, "true", "a boolean"),
	BADSTR("namespace", ADDR "," PROV, "[\"n\"]", "an array"),
	BADSTR("namespace", ADDR "," PROV, "{}", "an object"),
	BADSTR("region", HARBOR, "-1", "a number"),
	BADSTR("region", HARBOR, "false", "a boolean"),
	BADSTR("region", HARBOR, "[]", "an array"),
	BADSTR("region", HARBOR, "{}", "an object"),
	BADSTR("access_key", HARBOR, "12345", "a number"),
	BADSTR("access_key", HARBOR, "true", "a boolean"),
	BADSTR("access_key", HARBOR, "[\"k\"]", "an array"),
	BADSTR("access_key", HARBOR, "{\"k\":\"v\"}", "an object"),
	BADSTR("secret_key", HARBOR, "1e3", "a number"),
	BADSTR("secret_key", HARBOR, "false", "a boolean"),
	BADSTR("secret_key", HARBOR, "[]", "an array"),
	BADSTR("secret_key", HARBOR, "{}", "an object"),
	BADSTR("tls_cert", HARBOR, "0", "a number"),
	BADSTR("tls_cert", HARBOR, "true", "a boolean"),
	BADSTR("tls_cert", HARBOR, "[\"pem\"]", "an array"),
	BADSTR("tls_cert", HARBOR, "{}", "an object"),
	BADBOOL("is_default", "\"true\"", "a string"),
	BADBOOL("is_default", "1", "a number"),
	BADBOOL("is_default", "0", "zero"),
	BADBOOL("is_default", "[true]", "an array"),
	BADBOOL("is_default", "{}", "an object"),
	BADBOOL("enable_tls", "\"false\"", "a string"),
	BADBOOL("enable_tls", "1", "a number"),
	BADBOOL("enable_tls", "0.0", "zero"),
	BADBOOL("enable_tls", "[]", "an array"),
	BADBOOL("enable_tls", "{}", "an object"),

	/* Booleans and JSON null. */
	OK("is_default true", "{" HARBOR ",\"is_default\":true}", BOTH, "is_default", "true"),
	OK("is_default false", "{" HARBOR ",\"is_default\":false}", BOTH, "is_default", "false"),
	OK("is_default null is absent", "{" HARBOR ",\"is_default\":null}", BOTH, "is_default", "absent"),
	OK("enable_tls false", "{" HARBOR ",\"enable_tls\":false}", BOTH, "enable_tls", "false"),
	OK("enable_tls null is absent", "{" HARBOR ",\"enable_tls\":null}", BOTH, "enable_tls", "absent"),
	OK("region null is absent", "{" HARBOR ",\"region\":null}", BOTH, "region", NULL),
	OK("access_key null is absent", "{" HARBOR ",\"access_key\":null}", BOTH, "access_key", NULL),
	OK("secret_key null is absent", "{" HARBOR ",\"secret_key\":null}", BOTH, "secret_key", NULL),
	OK("tls_cert null is absent", "{" HARBOR ",\"tls_cert\":null}", BOTH, "tls_cert", NULL),
	OK("registry_id null is absent", "{" HARBOR ",\"registry_id\":null}", BOTH, "registry_id", NULL),
	OK("registry_id kept", "{" HARBOR ",\"registry_id\":\"0123456789abcdef01234567\"}", BOTH, "registry_id",
	   "0123456789abcdef01234567"),
	OK("access_key is not trimmed", "{" HARBOR ",\"access_key\":\" k \"}", BOTH, "access_key", " k "),
	OK("secret_key is not trimmed", "{" HARBOR ",\"secret_key\":\"\\ts\\n\"}", BOTH, "secret_key", "\ts\n"),
	OK("escapes are decoded", "{" HARBOR ",\"access_key\":\"a\\\"b\\\\c\\/d\\u00e9\"}", BOTH, "access_key",
	   "a\"b\\c/d\xc3\xa9"),

	/* Unknown fields are ignored, whatever their type. */
	OK("unknown fields ignored", "{" HARBOR ",\"foo\":1,\"id\":\"x\",\"nested\":{\"a\":[1,{\"b\":null}]}}", BOTH,
	   "namespace", "n"),
	NO("unknown field with a NUL refused, naming it", "{" HARBOR ",\"note\":\"a\\u0000b\"}", BOTH,
	   "note must not contain the character U+0000"),
	NO("key with a NUL refused", "{" HARBOR ",\"addr\\u0000ess\":\"x\"}", BOTH,
	   "an object key must not contain the character U+0000"),

	/* U+0000 is refused in every string field, naming it. */
	NUL("registry_id", HARBOR),
	NUL("address", PROV "," NS),
	NUL("provider", ADDR "," NS),
	NUL("namespace", ADDR "," PROV),
	NUL("region", HARBOR),
	NUL("access_key", HARBOR),
	NUL("secret_key", HARBOR),
	NUL("tls_cert", HARBOR),
	NO("address that is only U+0000", "{\"address\":\"\\u0000\"," PROV "," NS "}", BOTH,
	   "address must not contain the character U+0000"),
	NO("U+0000 after a valid address", "{\"address\":\"https://h\\u0000\"," PROV "," NS "}", BOTH,
	   "address must not contain the character U+0000"),

	/* Bytes that are not UTF-8. */
	NO("invalid UTF-8 byte 0xff in a value", "{" ADDR "," PROV ",\"namespace\":\"n\xff\"}", BOTH, "UTF-8"),
	NO("invalid UTF-8 lone continuation byte", "{" ADDR "," PROV ",\"namespace\":\"\x80\"}", BOTH, "UTF-8"),
	NO("invalid UTF-8 truncated sequence", "{" ADDR "," PROV ",\"namespace\":\"\xc3\"}", BOTH, "UTF-8"),
	NO("invalid UTF-8 five-byte form", "{" ADDR "," PROV ",\"namespace\":\"\xf8\x88\x80\x80\x80\"}", BOTH, "UTF-8"),
	NO("invalid UTF-8 in a key", "{" HARBOR ",\"\xff\":1}", BOTH, "UTF-8"),
	NO("invalid UTF-8 outside strings", "{" HARBOR "\xff}", BOTH, "UTF-8"),
	NO("invalid UTF-8 overlong slash C0 AF", "{" ADDR "," PROV ",\"namespace\":\"\xc0\xaf\"}", BOTH, "UTF-8"),
	NO("invalid UTF-8 overlong three-byte E0 80 AF", "{" ADDR "," PROV ",\"namespace\":\"\xe0\x80\xaf\"}", BOTH,
	   "UTF-8"),
	NO("invalid UTF-8 encoded surrogate ED A0 80", "{" ADDR "," PROV ",\"namespace\":\"\xed\xa0\x80\"}", BOTH,
	   "UTF-8"),
	NO("invalid UTF-8 above U+10FFFF F4 90 80 80", "{" ADDR "," PROV ",\"namespace\":\"\xf4\x90\x80\x80\"}", BOTH,
	   "UTF-8"),
	OK("valid four-byte UTF-8", "{" ADDR "," PROV ",\"namespace\":\"\xf0\x9f\x98\x80\"}", BOTH, "namespace",
	   "\xf0\x9f\x98\x80"),
	/* json-c 0.16 decodes a lone surrogate escape to U+FFFD, which is valid UTF-8. */
	NO("lone high surrogate escape refused", "{" ADDR "," PROV ",\"namespace\":\"\\ud800\"}", BOTH,
	   "lone UTF-16 surrogate"),
	NO("lone low surrogate escape refused", "{" ADDR "," PROV ",\"namespace\":\"\\udc00x\"}", BOTH,
	   "lone UTF-16 surrogate"),
	NO("raw NUL byte inside a string", "{" ADDR "," PROV ",\"namespace\":\"a\0b\"}", BOTH, "JSON"),
	NO("raw NUL byte after the object", "{" HARBOR "}\0", BOTH, "JSON"),

	/* Not one JSON object. */
	NO("empty body", "", BOTH, "JSON"),
	NO("white space body", " \t\r\n ", BOTH, "JSON"),
	/* body_parse has its own words for these two; the client should get them. */
	NO("empty body is called empty", "", BOTH, "request body is empty"),
	NO("white space body is called empty", " \t\r\n ", BOTH, "request body is empty"),
	NO("truncated body is called truncated", "{" HARBOR, BOTH, "request body is truncated JSON"),
	NO("invalid JSON: bare word key", "{address:\"https://h\"}", BOTH, "not valid JSON"),
	NO("invalid JSON: trailing comma", "{" HARBOR ",}", BOTH, "not valid JSON"),
	NO("invalid JSON: single-quoted value", "{" ADDR "," PROV ",\"namespace\":'n'}", BOTH, "not valid JSON"),
	NO("invalid JSON: comment", "{/* c */" HARBOR "}", BOTH, "not valid JSON"),
	NO("invalid JSON: True", "{" HARBOR ",\"is_default\":True}", BOTH, "not valid JSON"),
	NO("invalid JSON: leading zero", "{" HARBOR ",\"x\":01}", BOTH, "not valid JSON"),
	NO("truncated JSON: open brace", "{", BOTH, "JSON"),
	NO("truncated JSON: after a key", "{\"address\":", BOTH, "JSON"),
	NO("truncated JSON: no closing brace", "{" HARBOR, BOTH, "JSON"),
	NO("truncated JSON: inside a string", "{\"address\":\"https://", BOTH, "JSON"),
	NO("trailing garbage after a space", "{" HARBOR "} x", BOTH, "JSON"),
	NO("trailing garbage right after", "{" HARBOR "}x", BOTH, "JSON"),
	NO("two objects", "{" HARBOR "}{}", BOTH, "JSON"),
	NO("object then comma", "{" HARBOR "},", BOTH, "JSON"),
	NO("top-level array", "[{" HARBOR "}]", BOTH, "JSON object"),
	NO("top-level empty array", "[]", BOTH, "JSON object"),
	NO("top-level string", "\"https://h\"", BOTH, "JSON object"),
	NO("top-level number", "42", BOTH, "JSON object"),
	NO("top-level negative number", "-1.5", BOTH, "JSON object"),
	NO("top-level number with trailing space", "7 ", BOTH, "JSON object"),
	NO("top-level true", "true", BOTH, "JSON object"),
	NO("top-level false", "false", BOTH, "JSON object"),
	NO("top-level null", "null", BOTH, "JSON object"),
	NO("empty object", "{}", BOTH, "address is required"),
	/*
	 * Depth counts every value, the top object included: "x":[[...]] with
	 * 15 arrays is 16 levels, the most allowed.  body_parse accepting it shows
	 * as the registry rules' answer (a valid body around it).
	 */
	{ "nesting of MAX_JSON_DEPTH levels accepted", B("{" HARBOR ",\"x\":@~}"), BOTH, 1, NULL, "namespace", "n",
	  MAX_JSON_DEPTH - 1, "[", "]" },
	{ "nesting of MAX_JSON_DEPTH + 1 levels rejected", B("{" HARBOR ",\"x\":@~}"), BOTH, 0, "nests deeper than 16 levels",
	  NULL, NULL, MAX_JSON_DEPTH, "[", "]" },
	/* Strict RFC 8259: what json-c alone would let through, or read two ways. */
	NO("duplicate key", "{" HARBOR ",\"address\":\"https://evil\"}", BOTH, "\"address\" twice"),
	NO("duplicate key spelt with an escape", "{" HARBOR ",\"\\u0061ddress\":\"https://evil\"}", BOTH,
	   "\"address\" twice"),
	NO("duplicate key in a nested object", "{" HARBOR ",\"x\":{\"a\":1,\"a\":2}}", BOTH, "\"a\" twice"),
	OK("same key in sibling objects", "{" HARBOR ",\"x\":{\"a\":1},\"y\":{\"a\":2}}", BOTH, "namespace", "n"),
	NO("NaN value", "{" HARBOR ",\"x\":NaN}", BOTH, "not valid JSON"),
	NO("Infinity value", "{" HARBOR ",\"x\":-Infinity}", BOTH, "not valid JSON"),
	NO("single-quoted key", "{'address':\"https://h\"}", BOTH, "not valid JSON"),
	NO("raw control character in a string", "{" HARBOR ",\"x\":\"a\tb\"}", BOTH, "control character"),
	NO("leading zero", "{" HARBOR ",\"x\":01}", BOTH, "not valid JSON"),
	NO("trailing comma", "{" HARBOR ",}", BOTH, "not valid JSON"),
	NO("bad escape", "{" HARBOR ",\"x\":\"\\q\"}", BOTH, "unknown escape"),
	OK("huge number in an unknown field", "{" HARBOR ",\"x\":1e999}", BOTH, "namespace", "n"),
	OK("escaped surrogate pair", "{" HARBOR ",\"x\":\"\\ud83d\\ude00\"}", BOTH, "namespace", "n"),
	/* A scalar at the bottom is not a level: only objects and arrays count. */
	{ "nested objects with a scalar, MAX_JSON_DEPTH levels", B("{" HARBOR ",\"x\":@1~}"), BOTH, 1, NULL,
	  "namespace", "n", MAX_JSON_DEPTH - 1, "{\"a\":", "}" },
	{ "nested objects with a scalar, MAX_JSON_DEPTH + 1 levels", B("{" HARBOR ",\"x\":@1~}"), BOTH, 0,
	  "nests deeper than 16 levels", NULL, NULL, MAX_JSON_DEPTH, "{\"a\":", "}" },
	{ "nesting of 10000 levels rejected", B("{\"x\":@~}"), BOTH, 0, "nests deeper than 16 levels", NULL, NULL, 10000,
	  "[", "]" },

	/* TLS: a certificate is needed to turn verification on. */
	NO("create: enable_tls without tls_cert", "{" HARBOR ",\"enable_tls\":true}", CREATE,
	   "tls_cert is required when enable_tls is true"),
	OK("update: enable_tls without tls_cert keeps the stored one", "{" HARBOR ",\"enable_tls\":true}", UPDATE,
	   "enable_tls", "true"),
	OK("update: enable_tls without tls_cert leaves tls_cert absent", "{" HARBOR ",\"enable_tls\":true}", UPDATE,
	   "tls_cert", NULL),
	NO("create: enable_tls with null tls_cert", "{" HARBOR ",\"enable_tls\":true,\"tls_cert\":null}", CREATE,
	   "tls_cert is required when enable_tls is true"),
	OK("update: enable_tls with null tls_cert", "{" HARBOR ",\"enable_tls\":true,\"tls_cert\":null}", UPDATE,
	   "tls_cert", NULL),
	NO("enable_tls with empty tls_cert", "{" HARBOR ",\"enable_tls\":true,\"tls_cert\":\"\"}", BOTH,
	   "tls_cert is required when enable_tls is true"),
	NO("enable_tls with blank tls_cert", "{" HARBOR ",\"enable_tls\":true,\"tls_cert\":\" \\t\\r\\n \"}", BOTH,
	   "tls_cert is required when enable_tls is true"),
	OK("enable_tls with tls_cert", "{" HARBOR ",\"enable_tls\":true,\"tls_cert\":\"" CERT "\"}",
	   BOTH, "enable_tls", "true"),
	OK("two certificates", "{" HARBOR ",\"tls_cert\":\"" CERT CERT "\"}", BOTH, "enable_tls", "absent"),
	NO("tls_cert not PEM", "{" HARBOR ",\"tls_cert\":\"pem\"}", BOTH, "PEM X.509"),
	NO("tls_cert only a BEGIN line", "{" HARBOR ",\"tls_cert\":\"-----BEGIN CERTIFICATE-----\\n\"}", BOTH,
	   "tls_cert"),
	NO("tls_cert damaged", "{" HARBOR ",\"tls_cert\":\"-----BEGIN CERTIFICATE-----\\nMIIBiDCC\\n"
	   "-----END CERTIFICATE-----\\n\"}", BOTH, "tls_cert"),
	NO("tls_cert with a private key", "{" HARBOR ",\"tls_cert\":\"" CERT
	   "-----BEGIN PRIVATE KEY-----\\nAAAA\\n-----END PRIVATE KEY-----\\n\"}", BOTH, "private key"),
	OK("enable_tls false without tls_cert", "{" HARBOR ",\"enable_tls\":false}", BOTH, "enable_tls", "false"),
	OK("enable_tls false with empty tls_cert", "{" HARBOR ",\"enable_tls\":false,\"tls_cert\":\"\"}", BOTH,
	   "tls_cert", ""),
	OK("tls_cert without enable_tls", "{" HARBOR ",\"tls_cert\":\"" CERT "\"}", BOTH, "enable_tls", "absent"),

	/* Lengths in bytes: exactly the limit passes, one more fails. */
	OKF("registry_id 64 bytes", "{" HARBOR ",\"registry_id\":\"@\"}", 64, "registry_id", "@"),
	NOF("registry_id 65 bytes", "{" HARBOR ",\"registry_id\":\"@\"}", 65, "registry_id is longer than 64 bytes"),
	/* provider: 32 bytes pass the length check and meet the list; 33 do not. */
	NOF("provider 32 bytes", "{" ADDR ",\"provider\":\"@\"," NS "}", 32, "provider must be one of"),
	NOF("provider 33 bytes", "{" ADDR ",\"provider\":\"@\"," NS "}", 33, "provider is longer than 32 bytes"),
	OKF("namespace 255 bytes", "{" ADDR "," PROV ",\"namespace\":\"@\"}", MAX_NAMESPACE, "namespace", "@"),
	NOF("namespace 256 bytes", "{" ADDR "," PROV ",\"namespace\":\"@\"}", MAX_NAMESPACE + 1,
	    "namespace is longer than 255 bytes"),
	OKF("namespace 255 bytes after trimming", "{" ADDR "," PROV ",\"namespace\":\" @ \"}", MAX_NAMESPACE,
	    "namespace", "@"),
	{ "namespace 254 bytes of two-byte characters", B("{" ADDR "," PROV ",\"namespace\":\"@\"}"), BOTH, 1, NULL,
	  "namespace", "@", 127, "\xc3\xa9", NULL },
	{ "namespace 256 bytes of two-byte characters", B("{" ADDR "," PROV ",\"namespace\":\"@\"}"), BOTH, 0,
	  "namespace is longer than 255 bytes", NULL, NULL, 128, "\xc3\xa9", NULL },
	OKF("region 64 bytes", "{" ADDR ",\"provider\":\"ecr\",\"region\":\"@\"}", MAX_REGION, "region", "@"),
	NOF("region 65 bytes", "{" ADDR ",\"provider\":\"ecr\",\"region\":\"@\"}", MAX_REGION + 1,
	    "region is longer than 64 bytes"),
	OKF("access_key 1024 bytes", "{" HARBOR ",\"access_key\":\"@\"}", MAX_ACCESS_KEY, "access_key", "@"),
	NOF("access_key 1025 bytes", "{" HARBOR ",\"access_key\":\"@\"}", MAX_ACCESS_KEY + 1,
	    "access_key is longer than 1024 bytes"),
	NOF("access_key spaces count, it is not trimmed", "{" HARBOR ",\"access_key\":\" @\"}", MAX_ACCESS_KEY,
	    "access_key is longer than 1024 bytes"),
	OKF("secret_key 4096 bytes", "{" HARBOR ",\"secret_key\":\"@\"}", MAX_SECRET_KEY, "secret_key", "@"),
	NOF("secret_key 4097 bytes", "{" HARBOR ",\"secret_key\":\"@\"}", MAX_SECRET_KEY + 1,
	    "secret_key is longer than 4096 bytes"),
	/* 65536 bytes pass the length check and reach the PEM check. */
	NOF("tls_cert 65536 bytes", "{" HARBOR ",\"tls_cert\":\"@\"}", MAX_TLS_CERT, "PEM X.509"),
	NOF("tls_cert 65537 bytes", "{" HARBOR ",\"tls_cert\":\"@\"}", MAX_TLS_CERT + 1,
	    "tls_cert is longer than 65536 bytes"),
};

/* Returns a malloc'd copy of s[0..len) with '@' and '~' expanded as the row says; *out_len its length. */
static char *expand(const struct validate_case *c, const char *s, size_t len, size_t *out_len)
{
	const char *unit = c->unit ? c->unit : "a";
	size_t ulen = strlen(unit), clen = c->close ? strlen(c->close) : 0, n = 0;
	char *out;

	for (size_t i = 0; i < len; i++)
		if (c->fill > 0 && s[i] == '@')
			n += c->fill * ulen;
		else if (c->fill > 0 && c->close && s[i] == '~')
			n += c->fill * clen;
		else
			n++;
	/* Exactly n bytes, no terminator: body_parse must not read past its length. */
	out = malloc(n > 0 ? n : 1);
	if (out == NULL)
		return NULL;
	n = 0;
	for (size_t i = 0; i < len; i++) {
		const char *piece = NULL;
		size_t plen = 0;

		if (c->fill > 0 && s[i] == '@') {
			piece = unit;
			plen = ulen;
		} else if (c->fill > 0 && c->close && s[i] == '~') {
			piece = c->close;
			plen = clen;
		}
		if (piece == NULL) {
			out[n++] = s[i];
			continue;
		}
		for (size_t k = 0; k < c->fill; k++, n += plen)
			memcpy(out + n, piece, plen);
	}
	*out_len = n;
	return out;
}

/* The named field of in as text: strings as they are, booleans as true/false/absent. */
static const char *field_value(const struct registry_input *in, const char *field, int *known)
{
	static const char *const tri[] = { "absent", "false", "true" };

	*known = 1;
	if (strcmp(field, "registry_id") == 0)
		return in->registry_id;
	if (strcmp(field, "address") == 0)
		return in->address;
	if (strcmp(field, "provider") == 0)
		return in->provider;
	if (strcmp(field, "namespace") == 0)
		return in->namespace;
	if (strcmp(field, "region") == 0)
		return in->region;
	if (strcmp(field, "access_key") == 0)
		return in->access_key;
	if (strcmp(field, "secret_key") == 0)
		return in->secret_key;
	if (strcmp(field, "tls_cert") == 0)
		return in->tls_cert;
	if (strcmp(field, "is_default") == 0)
		return in->is_default >= -1 && in->is_default <= 1 ? tri[in->is_default + 1] : "(not set)";
	if (strcmp(field, "enable_tls") == 0)
		return in->enable_tls >= -1 && in->enable_tls <= 1 ? tri[in->enable_tls + 1] : "(not set)";
	*known = 0;
	return NULL;
}

static void run_case(const struct validate_case *c, enum input_mode mode)
{
	const char *mname = mode == INPUT_CREATE ? "create" : "update";
	char err[512] = "";
	size_t len = 0, vlen = 0;
	char *body = expand(c, c->body, c->len, &len);
	char *want = NULL;
	struct registry_input in;
	struct json_object *obj;
	int ok;

	if (!CHECK(body != NULL, "%s (%s): out of memory building the body", c->name, mname))
		return;
	memset(&in, 0xa5, sizeof in);   /* registry_input_parse must set every field */
	obj = body_parse(body, len, err, sizeof err);
	if (obj != NULL) {
		ok = registry_input_parse(obj, mode, &in, err, sizeof err) == 0;
	} else {
		ok = 0;
		CHECK(err[0] != '\0', "%s (%s): body_parse failed without a reason", c->name, mname);
	}
	if (CHECK(ok == c->ok, "%s (%s): %s, want %s; err \"%s\"", c->name, mname, ok ? "accepted" : "rejected",
		  c->ok ? "accepted" : "rejected", ok ? "" : err)) {
		if (!ok) {
			CHECK(strstr(err, c->err) != NULL, "%s (%s): err \"%s\" lacks \"%s\"", c->name, mname, err,
			      c->err);
		} else if (c->field != NULL) {
			int known;
			const char *got = field_value(&in, c->field, &known);

			if (c->value != NULL)
				want = expand(c, c->value, strlen(c->value), &vlen);
			if (CHECK(known, "%s: no such field %s in the test", c->name, c->field) &&
			    CHECK(c->value == NULL || want != NULL, "%s: out of memory", c->name)) {
				if (want == NULL)
					CHECK(got == NULL, "%s (%s): %s is \"%.60s\", want absent", c->name, mname,
					      c->field, got);
				else
					CHECK(got != NULL && strlen(got) == vlen && memcmp(got, want, vlen) == 0,
					      "%s (%s): %s is \"%.60s\" (%zu bytes), want \"%.60s\" (%zu bytes)",
					      c->name, mname, c->field, got ? got : "(null)",
					      got ? strlen(got) : 0, want, vlen);
			}
		}
	}
	if (obj != NULL)
		registry_input_free(&in);
	json_object_put(obj);
	free(want);
	free(body);
}

/* utf8_valid on its own: RFC 3629, bytes with an explicit length. */
static const struct utf8_case {
	const char *name;
	const char *s;
	size_t len;
	int want;
} utf8_cases[] = {
	{ "empty", B(""), 1 },
	{ "ASCII", B("https://h"), 1 },
	{ "ASCII with NUL", B("a\0b"), 1 },
	{ "two-byte U+00E9", B("\xc3\xa9"), 1 },
	{ "three-byte U+20AC", B("\xe2\x82\xac"), 1 },
	{ "four-byte U+1F600", B("\xf0\x9f\x98\x80"), 1 },
	{ "last code point U+10FFFF", B("\xf4\x8f\xbf\xbf"), 1 },
	{ "U+FFFD", B("\xef\xbf\xbd"), 1 },
	{ "lone continuation byte", B("\x80"), 0 },
	{ "0xff", B("\xff"), 0 },
	{ "0xfe", B("\xfe"), 0 },
	{ "overlong C0 AF", B("\xc0\xaf"), 0 },
	{ "overlong C1 BF", B("\xc1\xbf"), 0 },
	{ "overlong E0 80 AF", B("\xe0\x80\xaf"), 0 },
	{ "overlong F0 80 80 AF", B("\xf0\x80\x80\xaf"), 0 },
	{ "surrogate ED A0 80", B("\xed\xa0\x80"), 0 },
	{ "surrogate ED BF BF", B("\xed\xbf\xbf"), 0 },
	{ "above U+10FFFF F4 90 80 80", B("\xf4\x90\x80\x80"), 0 },
	{ "lead F5", B("\xf5\x80\x80\x80"), 0 },
	{ "two-byte cut at the end", B("a\xc3"), 0 },
	{ "four-byte cut at the end", B("\xf0\x9f\x98"), 0 },
	{ "lead followed by ASCII", B("\xc3" "a"), 0 },
	/* The length bounds the check: a valid sequence past len is not looked at. */
	{ "sequence cut by len", "\xc3\xa9", 1, 0 },
};

static void test_utf8(void)
{
	for (size_t i = 0; i < sizeof utf8_cases / sizeof utf8_cases[0]; i++) {
		const struct utf8_case *c = &utf8_cases[i];
		char *s = malloc(c->len ? c->len : 1);   /* exact size: a read past len shows under ASan */

		if (!CHECK(s != NULL, "utf8 %s: malloc", c->name))
			continue;
		memcpy(s, c->s, c->len);
		CHECK(utf8_valid(s, c->len) == c->want, "utf8_valid %s: want %d", c->name, c->want);
		free(s);
	}
}

/* registry_input_free leaves the struct safe to free again. */
static void test_free_twice(void)
{
	static const char body[] = "{" HARBOR ",\"access_key\":\"k\",\"tls_cert\":\"" CERT "\"}";
	char err[256];
	struct registry_input in;
	struct json_object *obj = body_parse(body, sizeof body - 1, err, sizeof err);

	if (!CHECK(obj != NULL, "free twice: body parsed"))
		return;
	CHECK(registry_input_parse(obj, INPUT_CREATE, &in, err, sizeof err) == 0, "free twice: parsed: %s", err);
	registry_input_free(&in);
	CHECK(in.address == NULL && in.access_key == NULL && in.tls_cert == NULL,
	      "free twice: registry_input_free clears the pointers");
	registry_input_free(&in);
	json_object_put(obj);
}

/* A tiny err buffer is still terminated and not overrun. */
static void test_small_err(void)
{
	char err[8 + 4];
	int intact = 1;
	struct json_object *obj;

	memset(err, 'Z', sizeof err);
	obj = body_parse("[]", 2, err, 8);
	CHECK(obj == NULL, "small err: rejected");
	CHECK(memchr(err, '\0', 8) != NULL, "small err: terminated within its size");
	for (size_t k = 8; k < sizeof err; k++)
		intact &= err[k] == 'Z';
	CHECK(intact, "small err: nothing written past errsize");
}

int main(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		for (int m = INPUT_CREATE; m <= INPUT_UPDATE; m++)
			if (cases[i].modes & (1u << m))
				run_case(&cases[i], (enum input_mode)m);
	test_utf8();
	test_free_twice();
	test_small_err();
	return check_done();
}
