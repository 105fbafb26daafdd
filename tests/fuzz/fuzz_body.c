/* fuzz_body.c - libFuzzer: request bodies through body_parse, then the registry rules in both modes. */
#include "crypto.h"
#include "fuzz.h"
#include "json_check.h"
#include "validate.h"

#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const providers[] = {
	"acr", "tcr", "swr", "ecr", "dockerhub", "harbor", "nexus", "native",
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	(void)argc;
	(void)argv;
	fuzz_quiet_log();
	/*
	 * OpenSSL sets up its error queue and decoders on first use and keeps
	 * them; doing it here keeps that one-off memory out of the leak check.
	 */
	pem_certificates_valid("x", 1, err, sizeof err);
	return 0;
}

/*
 * Members of every object in text, which json_check has already accepted:
 * each ':' outside a string starts exactly one member.
 */
static size_t text_members(const char *s, size_t len)
{
	size_t n = 0;
	int in_string = 0;

	for (size_t i = 0; i < len; i++) {
		if (in_string) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in_string = 0;
		} else if (s[i] == '"') {
			in_string = 1;
		} else if (s[i] == ':') {
			n++;
		}
	}
	return n;
}

/* Members of every object json-c kept, and the deepest container nesting. */
static size_t tree_members(struct json_object *v, int depth, int *max_depth)
{
	size_t n = 0;

	if (json_object_is_type(v, json_type_object)) {
		if (depth > *max_depth)
			*max_depth = depth;
		json_object_object_foreach(v, key, val) {
			(void)key;
			n += 1 + tree_members(val, depth + 1, max_depth);
		}
	} else if (json_object_is_type(v, json_type_array)) {
		if (depth > *max_depth)
			*max_depth = depth;
		for (size_t i = 0; i < json_object_array_length(v); i++)
			n += tree_members(json_object_array_get_idx(v, i), depth + 1, max_depth);
	}
	return n;
}

static int blank(const char *s)
{
	return strspn(s, " \t\r\n") == strlen(s);
}

/* A field the rules trim has no white space at either end. */
static int trimmed(const char *s)
{
	size_t len = strlen(s);

	return len == 0 || (strchr(" \t\n\r\f\v", s[0]) == NULL && strchr(" \t\n\r\f\v", s[len - 1]) == NULL);
}

/* A string field that passed: within its limit, valid UTF-8 (PostgreSQL's encoding), trimmed if asked. */
static void check_field(const char *s, size_t max, int trim)
{
	if (s == NULL)
		return;
	ENSURE(strlen(s) <= max);
	ENSURE(utf8_valid(s, strlen(s)));
	if (trim)
		ENSURE(trimmed(s));
}

/* What the handlers rely on when registry_input_parse returns 0. */
static void check_accepted(const struct registry_input *in, enum input_mode mode)
{
	int known = 0;
	char err[256];

	ENSURE(in->address != NULL && in->address[0] != '\0');
	ENSURE(address_valid(in->address, err, sizeof err));
	ENSURE(in->provider != NULL);
	for (size_t i = 0; i < sizeof providers / sizeof providers[0]; i++)
		known |= strcmp(in->provider, providers[i]) == 0;
	ENSURE(known);
	if (strcmp(in->provider, "ecr") == 0)
		ENSURE(in->region != NULL && in->region[0] != '\0');
	else
		ENSURE(in->namespace != NULL && in->namespace[0] != '\0');
	ENSURE(in->is_default >= TRI_ABSENT && in->is_default <= TRI_TRUE);
	ENSURE(in->enable_tls >= TRI_ABSENT && in->enable_tls <= TRI_TRUE);
	if (in->enable_tls == TRI_TRUE && mode == INPUT_CREATE)
		ENSURE(in->tls_cert != NULL && !blank(in->tls_cert));
	check_field(in->registry_id, 64, 0);
	check_field(in->address, MAX_ADDRESS, 1);
	check_field(in->provider, 32, 0);
	check_field(in->namespace, MAX_NAMESPACE, 1);
	check_field(in->region, MAX_REGION, 1);
	check_field(in->access_key, MAX_ACCESS_KEY, 0);
	check_field(in->secret_key, MAX_SECRET_KEY, 0);
	check_field(in->tls_cert, MAX_TLS_CERT, 0);
}

/* Runs the rules in one mode; returns what registry_input_parse returned. */
static int rules(struct json_object *obj, enum input_mode mode)
{
	struct registry_input in;
	char err[256];
	int rc;

	err[0] = '\0';
	rc = registry_input_parse(obj, mode, &in, err, sizeof err);
	ENSURE(rc == 0 || rc == -1);
	if (rc == 0)
		check_accepted(&in, mode);
	else
		ENSURE(err[0] != '\0' && memchr(err, '\0', sizeof err) != NULL);
	registry_input_free(&in);
	ENSURE(in.address == NULL && in.provider == NULL && in.tls_cert == NULL);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct json_object *obj;
	char err[256], check_err[256];
	int depth = 0;
	int created, updated;

	err[0] = '\0';
	obj = body_parse(buf, size, err, sizeof err);
	if (obj == NULL) {
		ENSURE(err[0] != '\0' && memchr(err, '\0', sizeof err) != NULL);
		return 0;
	}
	ENSURE(json_object_is_type(obj, json_type_object));
	/* An accepted body passed every check body_parse promises. */
	ENSURE(utf8_valid(buf, size));
	ENSURE(json_check(buf, size, MAX_JSON_DEPTH, check_err, sizeof check_err));
	/*
	 * json-c must hold every member the text has: fewer means two keys
	 * json_check told apart were merged, and the body means different
	 * things to json-c and to anyone else reading it.
	 */
	ENSURE(tree_members(obj, 1, &depth) == text_members(buf, size));
	ENSURE(depth <= MAX_JSON_DEPTH);

	created = rules(obj, INPUT_CREATE);
	updated = rules(obj, INPUT_UPDATE);
	/* PUT only relaxes POST (an absent tls_cert keeps the stored one). */
	if (created == 0)
		ENSURE(updated == 0);
	json_object_put(obj);
	return 0;
}
