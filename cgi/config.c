/* config.c - the settings table: one line per setting, defaults and help. */
#include "config.h"
#include "log.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum setting_type { SETTING_STRING, SETTING_INT };

static const struct setting {
	const char *env;
	enum setting_type type;
	size_t offset;
	const char *def;
	int min, max;
	const char *help;
} settings[] = {
	{ "IMAGEREG_DSN", SETTING_STRING, offsetof(struct config, dsn), "", 0, 0,
	  "libpq connection string; empty uses libpq's PG* environment" },
	{ "IMAGEREG_LISTEN", SETTING_STRING, offsetof(struct config, listen), "", 0, 0,
	  "unix:PATH or HOST:PORT to listen on (same as --listen)" },
	{ "IMAGEREG_WORKERS", SETTING_INT, offsetof(struct config, workers), "8", 1, 256,
	  "worker processes when listening" },
	{ "IMAGEREG_STATEMENT_TIMEOUT_MS", SETTING_INT, offsetof(struct config, statement_timeout_ms), "5000", 1, 600000,
	  "PostgreSQL statement_timeout for every query, in milliseconds" },
	{ "IMAGEREG_CONNECT_TIMEOUT", SETTING_INT, offsetof(struct config, connect_timeout_s), "3", 1, 60,
	  "seconds to wait for a PostgreSQL connection (libpq connect_timeout)" },
	{ "IMAGEREG_LOG_LEVEL", SETTING_STRING, offsetof(struct config, log_level), "info", 0, 0,
	  "debug, info, warn or error" },
	{ "IMAGEREG_KEY_FILE", SETTING_STRING, offsetof(struct config, key_file), "/etc/imagereg/key", 0, 0,
	  "32-byte key (raw or 64 hex) sealing registry credentials; mode 0600" },
	{ "IMAGEREG_AUTH", SETTING_STRING, offsetof(struct config, auth), "on", 0, 0,
	  "on: every request needs a bearer token; off: only behind nginx auth_request" },
	{ "IMAGEREG_ADMIN_DSN", SETTING_STRING, offsetof(struct config, admin_dsn), "", 0, 0,
	  "libpq connection string for the imagereg CLI (token, key, credentials); empty: IMAGEREG_DSN" },
};

static int set_one(struct config *cfg, const struct setting *s, const char *value)
{
	char *slot = (char *)cfg + s->offset;

	if (s->type == SETTING_STRING) {
		*(const char **)slot = value;
		return 0;
	}
	char *end;
	long n;

	errno = 0;
	n = strtol(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || n < s->min || n > s->max) {
		fprintf(stderr, "imagereg: %s must be a whole number from %d to %d\n",
			s->env, s->min, s->max);
		return -1;
	}
	*(int *)slot = (int)n;
	return 0;
}

int config_load(struct config *cfg)
{
	for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
		const char *env = getenv(settings[i].env);

		if (set_one(cfg, &settings[i], settings[i].def) < 0)
			return -1;
		if (env != NULL && set_one(cfg, &settings[i], env) < 0)
			return -1;
	}
	if (log_level_parse(cfg->log_level) < 0) {
		fprintf(stderr, "imagereg: IMAGEREG_LOG_LEVEL must be debug, info, warn or error\n");
		return -1;
	}
	log_set_level((enum log_level)log_level_parse(cfg->log_level));
	if (strcmp(cfg->auth, "on") != 0 && strcmp(cfg->auth, "off") != 0) {
		fprintf(stderr, "imagereg: IMAGEREG_AUTH must be on or off\n");
		return -1;
	}
	return 0;
}

void config_usage(void)
{
	fprintf(stderr, "Environment:\n");
	for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
		fprintf(stderr, "  %-30s %s (default \"%s\")\n", settings[i].env,
			settings[i].help, settings[i].def);
}
