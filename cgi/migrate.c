/* migrate.c - numbered migrations, applied once, recorded in schema_migration. */
#include "migrate.h"
#include "admin_sql.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Any fixed number; only migrators take it, so two never run at once. */
#define MIGRATE_LOCK_KEY "7223900271"

static int is_migration(const char *name)
{
	size_t len = strlen(name);

	return len > 8 && name[0] >= '0' && name[0] <= '9' && name[1] >= '0' &&
	       name[1] <= '9' && name[2] >= '0' && name[2] <= '9' && name[3] == '_' &&
	       strcmp(name + len - 4, ".sql") == 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads a whole file; caller frees.  NULL on error. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	long len;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)len + 1)) != NULL) {
		if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
			free(buf);
			buf = NULL;
		} else {
			buf[len] = '\0';
		}
	}
	fclose(f);
	return buf;
}

/* Runs a one-row boolean query: 1, 0, or -1 on error. */
static int query_bool(PGconn *conn, const char *sql, int nparams, const char *const *params)
{
	PGresult *res = admin_query(conn, sql, nparams, params);
	int r = res != NULL && PQntuples(res) == 1 ? PQgetvalue(res, 0, 0)[0] == 't' : -1;

	PQclear(res);
	return r;
}

/* 1 when version is recorded, 0 when not, -1 on error. */
static int applied(PGconn *conn, const char *version)
{
	const char *p[] = { version };
	/* Before the first migration there is no table to look in. */
	int exists = query_bool(conn, "SELECT to_regclass('schema_migration') IS NOT NULL", 0, NULL);

	if (exists <= 0)
		return exists;
	return query_bool(conn, "SELECT EXISTS (SELECT 1 FROM schema_migration WHERE version = $1)", 1, p);
}

/*
 * The file runs through PQexec: it holds many statements and DDL, which
 * cannot be parameters.  It is the installer's own file, never user input.
 */
static int apply(PGconn *conn, const char *dir, const char *name)
{
	char path[4096], version[256];
	char *sql;
	PGresult *res;
	int rc = -1;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	snprintf(version, sizeof version, "%.*s", (int)(strlen(name) - 4), name);
	sql = slurp(path);
	if (sql == NULL) {
		fprintf(stderr, "imagereg: cannot read %s\n", path);
		return -1;
	}
	if (admin_command(conn, "BEGIN", 0, NULL) < 0)
		goto out;
	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(stderr, "imagereg: %s failed: %s", name, PQerrorMessage(conn));
		PQclear(res);
		admin_command(conn, "ROLLBACK", 0, NULL);
		goto out;
	}
	PQclear(res);
	const char *p[] = { version };
	if (admin_command(conn, "INSERT INTO schema_migration (version) VALUES ($1)", 1, p) < 0 ||
	    admin_command(conn, "COMMIT", 0, NULL) < 0) {
		admin_command(conn, "ROLLBACK", 0, NULL);
		goto out;
	}
	printf("applied %s\n", version);
	rc = 0;
out:
	free(sql);
	return rc;
}

int migrate(PGconn *conn, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, done = 0;
	int rc = -1;

	if (d == NULL) {
		fprintf(stderr, "imagereg: cannot open migrations directory %s\n", dir);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		char **grown;

		if (!is_migration(e->d_name))
			continue;
		grown = realloc(names, (n + 1) * sizeof *names);
		if (grown == NULL)
			goto out;
		names = grown;
		if ((names[n] = strdup(e->d_name)) == NULL)
			goto out;
		n++;
	}
	qsort(names, n, sizeof *names, by_name);
	const char *lock[] = { MIGRATE_LOCK_KEY };
	if (admin_command(conn, "SELECT pg_advisory_lock($1::bigint)", 1, lock) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		char version[256];
		int a;

		snprintf(version, sizeof version, "%.*s", (int)(strlen(names[i]) - 4), names[i]);
		a = applied(conn, version);
		if (a < 0 || (a == 0 && apply(conn, dir, names[i]) < 0))
			goto unlock;
		done += a == 0;
	}
	if (done == 0)
		printf("schema is up to date (%zu migrations)\n", n);
	rc = 0;
unlock:
	admin_command(conn, "SELECT pg_advisory_unlock($1::bigint)", 1, lock);
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}
