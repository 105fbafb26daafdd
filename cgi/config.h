/*
 * config.h - settings, declared once in a table: defaults, then the config
 * file (key = value), then IMAGEREG_* environment variables.
 */
#ifndef IMAGEREG_CONFIG_H
#define IMAGEREG_CONFIG_H

#define CONFIG_DEFAULT_PATH "/etc/imagereg/imagereg.conf"

struct config {
	const char *dsn;            /* dsn, IMAGEREG_DSN: libpq conninfo */
	const char *admin_dsn;      /* admin_dsn, IMAGEREG_ADMIN_DSN: what the CLI connects as */
	const char *key_file;       /* key_file, IMAGEREG_KEY_FILE: the at-rest key */
	const char *listen;         /* listen, IMAGEREG_LISTEN: unix:PATH or HOST:PORT */
	int workers;                /* workers, IMAGEREG_WORKERS */
	int max_body;               /* max_body, IMAGEREG_MAX_BODY: bytes */
	int statement_timeout_ms;   /* statement_timeout, IMAGEREG_STATEMENT_TIMEOUT */
	int connect_timeout_s;      /* connect_timeout, IMAGEREG_CONNECT_TIMEOUT */
	const char *log_level;      /* log_level, IMAGEREG_LOG_LEVEL */
	const char *auth;           /* auth, IMAGEREG_AUTH: "on", or "off" behind nginx auth_request */
	const char *cors_origins;   /* cors_origins, IMAGEREG_CORS_ORIGINS: space-separated */
	int check_timeout_ms;       /* check_timeout, IMAGEREG_CHECK_TIMEOUT: registry check, milliseconds */
	const char *check_allow_networks; /* check_allow_networks, IMAGEREG_CHECK_ALLOW_NETWORKS: CIDRs */
	int check_concurrency;      /* check_concurrency, IMAGEREG_CHECK_CONCURRENCY: 0 = a quarter of the workers */
	const char *generation_file; /* generation_file, IMAGEREG_GENERATION_FILE: shared change counters */
	char *storage;              /* owns the strings read from the file */
};

/*
 * Fills *cfg: defaults, then the file (path, else IMAGEREG_CONFIG, else
 * CONFIG_DEFAULT_PATH, which may be absent; a file named explicitly must
 * exist), then the environment.  Returns 0, or -1 after printing
 * "FILE:LINE: problem" or the variable at fault to stderr.  Free with
 * config_free.
 */
int config_load(struct config *cfg, const char *path);

void config_free(struct config *cfg);

/* Prints every setting: file key, variable, default and meaning. */
void config_usage(void);

#endif
