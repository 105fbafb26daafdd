/* cli.c - imagereg, the admin command line: database migrations. */
#include "config.h"
#include "migrate.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef IMAGEREG_SQLDIR
#define IMAGEREG_SQLDIR "/usr/local/share/imagereg/sql"
#endif

static void usage(FILE *out)
{
	fprintf(out,
		"usage: imagereg migrate [--dir SQLDIR]\n"
		"  migrate   apply the numbered files of SQLDIR (default %s,\n"
		"            or IMAGEREG_SQL_DIR) not yet recorded in schema_migration\n"
		"The database is IMAGEREG_DSN, or libpq's PG* environment when unset.\n",
		IMAGEREG_SQLDIR);
}

/* Connects with the same settings as the responder; NULL after a message. */
static PGconn *connect_db(const struct config *cfg)
{
	const char *keys[] = { "application_name", "dbname", NULL };
	const char *vals[] = { "imagereg-cli", cfg->dsn, NULL };
	PGconn *conn;

	if (cfg->dsn[0] == '\0')
		keys[1] = NULL;
	conn = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "imagereg: cannot connect: %s", PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

static int cmd_migrate(const struct config *cfg, int argc, char **argv)
{
	const char *dir = getenv("IMAGEREG_SQL_DIR");
	PGconn *conn;
	int rc;

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
	conn = connect_db(cfg);
	if (conn == NULL)
		return 1;
	rc = migrate(conn, dir) == 0 ? 0 : 1;
	PQfinish(conn);
	return rc;
}

int main(int argc, char **argv)
{
	struct config cfg;

	if (config_load(&cfg) < 0)
		return 2;
	if (argc >= 2 && strcmp(argv[1], "migrate") == 0)
		return cmd_migrate(&cfg, argc - 2, argv + 2);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0)) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
