/* admin_sql.c - parameterized statements for the CLI and the migrator. */
#include "admin_sql.h"

#include <stdio.h>

PGresult *admin_query(PGconn *conn, const char *sql, int n, const char *const *params)
{
	PGresult *res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(res);

	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return res;
	fprintf(stderr, "imagereg: %s", PQerrorMessage(conn));
	PQclear(res);
	return NULL;
}

int admin_command(PGconn *conn, const char *sql, int n, const char *const *params)
{
	PGresult *res = admin_query(conn, sql, n, params);

	PQclear(res);
	return res ? 0 : -1;
}
