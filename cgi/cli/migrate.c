/*
 * migrate.c - numbered migrations, applied once and recorded in schema_migration,
 * then every file of sql/functions/ (the one current text of each function,
 * trigger and view), applied again on every run.
 */
#include "migrate.h"
#include "admin_sql.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 1 when name is `digits`_*.sql with exactly that many leading digits. */
static int is_sql_file(const char *name, size_t digits)
{
	size_t len = strlen(name);

	if (len < digits + 6 || name[digits] != '_' || strcmp(name + len - 4, ".sql") != 0)
		return 0;
	for (size_t i = 0; i < digits; i++)
		if (name[i] < '0' || name[i] > '9')
			return 0;
	return 1;
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

/* 1 when version is recorded, 0 when not, -1 on error. */
static int applied(PGconn *conn, const char *version)
{
	const char *p[] = { version };
	int exists = admin_bool(conn, ADM_MIGRATE_HAS_TABLE, NULL);

	if (exists <= 0)
		return exists;
	return admin_bool(conn, ADM_MIGRATE_APPLIED, p);
}

/*
 * Runs one file inside the caller's transaction.  The file runs through
 * PQexec: it holds many statements and DDL, which cannot be parameters.  It is
 * the installer's own file, never user input.  A file of comments only is an
 * empty query, and fine.
 */
static int run_file(PGconn *conn, const char *dir, const char *name)
{
	char path[4096];
	char *sql;
	PGresult *res;
	ExecStatusType st;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	sql = slurp(path);
	if (sql == NULL) {
		fprintf(stderr, "imagereg: cannot read %s\n", path);
		return -1;
	}
	res = PQexec(conn, sql);
	st = PQresultStatus(res);
	free(sql);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
		fprintf(stderr, "imagereg: %s failed: %s", name, PQerrorMessage(conn));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	return 0;
}

/*
 * Opens a transaction whose search_path is "<schema>, pg_temp": objects are
 * created in the schema the session would use, and every function's
 * SET search_path FROM CURRENT freezes that path, with pg_catalog (implicitly)
 * first and the caller's temporary tables last, where they never shadow ours.
 */
static int begin(PGconn *conn)
{
	if (admin_do(conn, ADM_BEGIN, NULL) < 0)
		return -1;
	if (admin_do(conn, ADM_MIGRATE_SEARCH_PATH, NULL) < 0) {
		admin_do(conn, ADM_ROLLBACK, NULL);
		return -1;
	}
	return 0;
}

static int commit(PGconn *conn)
{
	if (admin_do(conn, ADM_COMMIT, NULL) < 0) {
		admin_do(conn, ADM_ROLLBACK, NULL);
		return -1;
	}
	return 0;
}

/* A numbered migration and its schema_migration record, in one transaction. */
static int apply(PGconn *conn, const char *dir, const char *name)
{
	char version[256];
	const char *p[] = { version };

	snprintf(version, sizeof version, "%.*s", (int)(strlen(name) - 4), name);
	if (begin(conn) < 0)
		return -1;
	if (run_file(conn, dir, name) < 0 ||
	    admin_do(conn, ADM_MIGRATE_RECORD, p) < 0) {
		admin_do(conn, ADM_ROLLBACK, NULL);
		return -1;
	}
	if (commit(conn) < 0)
		return -1;
	printf("applied %s\n", version);
	return 0;
}

struct file_list {
	char **names;
	size_t n;
};

static void file_list_free(struct file_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->names[i]);
	free(l->names);
	l->names = NULL;
	l->n = 0;
}

/* The `digits`_*.sql files of dir in name order, into l (free with file_list_free).  0 or -1. */
static int file_list_read(struct file_list *l, const char *dir, size_t digits)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	l->names = NULL;
	l->n = 0;
	if (d == NULL) {
		fprintf(stderr, "imagereg: cannot open %s\n", dir);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		char **grown;

		if (!is_sql_file(e->d_name, digits))
			continue;
		grown = realloc(l->names, (l->n + 1) * sizeof *l->names);
		if (grown == NULL || (grown[l->n] = strdup(e->d_name)) == NULL) {
			if (grown != NULL)
				l->names = grown;
			closedir(d);
			file_list_free(l);
			return -1;
		}
		l->names = grown;
		l->n++;
	}
	closedir(d);
	qsort(l->names, l->n, sizeof *l->names, by_name);
	return 0;
}

/* Every file of dir/functions, in one transaction: all of them or none. */
static int apply_functions(PGconn *conn, const char *dir)
{
	char fdir[4096];
	struct file_list l;
	int rc = -1;

	snprintf(fdir, sizeof fdir, "%s/functions", dir);
	if (file_list_read(&l, fdir, 2) < 0)
		return -1;
	if (l.n == 0) {
		fprintf(stderr, "imagereg: no function files in %s\n", fdir);
		goto out;
	}
	if (begin(conn) < 0)
		goto out;
	for (size_t i = 0; i < l.n; i++)
		if (run_file(conn, fdir, l.names[i]) < 0) {
			admin_do(conn, ADM_ROLLBACK, NULL);
			goto out;
		}
	if (commit(conn) < 0)
		goto out;
	printf("functions, triggers and views: %zu files applied\n", l.n);
	rc = 0;
out:
	file_list_free(&l);
	return rc;
}

int migrate(PGconn *conn, const char *dir)
{
	struct file_list l;
	size_t done = 0;
	int rc = -1;

	if (file_list_read(&l, dir, 3) < 0)
		return -1;
	if (admin_do(conn, ADM_MIGRATE_LOCK, NULL) < 0)
		goto out;
	for (size_t i = 0; i < l.n; i++) {
		char version[256];
		int a;

		snprintf(version, sizeof version, "%.*s", (int)(strlen(l.names[i]) - 4), l.names[i]);
		a = applied(conn, version);
		if (a < 0 || (a == 0 && apply(conn, dir, l.names[i]) < 0))
			goto unlock;
		done += a == 0;
	}
	if (done == 0)
		printf("schema is up to date (%zu migrations)\n", l.n);
	rc = apply_functions(conn, dir);
unlock:
	admin_do(conn, ADM_MIGRATE_UNLOCK, NULL);
out:
	file_list_free(&l);
	return rc;
}
