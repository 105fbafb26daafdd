/*
 * main.c - imagereg-fcgi: picks how it was started and serves.
 *   --listen SPEC   open the socket itself and prefork --workers N workers;
 *   fd 0 a socket   spawn-fcgi or systemd (StandardInput=socket) gave it one;
 *   otherwise       plain CGI, one request from the environment and stdin.
 */
#include "config.h"
#include "crypto.h"
#include "log.h"
#include "supervisor.h"
#include "worker.h"

#include <fcgiapp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The key every worker seals with; replaced on SIGHUP. */
static struct seal_key key;

/*
 * Settings and key into *opts.  Used at start and on SIGHUP; on failure
 * nothing changes (the reason is logged).
 */
static int load(struct serve_options *opts, struct config *cfg)
{
	struct seal_key fresh;
	char err[512];

	if (config_load(cfg) < 0)
		return -1;
	/* Refuse to serve rather than store a credential we could not seal. */
	if (seal_key_load(cfg->key_file, &fresh, err, sizeof err) < 0) {
		log_error("%s (IMAGEREG_KEY_FILE)", err);
		return -1;
	}
	key = fresh;
	seal_key_clear(&fresh);
	opts->db.dsn = cfg->dsn;
	opts->db.connect_timeout_s = cfg->connect_timeout_s;
	opts->db.statement_timeout_ms = cfg->statement_timeout_ms;
	opts->key = &key;
	opts->auth = strcmp(cfg->auth, "on") == 0;
	if (!opts->auth)
		log_warn("authentication is OFF (IMAGEREG_AUTH=off): every client may read and write;"
			 " only run this way behind nginx auth_request");
	return 0;
}

static int reload(struct serve_options *opts)
{
	struct config cfg;

	return load(opts, &cfg);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: imagereg-fcgi [--listen unix:PATH | HOST:PORT] [--workers N]\n"
		"       (no --listen: serve the socket on fd 0, or one CGI request)\n\n");
	config_usage();
}

/* Opens the listening socket; a stale unix socket file is replaced. */
static int open_listener(const char *spec)
{
	int fd;

	if (strncmp(spec, "unix:", 5) == 0) {
		const char *path = spec + 5;
		struct stat st;

		if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(path);
		fd = FCGX_OpenSocket(path, 1024);
		/* nginx's user must be able to connect: owner and group. */
		if (fd >= 0)
			chmod(path, 0660);
	} else {
		fd = FCGX_OpenSocket(spec, 1024);
	}
	if (fd < 0)
		log_error("cannot listen on %s", spec);
	return fd;
}

int main(int argc, char **argv)
{
	struct config cfg;
	struct serve_options opts;
	const char *listen = NULL;
	int workers = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
			listen = argv[++i];
		} else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc) {
			char *end;
			long n = strtol(argv[++i], &end, 10);

			if (*end != '\0' || n < 1 || n > 256) {
				fprintf(stderr, "imagereg-fcgi: --workers takes 1 to 256\n");
				return 2;
			}
			workers = (int)n;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage();
			return 0;
		} else {
			fprintf(stderr, "imagereg-fcgi: unknown argument %s\n", argv[i]);
			usage();
			return 2;
		}
	}
	if (load(&opts, &cfg) < 0)
		return 1;
	if (listen != NULL)
		cfg.listen = listen;
	/* spawn-fcgi -F N forks for us: one worker on fd 0 unless told otherwise. */
	int workers_given = workers > 0 || getenv("IMAGEREG_WORKERS") != NULL;
	if (workers > 0)
		cfg.workers = workers;

	if (cfg.listen[0] != '\0') {
		int fd = open_listener(cfg.listen);

		if (fd < 0)
			return 1;
		log_info("listening on %s", cfg.listen);
		return supervise(fd, cfg.workers, &opts, reload);
	}
	if (!FCGX_IsCGI())
		return workers_given ? supervise(0, cfg.workers, &opts, reload)
				     : worker_run_fcgi(0, &opts);
	if (getenv("GATEWAY_INTERFACE") != NULL)
		return worker_run_cgi(&opts);
	usage();
	return 2;
}
