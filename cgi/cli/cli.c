/*
 * cli.c - imagereg, the admin command line: migrations, API tokens, the
 * at-rest key and the credentials the HTTP API never returns.  Its settings
 * come from its own file (/etc/imagereg/admin.conf), never the responder's; it
 * connects with admin_dsn (else dsn, else libpq's PG* variables) as a role
 * that owns the schema, not as imagereg_app.
 */
#include "admin_sql.h"
#include "cli_check.h"
#include "cli_docker.h"
#include "config.h"
#include "crypto.h"
#include "generation.h"
#include "migrate.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef IMAGEREG_SQLDIR
#define IMAGEREG_SQLDIR "/usr/local/share/imagereg/sql"
#endif

static void usage(FILE *out)
{
	fprintf(out,
		"usage: imagereg COMMAND ...\n"
		"  migrate [--dir SQLDIR]            apply the numbered files of SQLDIR (default %s,\n"
		"                                    or IMAGEREG_SQL_DIR) not yet in schema_migration, then\n"
		"                                    every SQLDIR/functions file (functions, triggers, views)\n"
		"  token create NAME --scope read|write\n"
		"                                    make an API token; prints it once, stores its SHA-256\n"
		"  token list                        names, scopes, creation, last use, revocation\n"
		"  token revoke NAME                 refuse the token from the next request on\n"
		"  credentials ID                    print the registry's access_key and secret_key\n"
		"  docker-config [ID] [--output FILE]\n"
		"                                    a Docker config.json for the registry (the default\n"
		"                                    without ID); FILE is merged into, mode 0600\n"
		"  tls-cert [ID] [--certs-dir DIR]   the registry's tls_cert as PEM, or written to\n"
		"                                    DIR/<host[:port]>/ca.crt\n"
		"  key rotate NEW_KEY_FILE           re-seal every credential under the new key, in one\n"
		"                                    transaction (the current key is IMAGEREG_KEY_FILE)\n"
		"  check [ID]                        check the registry (every registry without ID) as\n"
		"                                    stored; one JSON result per line, exit 1 if one failed\n"
		"  cache flush                       make every responder (every host) forget what it has\n"
		"                                    cached, e.g. after writes that bypassed the triggers\n"
		"Settings: /etc/imagereg/admin.conf (or IMAGEREG_ADMIN_CONFIG), then IMAGEREG_*;\n"
		"database: admin_dsn (IMAGEREG_ADMIN_DSN), else dsn, else libpq's PG* environment.\n",
		IMAGEREG_SQLDIR);
}

/* Connects as the administrator; NULL after a message. */
static PGconn *connect_db(const struct config *cfg)
{
	const char *dsn = cfg->admin_dsn[0] != '\0' ? cfg->admin_dsn : cfg->dsn;
	const char *keys[] = { "application_name", "dbname", NULL };
	const char *vals[] = { "imagereg-cli", dsn, NULL };
	PGconn *conn;

	if (dsn[0] == '\0')
		keys[1] = NULL;
	conn = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "imagereg: cannot connect: %s", PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

static int load_key(const char *path, struct seal_key *key)
{
	char err[512];

	if (seal_key_load(path, key, err, sizeof err) == 0)
		return 0;
	fprintf(stderr, "imagereg: %s\n", err);
	return -1;
}

static int cmd_migrate(PGconn *conn, const struct config *cfg, int argc, char **argv)
{
	(void)cfg;
	const char *dir = getenv("IMAGEREG_SQL_DIR");

	if (dir == NULL || *dir == '\0')
		dir = IMAGEREG_SQLDIR;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
			dir = argv[++i];
		} else {
			usage(stderr);
			return 2;
		}
	}
	return migrate(conn, dir) == 0 ? 0 : 1;
}

static int token_create(PGconn *conn, const char *name, const char *scope)
{
	char token[TOKEN_LEN + 1], hash[2 + 2 * SHA256_BYTES + 1];
	int rc;

	if (token_generate(token) < 0) {
		fprintf(stderr, "imagereg: getrandom failed\n");
		return 1;
	}
	token_hash_bytea(token, strlen(token), hash);
	const char *p[] = { name, scope, hash };
	rc = admin_do(conn, ADM_TOKEN_CREATE, p);
	if (rc == 0) {
		/* Shown this once; only its hash is kept. */
		printf("%s\n", token);
		fprintf(stderr, "token %s (%s) created; it is shown only now\n", name, scope);
	}
	return rc == 0 ? 0 : 1;
}

static int token_list(PGconn *conn)
{
	PGresult *res = admin_run(conn, ADM_TOKEN_LIST, NULL);

	if (res == NULL)
		return 1;
	printf("%-24s %-6s %-20s %-20s %s\n", "NAME", "SCOPE", "CREATED", "LAST USED", "REVOKED");
	for (int i = 0; i < PQntuples(res); i++)
		printf("%-24s %-6s %-20s %-20s %s\n", PQgetvalue(res, i, TL_NAME), PQgetvalue(res, i, TL_SCOPE),
		       PQgetvalue(res, i, TL_CREATED), PQgetvalue(res, i, TL_LAST_USED), PQgetvalue(res, i, TL_REVOKED));
	PQclear(res);
	return 0;
}

static int token_revoke(PGconn *conn, const char *name)
{
	const char *p[] = { name };
	PGresult *res = admin_run(conn, ADM_TOKEN_REVOKE, p);
	int rc;

	if (res == NULL)
		return 1;
	rc = PQntuples(res) == 1 ? 0 : 1;
	if (rc != 0)
		fprintf(stderr, "imagereg: no token named %s\n", name);
	else
		fprintf(stderr, "token %s revoked\n", name);
	PQclear(res);
	return rc;
}

static int cmd_token(PGconn *conn, const struct config *cfg, int argc, char **argv)
{
	(void)cfg;
	if (argc == 4 && strcmp(argv[0], "create") == 0 && strcmp(argv[2], "--scope") == 0 &&
	    (strcmp(argv[3], "read") == 0 || strcmp(argv[3], "write") == 0))
		return token_create(conn, argv[1], argv[3]);
	if (argc == 1 && strcmp(argv[0], "list") == 0)
		return token_list(conn);
	if (argc == 2 && strcmp(argv[0], "revoke") == 0)
		return token_revoke(conn, argv[1]);
	usage(stderr);
	return 2;
}

/* `credentials ID`. */
static int show_credentials(PGconn *conn, const struct config *cfg, int argc, char **argv)
{
	struct seal_key key;
	PGresult *res;
	char *access = NULL, *secret = NULL;
	int rc = 1;

	if (argc != 1) {
		usage(stderr);
		return 2;
	}
	if (load_key(cfg->key_file, &key) < 0)
		return 1;
	res = admin_registry(conn, argv[0]);
	if (res == NULL)
		goto out;
	if (admin_credentials(&key, res, 0, &access, &secret) < 0)
		goto out;
	printf("access_key=%s\nsecret_key=%s\n", access ? access : "", secret ? secret : "");
	rc = 0;
out:
	secret_free(access);
	secret_free(secret);
	PQclear(res);
	seal_key_clear(&key);
	return rc;
}

/* Re-seals one value under the new key; NULL after a message.  Caller frees. */
static char *reseal(const struct seal_key *old, const struct seal_key *new, const char *sealed,
		    const char *aad, const char *id, int *skipped)
{
	char kid[KEY_ID_LEN + 1], *plain, *out;

	if (sealed_key_id(sealed, kid) < 0) {
		fprintf(stderr, "imagereg: registry %s: %s is not a sealed value\n", id, aad);
		return NULL;
	}
	/* Already under the new key: a rotation run again after a reload. */
	if (strcmp(kid, new->id) == 0) {
		(*skipped)++;
		return strdup(sealed);
	}
	plain = open_from_bytea(old, aad, sealed);
	if (plain == NULL) {
		fprintf(stderr, "imagereg: registry %s: %s is sealed under key %s, not the current key %s\n",
			id, aad, kid, old->id);
		return NULL;
	}
	out = seal_to_bytea(new, aad, plain, strlen(plain));
	secret_free(plain);
	return out;
}

static int cmd_key(PGconn *conn, const struct config *cfg, int argc, char **argv)
{
	struct seal_key old, new;
	PGresult *res = NULL;
	int rc = 1, count = 0, skipped = 0;

	if (argc != 2 || strcmp(argv[0], "rotate") != 0) {
		usage(stderr);
		return 2;
	}
	if (load_key(cfg->key_file, &old) < 0)
		return 1;
	if (load_key(argv[1], &new) < 0)
		goto wipe;
	/* One transaction: every row moves to the new key, or none does. */
	const char *actor[] = { "cli:key-rotate" };
	if (admin_do(conn, ADM_BEGIN, NULL) < 0 || admin_do(conn, ADM_SET_ACTOR, actor) < 0 ||
	    admin_do(conn, ADM_LOCK_REGISTRY_WRITERS, NULL) < 0)
		goto rollback;
	res = admin_run(conn, ADM_SEALED_FOR_UPDATE, NULL);
	if (res == NULL)
		goto rollback;
	for (int i = 0; i < PQntuples(res); i++) {
		const char *id = PQgetvalue(res, i, SEALED_ID);
		char *values[2] = { NULL, NULL };
		static const int cols[2] = { SEALED_ACCESS_KEY, SEALED_SECRET_KEY };
		static const char *const aads[2] = { "access_key", "secret_key" };
		int bad = 0;

		for (int c = 0; c < 2; c++) {
			if (PQgetisnull(res, i, cols[c]))
				continue;
			values[c] = reseal(&old, &new, PQgetvalue(res, i, cols[c]), aads[c], id, &skipped);
			bad |= values[c] == NULL;
			count += values[c] != NULL;
		}
		const char *p[] = { id, values[0], values[1] };
		if (!bad)
			bad = admin_do(conn, ADM_RESEAL, p) < 0;
		free(values[0]);
		free(values[1]);
		if (bad)
			goto rollback;
	}
	if (admin_do(conn, ADM_COMMIT, NULL) < 0)
		goto rollback;
	printf("re-sealed %d credential(s) under key %s (%d already were)\n", count - skipped, new.id, skipped);
	printf("now point IMAGEREG_KEY_FILE at %s and reload the responders (SIGHUP)\n", argv[1]);
	rc = 0;
	goto wipe;
rollback:
	admin_do(conn, ADM_ROLLBACK, NULL);
	fprintf(stderr, "imagereg: nothing changed\n");
wipe:
	PQclear(res);
	seal_key_clear(&old);
	seal_key_clear(&new);
	return rc;
}

static int cmd_credentials(PGconn *conn, const struct config *cfg, int argc, char **argv)
{
	return show_credentials(conn, cfg, argc, argv);
}

/*
 * NOTIFY with a payload that names no table: every worker listening, on every
 * host, forgets its list and token verdicts; main() then bumps this host's
 * counters, so the workers here forget before their next request.
 */
static int cmd_cache(PGconn *conn, const struct config *cfg, int argc, char **argv)
{
	(void)cfg;
	(void)argv;
	if (argc != 1 || strcmp(argv[0], "flush") != 0) {
		usage(stderr);
		return 2;
	}
	if (admin_do(conn, ADM_CACHE_FLUSH, NULL) < 0)
		return 1;
	printf("cache flush sent to every responder\n");
	return 0;
}

/*
 * One line per command: its word, what runs it (arguments after the word)
 * and which responder caches what it changes makes stale.
 */
static const struct command {
	const char *name;
	int (*run)(PGconn *conn, const struct config *cfg, int argc, char **argv);
	unsigned stales;                /* 1 << GEN_REGISTRY | 1 << GEN_TOKENS */
} commands[] = {
	{ "migrate", cmd_migrate, 1 << GEN_REGISTRY | 1 << GEN_TOKENS },
	{ "token", cmd_token, 1 << GEN_TOKENS },
	{ "credentials", cmd_credentials, 0 },
	{ "docker-config", cmd_docker_config, 0 },
	{ "tls-cert", cmd_tls_cert, 0 },
	{ "key", cmd_key, 1 << GEN_REGISTRY },
	{ "check", cmd_check, 0 },
	{ "cache", cmd_cache, 1 << GEN_REGISTRY | 1 << GEN_TOKENS },
};

/*
 * Tells the responders on this host, through their shared counters, that a
 * command changed what they cache: a revoked token then fails on the very
 * next request.  Elsewhere (no counter file here) their LISTEN hears it a
 * moment later.
 */
static void tell_responders(const struct config *cfg, unsigned stales)
{
	char err[512];
	struct generation *gen;

	if (stales == 0)
		return;
	gen = generation_open(cfg->generation_file, 0, err, sizeof err);
	if (gen == NULL) {
		/* No file: no responder on this host.  A file we may not open: say so. */
		if (cfg->generation_file[0] != '\0' && access(cfg->generation_file, F_OK) == 0)
			fprintf(stderr, "imagereg: warning: %s: the responders here learn of this through"
				" PostgreSQL's NOTIFY, a moment later (run as their user or root)\n", err);
		return;
	}
	for (int k = 0; k < GEN__MAX; k++)
		if (stales & 1u << k)
			generation_bump(gen, k);
	generation_close(gen);
}

int main(int argc, char **argv)
{
	const struct command *cmd = NULL;
	struct config cfg;
	PGconn *conn;
	int rc;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0)) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; argc >= 2 && i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			cmd = &commands[i];
	if (cmd == NULL) {
		usage(stderr);
		return 2;
	}
	if (config_load_admin(&cfg) < 0)
		return 2;
	conn = connect_db(&cfg);
	if (conn == NULL) {
		config_free(&cfg);
		return 1;
	}
	rc = cmd->run(conn, &cfg, argc - 2, argv + 2);
	PQfinish(conn);
	tell_responders(&cfg, cmd->stales);
	config_free(&cfg);
	return rc;
}
