/* migrate.h - applying the numbered SQL files of sql/ in order, once each. */
#ifndef IMAGEREG_MIGRATE_H
#define IMAGEREG_MIGRATE_H

#include <libpq-fe.h>

/*
 * Applies every sql/NNN_name.sql in dir not yet recorded in schema_migration,
 * each in its own transaction together with its record.  Prints what it did.
 * Returns 0, or -1 after printing the failing file and PostgreSQL's error.
 */
int migrate(PGconn *conn, const char *dir);

#endif
