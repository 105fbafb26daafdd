/* migrate.h - applying sql/: numbered migrations once each, then the function files. */
#ifndef IMAGEREG_MIGRATE_H
#define IMAGEREG_MIGRATE_H

#include <libpq-fe.h>

/*
 * Applies every sql/NNN_name.sql in dir not yet recorded in schema_migration,
 * each in its own transaction together with its record, then every
 * dir/functions/NN_name.sql in one transaction (CREATE OR REPLACE: on every
 * run, so the database has the functions the files say).  Prints what it did.
 * Returns 0, or -1 after printing the failing file and PostgreSQL's error.
 */
int migrate(PGconn *conn, const char *dir);

#endif
