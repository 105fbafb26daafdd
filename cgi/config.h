/* config.h - settings, declared once in a table, read from the environment. */
#ifndef IMAGEREG_CONFIG_H
#define IMAGEREG_CONFIG_H

struct config {
	const char *dsn;            /* IMAGEREG_DSN: libpq conninfo */
	const char *listen;         /* IMAGEREG_LISTEN: unix:PATH or HOST:PORT */
	int workers;                /* IMAGEREG_WORKERS */
	int statement_timeout_ms;   /* IMAGEREG_STATEMENT_TIMEOUT_MS */
	int connect_timeout_s;      /* IMAGEREG_CONNECT_TIMEOUT */
	const char *log_level;      /* IMAGEREG_LOG_LEVEL */
	const char *key_file;       /* IMAGEREG_KEY_FILE: the at-rest key */
	const char *auth;           /* IMAGEREG_AUTH: "on", or "off" behind nginx auth_request */
	const char *admin_dsn;      /* IMAGEREG_ADMIN_DSN: what the CLI connects as */
};

/*
 * Fills *cfg with defaults, then the IMAGEREG_* environment.  Returns 0, or
 * -1 after printing which variable is wrong to stderr.  Strings point into
 * the environment or static storage.
 */
int config_load(struct config *cfg);

/* Prints every setting with its variable, default and meaning. */
void config_usage(void);

#endif
