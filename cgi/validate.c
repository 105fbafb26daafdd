/* validate.c - turns a request body into a checked struct registry_input. */
#include "validate.h"
#include "crypto.h"
#include "json_check.h"
#include "req.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum field_kind { FIELD_STRING, FIELD_BOOL };

/* One line per body field: its JSON type, where it goes, its limit. */
static const struct field_rule {
	const char *name;
	enum field_kind kind;
	size_t offset;          /* into struct registry_input */
	size_t max_len;         /* bytes, after trimming */
	int trim;               /* strip surrounding white space */
	int secret;             /* wiped before its memory is freed */
} field_rules[] = {
	{ "registry_id", FIELD_STRING, offsetof(struct registry_input, registry_id), 64, 0, 0 },
	{ "address", FIELD_STRING, offsetof(struct registry_input, address), MAX_ADDRESS, 1, 0 },
	{ "provider", FIELD_STRING, offsetof(struct registry_input, provider), 32, 0, 0 },
	{ "namespace", FIELD_STRING, offsetof(struct registry_input, namespace), MAX_NAMESPACE, 1, 0 },
	{ "region", FIELD_STRING, offsetof(struct registry_input, region), MAX_REGION, 1, 0 },
	{ "access_key", FIELD_STRING, offsetof(struct registry_input, access_key), MAX_ACCESS_KEY, 0, 1 },
	{ "secret_key", FIELD_STRING, offsetof(struct registry_input, secret_key), MAX_SECRET_KEY, 0, 1 },
	{ "tls_cert", FIELD_STRING, offsetof(struct registry_input, tls_cert), MAX_TLS_CERT, 0, 0 },
	{ "is_default", FIELD_BOOL, offsetof(struct registry_input, is_default), 0, 0, 0 },
	{ "enable_tls", FIELD_BOOL, offsetof(struct registry_input, enable_tls), 0, 0, 0 },
};

static const char *const providers[] = {
	"acr", "tcr", "swr", "ecr", "dockerhub", "harbor", "nexus", "native",
};

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

int utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		unsigned char c = *p;
		size_t n;
		unsigned int cp, min;

		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f, min = 0x80;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f, min = 0x800;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07, min = 0x10000;
		else
			return 0;       /* continuation byte, overlong lead or > U+10FFFF */
		if ((size_t)(end - p) <= n)
			return 0;
		for (size_t i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		/* Overlong forms, UTF-16 surrogates and code points past U+10FFFF. */
		if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return 0;
		p += n + 1;
	}
	return 1;
}

struct json_object *body_parse(const char *buf, size_t len, char *err, size_t errsize)
{
	/* json-c counts a scalar as a level; json_check enforces the real limit. */
	struct json_tokener *tok = json_tokener_new_ex(MAX_JSON_DEPTH + 1);
	struct json_object *obj = NULL;
	enum json_tokener_error jerr;
	size_t end;

	if (tok == NULL) {
		snprintf(err, errsize, "out of memory parsing the request body");
		return NULL;
	}
	/* json-c's own check lets overlong forms and surrogates through. */
	if (!utf8_valid(buf, len)) {
		snprintf(err, errsize, "request body is not valid UTF-8");
		goto fail;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	size_t lead = 0;
	while (lead < len && is_space(buf[lead]))
		lead++;
	if (lead == len) {
		snprintf(err, errsize, "request body is empty; a JSON object is required");
		goto fail;
	}
	if (!json_check(buf, len, MAX_JSON_DEPTH, err, errsize))
		goto fail;
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (jerr == json_tokener_continue) {
		/* A bare number is only complete once the input is known to end. */
		obj = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		end = len;
		if (jerr == json_tokener_error_parse_eof || jerr == json_tokener_continue) {
			snprintf(err, errsize, "request body is truncated JSON");
			goto fail;
		}
	}
	if (jerr != json_tokener_success) {
		snprintf(err, errsize, "request body is not valid JSON: %s",
			 json_tokener_error_desc(jerr));
		goto fail;
	}
	while (end < len && is_space(buf[end]))
		end++;
	if (end < len) {
		snprintf(err, errsize, "request body is not valid JSON: unexpected data after the JSON value");
		goto fail;
	}
	if (!json_object_is_type(obj, json_type_object)) {
		snprintf(err, errsize, "request body must be a JSON object");
		goto fail;
	}
	json_tokener_free(tok);
	return obj;
fail:
	json_object_put(obj);
	json_tokener_free(tok);
	return NULL;
}

/* Copies s[0..len) without surrounding white space when trim is set. */
static char *copy_field(const char *s, size_t len, int trim, size_t *out_len)
{
	char *copy;

	if (trim) {
		while (len > 0 && is_space(*s)) {
			s++;
			len--;
		}
		while (len > 0 && is_space(s[len - 1]))
			len--;
	}
	copy = malloc(len + 1);
	if (copy != NULL) {
		memcpy(copy, s, len);
		copy[len] = '\0';
	}
	*out_len = len;
	return copy;
}

/* Applies the table: types, U+0000, lengths.  Returns 0 or -1 with err set. */
static int parse_fields(struct json_object *body, struct registry_input *in,
			char *err, size_t errsize)
{
	for (size_t i = 0; i < sizeof field_rules / sizeof field_rules[0]; i++) {
		const struct field_rule *f = &field_rules[i];
		struct json_object *v;
		char *slot = (char *)in + f->offset;

		/* Absent and JSON null both mean "not given", as in Zadig (Go). */
		if (!json_object_object_get_ex(body, f->name, &v) || v == NULL)
			continue;
		if (f->kind == FIELD_BOOL) {
			if (!json_object_is_type(v, json_type_boolean)) {
				snprintf(err, errsize, "%s must be a boolean (true or false)", f->name);
				return -1;
			}
			*(enum tristate *)slot = json_object_get_boolean(v) ? TRI_TRUE : TRI_FALSE;
			continue;
		}
		if (!json_object_is_type(v, json_type_string)) {
			snprintf(err, errsize, "%s must be a string", f->name);
			return -1;
		}
		const char *s = json_object_get_string(v);
		size_t len = (size_t)json_object_get_string_len(v), out_len;

		if (memchr(s, '\0', len) != NULL) {
			snprintf(err, errsize, "%s must not contain the character U+0000", f->name);
			return -1;
		}
		char *copy = copy_field(s, len, f->trim, &out_len);
		if (copy == NULL) {
			snprintf(err, errsize, "out of memory reading %s", f->name);
			return -1;
		}
		*(char **)slot = copy;
		if (out_len > f->max_len) {
			snprintf(err, errsize, "%s is longer than %zu bytes", f->name, f->max_len);
			return -1;
		}
	}
	return 0;
}

int address_valid(const char *s, char *err, size_t errsize)
{
	size_t scheme, auth_len, host_len;
	const char *auth;

	if (strncasecmp(s, "http://", 7) == 0)
		scheme = 7;
	else if (strncasecmp(s, "https://", 8) == 0)
		scheme = 8;
	else {
		snprintf(err, errsize, "address must be an absolute URL starting with http:// or https://");
		return 0;
	}
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
			snprintf(err, errsize, "address must not contain white space or control characters");
			return 0;
		}
	auth = s + scheme;
	auth_len = strcspn(auth, "/?#");
	if (memchr(auth, '@', auth_len) != NULL) {
		/* user:password@host would store a credential where it is shown. */
		snprintf(err, errsize, "address must not contain user information; use access_key and secret_key");
		return 0;
	}
	if (auth_len > 0 && auth[0] == '[') {
		const char *close = memchr(auth, ']', auth_len);

		host_len = close ? (size_t)(close - auth) + 1 : 0;
	} else {
		host_len = strcspn(auth, ":/?#");
	}
	if (host_len == 0 || (host_len == 2 && auth[0] == '[')) {
		snprintf(err, errsize, "address must include a host name");
		return 0;
	}
	/* A DNS name or IPv4 address, or an [IPv6] literal: nothing a URL parser could read two ways. */
	for (size_t i = 0; i < host_len; i++) {
		char c = auth[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			 c == '-' || c == '.' || c == '_' ||
			 (auth[0] == '[' && (c == ':' || c == '[' || c == ']'));

		if (!ok) {
			snprintf(err, errsize, "address host may contain only letters, digits, '-', '.' and '_',"
				 " or be an [IPv6] literal");
			return 0;
		}
	}
	if (host_len < auth_len) {
		const char *port = auth + host_len;
		size_t port_len = auth_len - host_len - 1;
		long value = 0;

		if (*port != ':' || port_len == 0 || port_len > 5)
			goto bad_port;
		for (size_t i = 1; i <= port_len; i++) {
			if (port[i] < '0' || port[i] > '9')
				goto bad_port;
			value = value * 10 + (port[i] - '0');
		}
		if (value < 1 || value > 65535)
			goto bad_port;
	}
	return 1;
bad_port:
	snprintf(err, errsize, "address has an invalid port");
	return 0;
}

const char *provider_name(size_t i)
{
	return i < sizeof providers / sizeof providers[0] ? providers[i] : NULL;
}

int provider_known(const char *p)
{
	for (size_t i = 0; i < sizeof providers / sizeof providers[0]; i++)
		if (strcmp(p, providers[i]) == 0)
			return 1;
	return 0;
}

int registry_input_parse(struct json_object *body, enum input_mode mode,
			 struct registry_input *in, char *err, size_t errsize)
{
	memset(in, 0, sizeof *in);
	in->is_default = TRI_ABSENT;
	in->enable_tls = TRI_ABSENT;
	if (parse_fields(body, in, err, errsize) < 0)
		return -1;
	if (in->address == NULL || in->address[0] == '\0') {
		snprintf(err, errsize, "address is required");
		return -1;
	}
	if (!address_valid(in->address, err, errsize))
		return -1;
	if (in->provider == NULL || in->provider[0] == '\0') {
		snprintf(err, errsize, "provider is required");
		return -1;
	}
	if (!provider_known(in->provider)) {
		snprintf(err, errsize, "provider must be one of acr, tcr, swr, ecr, dockerhub, harbor, nexus, native");
		return -1;
	}
	int ecr = strcmp(in->provider, "ecr") == 0;
	if (!ecr && (in->namespace == NULL || in->namespace[0] == '\0')) {
		snprintf(err, errsize, "namespace cannot be empty");
		return -1;
	}
	if (ecr && (in->region == NULL || in->region[0] == '\0')) {
		snprintf(err, errsize, "region is required when provider is ecr");
		return -1;
	}
	/* On PUT an absent tls_cert keeps the stored one; the database checks it. */
	if (in->enable_tls == TRI_TRUE &&
	    ((in->tls_cert == NULL && mode == INPUT_CREATE) ||
	     (in->tls_cert != NULL && strspn(in->tls_cert, " \t\r\n") == strlen(in->tls_cert)))) {
		snprintf(err, errsize, "tls_cert is required when enable_tls is true");
		return -1;
	}
	/* A certificate that is there must be one, whether or not TLS is on yet. */
	if (in->tls_cert != NULL && strspn(in->tls_cert, " \t\r\n") != strlen(in->tls_cert) &&
	    !pem_certificates_valid(in->tls_cert, strlen(in->tls_cert), err, errsize))
		return -1;
	return 0;
}

void registry_input_free(struct registry_input *in)
{
	for (size_t i = 0; i < sizeof field_rules / sizeof field_rules[0]; i++)
		if (field_rules[i].kind == FIELD_STRING) {
			char **slot = (char **)((char *)in + field_rules[i].offset);

			if (field_rules[i].secret && *slot != NULL)
				explicit_bzero(*slot, strlen(*slot));
			free(*slot);
			*slot = NULL;
		}
}

void body_wipe_secrets(struct json_object *body)
{
	for (size_t i = 0; body != NULL && i < sizeof field_rules / sizeof field_rules[0]; i++) {
		struct json_object *v;

		if (!field_rules[i].secret || !json_object_object_get_ex(body, field_rules[i].name, &v) ||
		    !json_object_is_type(v, json_type_string))
			continue;
		/* json-c hands out its own copy read-only; it is ours to clear before it is freed. */
		explicit_bzero((char *)json_object_get_string(v), (size_t)json_object_get_string_len(v));
	}
}
