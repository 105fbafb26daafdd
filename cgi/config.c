/* config.c - the settings table: one line per setting, its file key, variable, default and help. */
#include "config.h"
#include "log.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* SETTING_MODE: a file mode in octal (0660), min and max bounding it like an int. */
enum setting_type { SETTING_STRING, SETTING_INT, SETTING_ENUM, SETTING_MODE };

static const struct setting {
	const char *key;
	const char *env;
	enum setting_type type;
	size_t offset;
	const char *def;
	int min, max;           /* SETTING_INT, SETTING_MODE */
	const char *choices;    /* SETTING_ENUM: space-separated */
	const char *help;
} settings[] = {
	{ "dsn", "IMAGEREG_DSN", SETTING_STRING, offsetof(struct config, dsn), "", 0, 0, NULL,
	  "libpq connection string of the responder; empty uses libpq's PG* environment" },
	{ "admin_dsn", "IMAGEREG_ADMIN_DSN", SETTING_STRING, offsetof(struct config, admin_dsn), "", 0, 0, NULL,
	  "libpq connection string of the imagereg CLI; empty uses dsn" },
	{ "key_file", "IMAGEREG_KEY_FILE", SETTING_STRING, offsetof(struct config, key_file), "/etc/imagereg/key", 0, 0, NULL,
	  "32-byte key (raw or 64 hex) sealing registry credentials; mode 0600" },
	{ "listen", "IMAGEREG_LISTEN", SETTING_STRING, offsetof(struct config, listen), "", 0, 0, NULL,
	  "unix:PATH or HOST:PORT to listen on (same as --listen); empty: fd 3 from systemd or fd 0" },
	{ "workers", "IMAGEREG_WORKERS", SETTING_INT, offsetof(struct config, workers), "8", 1, 256, NULL,
	  "worker processes" },
	{ "max_body", "IMAGEREG_MAX_BODY", SETTING_INT, offsetof(struct config, max_body), "1048576", 1024, 16777216, NULL,
	  "largest request body in bytes; keep nginx's client_max_body_size the same" },
	{ "statement_timeout", "IMAGEREG_STATEMENT_TIMEOUT", SETTING_INT, offsetof(struct config, statement_timeout_ms), "5000", 1, 600000, NULL,
	  "PostgreSQL statement_timeout of every query, in milliseconds" },
	{ "lock_timeout", "IMAGEREG_LOCK_TIMEOUT", SETTING_INT, offsetof(struct config, lock_timeout_ms), "1000", 1, 600000, NULL,
	  "longest wait of a write for the registry write lock (PostgreSQL lock_timeout of the write functions), in milliseconds; then 503" },
	{ "cache_max_age", "IMAGEREG_CACHE_MAX_AGE", SETTING_INT, offsetof(struct config, cache_max_age_s), "30", 1, 3600, NULL,
	  "seconds a worker answers from its cache before checking with PostgreSQL again, even without a change notification" },
	{ "connect_timeout", "IMAGEREG_CONNECT_TIMEOUT", SETTING_INT, offsetof(struct config, connect_timeout_s), "3", 1, 60, NULL,
	  "seconds to wait for a PostgreSQL connection (libpq connect_timeout)" },
	{ "log_level", "IMAGEREG_LOG_LEVEL", SETTING_ENUM, offsetof(struct config, log_level), "info", 0, 0, "debug info warn error",
	  "lowest level logged: debug, info, warn or error" },
	{ "auth", "IMAGEREG_AUTH", SETTING_ENUM, offsetof(struct config, auth), "on", 0, 0, "on off",
	  "on: every request needs a bearer token; off: only behind nginx auth_request" },
	{ "cors_origins", "IMAGEREG_CORS_ORIGINS", SETTING_STRING, offsetof(struct config, cors_origins), "", 0, 0, NULL,
	  "origins (scheme://host[:port], space-separated) whose browser consoles may call the API; empty: CORS off" },
	{ "check_timeout", "IMAGEREG_CHECK_TIMEOUT", SETTING_INT, offsetof(struct config, check_timeout_ms), "5000", 100, 25000, NULL,
	  "time limit of a registry check (every request of it), in milliseconds; below nginx's fastcgi_read_timeout" },
	{ "check_allow_networks", "IMAGEREG_CHECK_ALLOW_NETWORKS", SETTING_STRING, offsetof(struct config, check_allow_networks), "", 0, 0, NULL,
	  "networks (CIDR, blank-separated) a registry check may reach although they are loopback or link-local; empty: none" },
	{ "user", "IMAGEREG_USER", SETTING_STRING, offsetof(struct config, user), "", 0, 0, NULL,
	  "account the workers run as when started as root (required then); empty: stay who we are" },
	{ "socket_owner", "IMAGEREG_SOCKET_OWNER", SETTING_STRING, offsetof(struct config, socket_owner), "", 0, 0, NULL,
	  "owner given to the unix socket of listen (as root only); empty: unchanged" },
	{ "socket_group", "IMAGEREG_SOCKET_GROUP", SETTING_STRING, offsetof(struct config, socket_group), "", 0, 0, NULL,
	  "group given to the unix socket of listen; empty: unchanged" },
	{ "socket_mode", "IMAGEREG_SOCKET_MODE", SETTING_MODE, offsetof(struct config, socket_mode), "0660", 0, 0777, NULL,
	  "mode of the unix socket of listen, in octal" },
	{ "log_file", "IMAGEREG_LOG_FILE", SETTING_STRING, offsetof(struct config, log_file), "", 0, 0, NULL,
	  "where log lines go: empty for stderr, an absolute path (reopened on SIGHUP and SIGUSR1), or syslog" },
	{ "check_concurrency", "IMAGEREG_CHECK_CONCURRENCY", SETTING_INT, offsetof(struct config, check_concurrency), "0", 0, 256, NULL,
	  "outbound registry operations (checks, browsing) at once on this host, workers and CLI together; 0: a quarter of the workers, at least 1" },
	{ "coherence", "IMAGEREG_COHERENCE", SETTING_ENUM, offsetof(struct config, coherence), "host", 0, 0, "host cluster",
	  "host: reads exact for writes through this host and NOTIFY for the rest; cluster: every read first confirms with PostgreSQL that it saw every earlier commit (exact across hosts)" },
	{ "generation_file", "IMAGEREG_GENERATION_FILE", SETTING_STRING, offsetof(struct config, generation_file), "/run/imagereg/generation", 0, 0, NULL,
	  "file of change counters shared by the workers and the CLI on this host, also holding the check_concurrency slots; empty or unusable: no cache between requests, and no registry checks" },
};

#define NSETTINGS (sizeof settings / sizeof settings[0])

/* 1 when word is one of the space-separated choices. */
static int one_of(const char *choices, const char *word)
{
	size_t n = strlen(word);

	for (const char *c = choices; *c; c += strcspn(c, " "), c += *c == ' ')
		if (strncmp(c, word, n) == 0 && (c[n] == ' ' || c[n] == '\0') && n > 0)
			return 1;
	return 0;
}

/* Stores value in the setting; on error writes the reason to why. */
static int set_one(struct config *cfg, const struct setting *s, const char *value,
		   char *why, size_t whysize)
{
	char *slot = (char *)cfg + s->offset;

	if (s->type == SETTING_ENUM && !one_of(s->choices, value)) {
		snprintf(why, whysize, "must be one of: %s", s->choices);
		return -1;
	}
	if (s->type != SETTING_INT && s->type != SETTING_MODE) {
		*(const char **)slot = value;
		return 0;
	}
	char *end;
	long n;
	int base = s->type == SETTING_MODE ? 8 : 10;

	errno = 0;
	n = strtol(value, &end, base);
	if (errno != 0 || end == value || *end != '\0' || n < s->min || n > s->max) {
		if (base == 8)
			snprintf(why, whysize, "must be an octal mode from %o to %04o", (unsigned)s->min, (unsigned)s->max);
		else
			snprintf(why, whysize, "must be a whole number from %d to %d", s->min, s->max);
		return -1;
	}
	*(int *)slot = (int)n;
	return 0;
}

static const struct setting *find_key(const char *key)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (strcmp(settings[i].key, key) == 0)
			return &settings[i];
	return NULL;
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		*--end = '\0';
	return s;
}

/*
 * Reads "key = value" lines; # starts a comment line.  Values are kept in
 * cfg->storage (the whole file, edited in place).  -1 after printing
 * FILE:LINE: problem.
 */
static int read_file(struct config *cfg, const char *path, int must_exist)
{
	FILE *f = fopen(path, "r");
	long size;
	char why[128];

	if (f == NULL) {
		if (!must_exist && errno == ENOENT)
			return 0;
		fprintf(stderr, "%s: cannot open: %s\n", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || size > 1024 * 1024 ||
	    fseek(f, 0, SEEK_SET) != 0 || (cfg->storage = malloc((size_t)size + 1)) == NULL ||
	    fread(cfg->storage, 1, (size_t)size, f) != (size_t)size) {
		fprintf(stderr, "%s: cannot read\n", path);
		fclose(f);
		return -1;
	}
	fclose(f);
	cfg->storage[size] = '\0';
	char *line = cfg->storage;
	for (int lineno = 1; line != NULL; lineno++) {
		char *next = strchr(line, '\n'), *key, *eq, *value;
		const struct setting *s;

		if (next != NULL)
			*next++ = '\0';
		key = trim(line);
		line = next;
		if (*key == '\0' || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (eq == NULL) {
			fprintf(stderr, "%s:%d: expected key = value\n", path, lineno);
			return -1;
		}
		*eq = '\0';
		key = trim(key);
		value = trim(eq + 1);
		s = find_key(key);
		if (s == NULL) {
			fprintf(stderr, "%s:%d: unknown key \"%s\"\n", path, lineno, key);
			return -1;
		}
		if (set_one(cfg, s, value, why, sizeof why) < 0) {
			fprintf(stderr, "%s:%d: %s %s\n", path, lineno, key, why);
			return -1;
		}
	}
	return 0;
}

/* 1 when the connection string s carries a password (keyword or URI user:password@). */
static int has_password(const char *s)
{
	const char *scheme = strstr(s, "://"), *at;

	if (strstr(s, "password") != NULL)
		return 1;
	if (scheme == NULL || (at = strchr(scheme + 3, '@')) == NULL)
		return 0;
	return memchr(scheme + 3, ':', (size_t)(at - (scheme + 3))) != NULL;
}

/*
 * A file holding a password must not be readable by everyone, and the
 * administrator's must be readable by its owner only (who may be a member of
 * the responder's group).  -1 after printing the problem and the fix.
 */
static int check_secret_modes(const struct config *cfg, const char *path, int admin)
{
	struct stat st;
	mode_t forbidden = admin ? 0077 : 0007;

	if (!has_password(cfg->dsn) && !has_password(cfg->admin_dsn))
		return 0;
	if (stat(path, &st) != 0 || (st.st_mode & forbidden) == 0)
		return 0;
	if (admin)
		fprintf(stderr, "%s: holds a password and is readable by others (mode %04o):"
			" chmod 0600 %s (owner the administrator)\n", path, (unsigned)(st.st_mode & 07777), path);
	else
		fprintf(stderr, "%s: holds a password and is readable by everyone (mode %04o):"
			" chmod 0640 %s; chown root:imagereg %s\n", path, (unsigned)(st.st_mode & 07777), path, path);
	return -1;
}

/* Defaults, the file at path (absent is fine unless must_exist), the environment. */
static int load_from(struct config *cfg, const char *path, int must_exist, int admin)
{
	char why[128];

	memset(cfg, 0, sizeof *cfg);
	for (size_t i = 0; i < NSETTINGS; i++)
		if (set_one(cfg, &settings[i], settings[i].def, why, sizeof why) < 0)
			return -1;      /* a bad default: a bug caught by any test */
	if (read_file(cfg, path, must_exist) < 0 || check_secret_modes(cfg, path, admin) < 0)
		goto fail;
	for (size_t i = 0; i < NSETTINGS; i++) {
		const char *env = getenv(settings[i].env);

		if (env != NULL && set_one(cfg, &settings[i], env, why, sizeof why) < 0) {
			fprintf(stderr, "imagereg: %s %s\n", settings[i].env, why);
			goto fail;
		}
	}
	if (regcheck_nets_parse(cfg->check_allow_networks, cfg->allow, REGCHECK_MAX_NETS, &cfg->nallow,
				why, sizeof why) < 0) {
		fprintf(stderr, "imagereg: check_allow_networks (IMAGEREG_CHECK_ALLOW_NETWORKS): %s\n", why);
		goto fail;
	}
	cfg->auth_required = strcmp(cfg->auth, "on") == 0;
	log_set_level((enum log_level)log_level_parse(cfg->log_level));
	return 0;
fail:
	config_free(cfg);
	return -1;
}

int config_load(struct config *cfg, const char *path)
{
	if (path == NULL)
		path = getenv("IMAGEREG_CONFIG");
	if (path == NULL || *path == '\0')
		return load_from(cfg, CONFIG_DEFAULT_PATH, 0, 0);
	return load_from(cfg, path, 1, 0);
}

int config_load_admin(struct config *cfg)
{
	const char *path = getenv("IMAGEREG_ADMIN_CONFIG");

	if (path == NULL || *path == '\0')
		return load_from(cfg, CONFIG_ADMIN_PATH, 0, 1);
	return load_from(cfg, path, 1, 1);
}

void config_free(struct config *cfg)
{
	free(cfg->storage);
	cfg->storage = NULL;
}

void config_usage(void)
{
	fprintf(stderr, "Settings (config file key, environment variable, default):\n");
	for (size_t i = 0; i < NSETTINGS; i++)
		fprintf(stderr, "  %-18s %-28s \"%s\"\n      %s\n", settings[i].key, settings[i].env,
			settings[i].def, settings[i].help);
}
