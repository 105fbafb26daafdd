/* cli_check.h - `imagereg check [ID]`, the registry check of cgi/regcheck.c from the command line. */
#ifndef IMAGEREG_CLI_CHECK_H
#define IMAGEREG_CLI_CHECK_H

#include <libpq-fe.h>

struct config;

/*
 * Checks the stored registry argv[0], or every registry (oldest first) when
 * argc is 0, with the stored address, TLS settings and credentials and the
 * settings check_timeout and check_allow_networks.  Prints one JSON result
 * per line (the API's shape, with registry_id).  Returns 0 when no check
 * failed (ecr, which cannot be checked, is not a failure), 1 when one did or
 * the registry does not exist, 2 on a usage error.
 */
int cmd_check(PGconn *conn, const struct config *cfg, int argc, char **argv);

#endif
