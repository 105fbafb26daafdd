/*
 * config.h - settings, declared once in a table: defaults, then the config
 * file (key = value), then IMAGEREG_* environment variables.
 */
#ifndef IMAGEREG_CONFIG_H
#define IMAGEREG_CONFIG_H

#include "regcheck_net.h"

#define CONFIG_DEFAULT_PATH "/etc/imagereg/imagereg.conf"
/* The imagereg CLI's own file: the responder's never holds admin settings. */
#define CONFIG_ADMIN_PATH "/etc/imagereg/admin.conf"

struct config {
	const char *dsn;            /* dsn, IMAGEREG_DSN: libpq conninfo */
	const char *admin_dsn;      /* admin_dsn, IMAGEREG_ADMIN_DSN: what the CLI connects as */
	const char *key_file;       /* key_file, IMAGEREG_KEY_FILE: the at-rest key */
	const char *listen;         /* listen, IMAGEREG_LISTEN: unix:PATH or HOST:PORT */
	int workers;                /* workers, IMAGEREG_WORKERS */
	int max_body;               /* max_body, IMAGEREG_MAX_BODY: bytes */
	int statement_timeout_ms;   /* statement_timeout, IMAGEREG_STATEMENT_TIMEOUT */
	int connect_timeout_s;      /* connect_timeout, IMAGEREG_CONNECT_TIMEOUT */
	int lock_timeout_ms;        /* lock_timeout, IMAGEREG_LOCK_TIMEOUT */
	int cache_max_age_s;        /* cache_max_age, IMAGEREG_CACHE_MAX_AGE */
	const char *log_level;      /* log_level, IMAGEREG_LOG_LEVEL */
	const char *auth;           /* auth, IMAGEREG_AUTH: "on", or "off" behind nginx auth_request */
	const char *cors_origins;   /* cors_origins, IMAGEREG_CORS_ORIGINS: space-separated */
	int check_timeout_ms;       /* check_timeout, IMAGEREG_CHECK_TIMEOUT: registry check, milliseconds */
	const char *check_allow_networks; /* check_allow_networks, IMAGEREG_CHECK_ALLOW_NETWORKS: CIDRs */
	const char *user;           /* user, IMAGEREG_USER: the workers' account when started as root */
	const char *socket_owner;   /* socket_owner, IMAGEREG_SOCKET_OWNER: of listen's unix socket */
	const char *socket_group;   /* socket_group, IMAGEREG_SOCKET_GROUP */
	int socket_mode;            /* socket_mode, IMAGEREG_SOCKET_MODE: octal in the file */
	const char *log_file;       /* log_file, IMAGEREG_LOG_FILE: "", a path or "syslog" */
	int check_concurrency;      /* check_concurrency, IMAGEREG_CHECK_CONCURRENCY: 0 = a quarter of the workers */
	const char *coherence;      /* coherence, IMAGEREG_COHERENCE: "host" or "cluster" */
	const char *generation_file; /* generation_file, IMAGEREG_GENERATION_FILE: shared change counters */

	/* Derived once by config_load from the settings above: no layer parses them again. */
	int auth_required;          /* auth = on */
	struct regcheck_net allow[REGCHECK_MAX_NETS]; /* check_allow_networks, parsed */
	size_t nallow;

	char *storage;              /* owns the strings read from the file */
};

/*
 * Fills *cfg: defaults, then the file (path, else IMAGEREG_CONFIG, else
 * CONFIG_DEFAULT_PATH, which may be absent; a file named explicitly must
 * exist), then the environment.  Returns 0, or -1 after printing
 * "FILE:LINE: problem" or the variable at fault to stderr; a file holding a
 * password that everyone may read is refused the same way.  Free with
 * config_free.
 */
int config_load(struct config *cfg, const char *path);

/*
 * The same for the imagereg CLI, from its own file: IMAGEREG_ADMIN_CONFIG
 * (must exist), else CONFIG_ADMIN_PATH (may be absent), never the
 * responder's file.  A file holding a password that others may read is
 * refused with the chmod that fixes it.
 */
int config_load_admin(struct config *cfg);

void config_free(struct config *cfg);

/* Prints every setting: file key, variable, default and meaning. */
void config_usage(void);

#endif
