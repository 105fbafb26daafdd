/*
 * cli_docker.c - `imagereg docker-config` and `imagereg tls-cert`: hand a
 * stored registry's credentials and certificate to a registry client
 * (docker, podman, skopeo) in the files it reads.
 */
#include "cli_docker.h"
#include "admin_sql.h"
#include "config.h"
#include "crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <libgen.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Largest config.json merged into: Docker's are a few kilobytes. */
#define CONFIG_MAX (1024 * 1024)

/*
 * The arguments of `docker-config` and `tls-cert`: an optional registry id
 * and an optional `option VALUE`, in any order.  -1 for anything else.
 */
static int id_and_option(int argc, char **argv, const char *option, const char **id, const char **value)
{
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], option) == 0 && i + 1 < argc)
			*value = argv[++i];
		else if (argv[i][0] != '-' && *id == NULL)
			*id = argv[i];
		else
			return -1;
	}
	return 0;
}

/* host[:port] of an http(s) address (validated on the way in) into out. */
static void address_host(const char *address, char *out, size_t size)
{
	const char *host = strstr(address, "://");

	host = host ? host + 3 : address;
	snprintf(out, size, "%.*s", (int)strcspn(host, "/?#"), host);
}

/*
 * The existing config.json at path as a JSON object (caller puts), a new
 * empty one when there is no file, or NULL after a message (unreadable, not
 * an object): never overwrite what we cannot read, it holds other logins.
 */
static struct json_object *read_config(const char *path)
{
	FILE *f = fopen(path, "r");
	struct json_object *obj;
	char *text;
	size_t n;

	if (f == NULL) {
		if (errno == ENOENT)
			return json_object_new_object();
		fprintf(stderr, "imagereg: cannot read %s: %s\n", path, strerror(errno));
		return NULL;
	}
	text = malloc(CONFIG_MAX + 1);
	n = text ? fread(text, 1, CONFIG_MAX + 1, f) : 0;
	fclose(f);
	if (text == NULL || n > CONFIG_MAX) {
		fprintf(stderr, "imagereg: %s is larger than %d bytes; not touched\n", path, CONFIG_MAX);
		free(text);
		return NULL;
	}
	text[n] = '\0';
	obj = n == 0 ? json_object_new_object() : json_tokener_parse(text);
	OPENSSL_cleanse(text, n);
	free(text);
	if (obj == NULL || !json_object_is_type(obj, json_type_object)) {
		fprintf(stderr, "imagereg: %s is not a JSON object (a Docker config.json); not touched\n", path);
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

/*
 * Writes text to path atomically, mode 0600 like Docker's own: a temporary
 * file beside it, fsync, rename.  A reader sees the old file or the new one,
 * never half of one, and the credentials are never world-readable, whatever
 * the umask.  0 or -1 after a message.
 */
static int write_private(const char *path, const char *text)
{
	char *copy = strdup(path), tmp[4096];
	int fd = -1, rc = -1;
	size_t len = strlen(text);

	if (copy == NULL || snprintf(tmp, sizeof tmp, "%s/.imagereg-XXXXXX", dirname(copy)) >= (int)sizeof tmp) {
		fprintf(stderr, "imagereg: %s: path too long\n", path);
		goto out;
	}
	fd = mkstemp(tmp);      /* 0600 */
	if (fd < 0) {
		fprintf(stderr, "imagereg: cannot create a file beside %s: %s\n", path, strerror(errno));
		goto out;
	}
	if (fchmod(fd, 0600) < 0 || write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1 ||
	    fsync(fd) < 0) {
		fprintf(stderr, "imagereg: cannot write %s: %s\n", tmp, strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path) < 0) {
		fprintf(stderr, "imagereg: cannot replace %s: %s\n", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(copy);
	return rc;
}

/* The auths key Docker looks the registry up by: host[:port], Docker Hub by its historic URL. */
static void auths_key(const PGresult *res, char *out, size_t size)
{
	if (strcmp(PQgetvalue(res, 0, RR_PROVIDER), "dockerhub") == 0)
		snprintf(out, size, "https://index.docker.io/v1/");
	else
		address_host(PQgetvalue(res, 0, RR_ADDRESS), out, size);
}

/* base64("user:pass"), malloc'd (caller wipes and frees), or NULL. */
static char *basic_auth(const char *user, const char *pass)
{
	size_t pair_len = strlen(user) + 1 + strlen(pass);
	char *pair = malloc(pair_len + 1), *b64 = malloc(4 * (pair_len / 3 + 1) + 1);

	if (pair != NULL && b64 != NULL) {
		snprintf(pair, pair_len + 1, "%s:%s", user, pass);
		EVP_EncodeBlock((unsigned char *)b64, (unsigned char *)pair, (int)pair_len);
	} else {
		free(b64);
		b64 = NULL;
	}
	if (pair != NULL)
		OPENSSL_cleanse(pair, pair_len);
	free(pair);
	return b64;
}

/* Wipes json-c's copy of the string of auths[key].auth before the object is put. */
static void wipe_auth(struct json_object *config, const char *key)
{
	struct json_object *auths, *entry, *auth;

	if (json_object_object_get_ex(config, "auths", &auths) && json_object_object_get_ex(auths, key, &entry) &&
	    json_object_is_type(entry, json_type_object) && json_object_object_get_ex(entry, "auth", &auth) &&
	    json_object_is_type(auth, json_type_string))
		OPENSSL_cleanse((char *)json_object_get_string(auth), strlen(json_object_get_string(auth)));
}

int cmd_docker_config(PGconn *conn, const struct config *cfg, int argc, char **argv)
{
	const char *id = NULL, *output = NULL;
	struct seal_key key;
	PGresult *res = NULL;
	char *access = NULL, *secret = NULL, *b64 = NULL, name[512];
	struct json_object *config = NULL, *auths;
	int rc = 1, key_loaded = 0;

	if (id_and_option(argc, argv, "--output", &id, &output) < 0) {
		fprintf(stderr, "usage: imagereg docker-config [ID] [--output FILE]\n");
		return 2;
	}
	if (seal_key_load(cfg->key_file, &key, name, sizeof name) < 0) {
		fprintf(stderr, "imagereg: %s\n", name);
		return 1;
	}
	key_loaded = 1;
	res = admin_registry(conn, id);
	if (res == NULL)
		goto out;
	if (admin_credentials(&key, res, 0, &access, &secret) < 0)
		goto out;
	auths_key(res, name, sizeof name);
	if (access == NULL || *access == '\0' || secret == NULL || *secret == '\0') {
		fprintf(stderr, "imagereg: registry %s has no %s: a config.json entry would log in as nobody;"
			" set access_key and secret_key first (docker needs none for an open registry)\n",
			name, access == NULL || *access == '\0' ? "access_key" : "secret_key");
		goto out;
	}
	b64 = basic_auth(access, secret);
	config = output ? read_config(output) : json_object_new_object();
	if (b64 == NULL || config == NULL)
		goto out;
	/* Merge: every other login, and every other key Docker keeps there, stays. */
	if (!json_object_object_get_ex(config, "auths", &auths) || !json_object_is_type(auths, json_type_object)) {
		auths = json_object_new_object();
		json_object_object_add(config, "auths", auths);
	}
	struct json_object *entry = json_object_new_object();
	json_object_object_add(entry, "auth", json_object_new_string(b64));
	json_object_object_add(auths, name, entry);
	const char *text = json_object_to_json_string_ext(config, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE);
	if (output == NULL) {
		printf("%s\n", text);
		rc = 0;
	} else if (write_private(output, text) == 0) {
		fprintf(stderr, "imagereg: %s: credentials for %s written (mode 0600)\n", output, name);
		rc = 0;
	}
	OPENSSL_cleanse((char *)text, strlen(text));
out:
	if (config != NULL) {
		wipe_auth(config, name);
		json_object_put(config);
	}
	secret_free(b64);
	secret_free(access);
	secret_free(secret);
	PQclear(res);
	if (key_loaded)
		seal_key_clear(&key);
	return rc;
}

/* mkdir that accepts a directory already there. */
static int make_dir(const char *path)
{
	if (mkdir(path, 0755) == 0 || errno == EEXIST)
		return 0;
	fprintf(stderr, "imagereg: cannot create %s: %s\n", path, strerror(errno));
	return -1;
}

int cmd_tls_cert(PGconn *conn, const struct config *cfg, int argc, char **argv)
{
	const char *id = NULL, *dir = NULL;
	PGresult *res = NULL;
	char host[512], path[4096], file[4200];
	int rc = 1;

	(void)cfg;
	if (id_and_option(argc, argv, "--certs-dir", &id, &dir) < 0) {
		fprintf(stderr, "usage: imagereg tls-cert [ID] [--certs-dir DIR]\n");
		return 2;
	}
	res = admin_registry(conn, id);
	if (res == NULL)
		return 1;
	address_host(PQgetvalue(res, 0, RR_ADDRESS), host, sizeof host);
	if (PQgetisnull(res, 0, RR_TLS_CERT) || PQgetvalue(res, 0, RR_TLS_CERT)[0] == '\0') {
		fprintf(stderr, "imagereg: registry %s has no tls_cert: its certificate is checked against the"
			" system CA store\n", host);
		goto out;
	}
	const char *pem = PQgetvalue(res, 0, RR_TLS_CERT);
	size_t len = strlen(pem);
	if (PQgetvalue(res, 0, RR_ENABLE_TLS)[0] != 't')
		fprintf(stderr, "imagereg: warning: registry %s has enable_tls false: the responder does not use"
			" this certificate\n", host);
	if (dir == NULL) {
		rc = fwrite(pem, 1, len, stdout) == len && (len == 0 || pem[len - 1] == '\n' || putchar('\n') != EOF)
			? 0 : 1;
		goto out;
	}
	/* certs.d/<host[:port]>/ca.crt: what docker, podman and skopeo look for. */
	if (strchr(host, '/') != NULL || strcmp(host, "..") == 0 || strcmp(host, ".") == 0 ||
	    snprintf(path, sizeof path, "%s/%s", dir, host) >= (int)sizeof path - 8) {
		fprintf(stderr, "imagereg: %s cannot name a directory\n", host);
		goto out;
	}
	if (make_dir(dir) < 0 || make_dir(path) < 0)
		goto out;
	snprintf(file, sizeof file, "%s/ca.crt", path);
	FILE *f = fopen(file, "w");
	if (f == NULL || fwrite(pem, 1, len, f) != len || (len > 0 && pem[len - 1] != '\n' && fputc('\n', f) == EOF)) {
		fprintf(stderr, "imagereg: cannot write %s: %s\n", file, strerror(errno));
		if (f != NULL)
			fclose(f);
		goto out;
	}
	if (fclose(f) != 0) {
		fprintf(stderr, "imagereg: cannot write %s: %s\n", file, strerror(errno));
		goto out;
	}
	fprintf(stderr, "imagereg: %s written\n", file);
	rc = 0;
out:
	PQclear(res);
	return rc;
}
