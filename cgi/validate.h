/* validate.h - request bodies: JSON parsing and the registry field rules. */
#ifndef IMAGEREG_VALIDATE_H
#define IMAGEREG_VALIDATE_H

#include <stddef.h>

struct json_object;

/* Limits on string fields, in bytes after trimming; documented in README. */
#define MAX_ADDRESS 2048
#define MAX_NAMESPACE 255
#define MAX_REGION 64
#define MAX_ACCESS_KEY 1024
#define MAX_SECRET_KEY 4096
#define MAX_TLS_CERT 65536
#define MAX_JSON_DEPTH 16

/* A boolean field: absent from the body, false or true. */
enum tristate { TRI_ABSENT = -1, TRI_FALSE = 0, TRI_TRUE = 1 };

/*
 * The registry fields of a POST or PUT body, after validation.  Strings are
 * NULL when absent (or JSON null), otherwise owned copies, trimmed where the
 * rules say so.  Free with registry_input_free.
 */
struct registry_input {
	char *registry_id;
	char *address;
	char *provider;
	char *namespace;
	char *region;
	char *access_key;
	char *secret_key;
	char *tls_cert;
	enum tristate is_default;
	enum tristate enable_tls;
};

enum input_mode { INPUT_CREATE, INPUT_UPDATE };

/*
 * Parses len bytes as one JSON object.  Returns the object (caller frees with
 * json_object_put) or NULL with a client-facing reason in err.
 */
struct json_object *body_parse(const char *buf, size_t len, char *err, size_t errsize);

/*
 * Checks body against the registry rules and fills *in.  Returns 0, or -1
 * with a description naming the field in err; *in is always safe to free.
 */
int registry_input_parse(struct json_object *body, enum input_mode mode,
			 struct registry_input *in, char *err, size_t errsize);

/* Frees the strings of *in, wiping the credentials first. */
void registry_input_free(struct registry_input *in);

/* Zeroes the access_key and secret_key strings inside a parsed body (NULL is fine) before it is freed. */
void body_wipe_secrets(struct json_object *body);

/* 1 when s[0..len) is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates). */
int utf8_valid(const char *s, size_t len);

/* 1 when s is an absolute http(s) URL with a host, as the rules want. */
int address_valid(const char *s, char *err, size_t errsize);

/* The i-th provider the rules know (documentation order, from 0), or NULL past the last. */
const char *provider_name(size_t i);

/* 1 when p is one of providers[], exactly (lower case). */
int provider_known(const char *p);

#endif
