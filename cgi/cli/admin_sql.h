/* admin_sql.h - the admin CLI's statements: run with parameters, report failures. */
#ifndef IMAGEREG_ADMIN_SQL_H
#define IMAGEREG_ADMIN_SQL_H

#include <libpq-fe.h>

/*
 * Runs sql with text parameters.  Returns the result (caller PQclears) when
 * it succeeded, else prints PostgreSQL's error to stderr and returns NULL.
 */
PGresult *admin_query(PGconn *conn, const char *sql, int n, const char *const *params);

/* admin_query for statements whose rows do not matter: 0 or -1. */
int admin_command(PGconn *conn, const char *sql, int n, const char *const *params);

#endif
