/* cli_docker.h - what a registry client needs from a stored registry: `docker-config` and `tls-cert`. */
#ifndef IMAGEREG_CLI_DOCKER_H
#define IMAGEREG_CLI_DOCKER_H

#include <libpq-fe.h>

struct config;

/*
 * `docker-config [ID] [--output FILE]`: the registry's (the default one
 * without ID) credentials as a Docker config.json, printed or merged into
 * FILE.  Refuses (1) a registry without credentials: "auth": "Og==" logs in
 * as nobody and hides the mistake.  0, 1 on failure, 2 on a usage error.
 */
int cmd_docker_config(PGconn *conn, const struct config *cfg, int argc, char **argv);

/*
 * `tls-cert [ID] [--certs-dir DIR]`: the registry's tls_cert, printed as
 * PEM or written to DIR/<host[:port]>/ca.crt (Docker's certs.d layout).
 * 0, 1 when it has none or on failure, 2 on a usage error.
 */
int cmd_tls_cert(PGconn *conn, const struct config *cfg, int argc, char **argv);

#endif
