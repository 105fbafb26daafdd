/*
 * main.c - imagereg-fcgi: picks how it was started and serves.
 *   --listen SPEC   open the socket itself and prefork --workers N workers;
 *   fd 0 a socket   spawn-fcgi or systemd (StandardInput=socket) gave it one;
 *   otherwise       plain CGI, one request from the environment and stdin.
 */
#include "config.h"
#include "crypto.h"
#include "generation.h"
#include "log.h"
#include "regcheck.h"
#include "supervisor.h"
#include "worker.h"

#include <curl/curl.h>
#include <fcgiapp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The key every worker seals with, and the settings it came with; replaced on SIGHUP. */
static struct seal_key key;
static struct config current;
static const char *config_path;         /* --config, or NULL */

/*
 * Settings and key into *opts.  Used at start and on SIGHUP; on failure
 * nothing changes (the reason is logged).
 */
static int load(struct serve_options *opts)
{
	struct seal_key fresh;
	struct config cfg;
	char err[512];

	if (config_load(&cfg, config_path) < 0)
		return -1;
	/* Parsed again by each check; a bad list is refused here, once. */
	struct regcheck_net nets[REGCHECK_MAX_NETS];
	size_t nnets;
	if (regcheck_nets_parse(cfg.check_allow_networks, nets, REGCHECK_MAX_NETS, &nnets, err, sizeof err) < 0) {
		log_error("check_allow_networks (IMAGEREG_CHECK_ALLOW_NETWORKS): %s", err);
		config_free(&cfg);
		return -1;
	}
	/* Refuse to serve rather than store a credential we could not seal. */
	if (seal_key_load(cfg.key_file, &fresh, err, sizeof err) < 0) {
		log_error("%s (key_file, IMAGEREG_KEY_FILE)", err);
		config_free(&cfg);
		return -1;
	}
	key = fresh;
	seal_key_clear(&fresh);
	config_free(&current);
	current = cfg;
	opts->db.dsn = cfg.dsn;
	opts->db.connect_timeout_s = cfg.connect_timeout_s;
	opts->db.statement_timeout_ms = cfg.statement_timeout_ms;
	opts->key = &key;
	opts->auth = strcmp(cfg.auth, "on") == 0;
	opts->max_body = cfg.max_body;
	opts->cors_origins = cfg.cors_origins;
	opts->check_timeout_ms = cfg.check_timeout_ms;
	opts->check_allow_networks = cfg.check_allow_networks;
	opts->check_concurrency = cfg.check_concurrency;
	opts->outbound_file = cfg.generation_file;
	if (!opts->auth)
		log_warn("authentication is OFF (auth = off): every client may read and write;"
			 " only run this way behind nginx auth_request");
	return 0;
}

static int reload(struct serve_options *opts)
{
	return load(opts);
}

/*
 * The listening socket systemd passed (socket activation: LISTEN_PID is us,
 * LISTEN_FDS is 1, the socket is fd 3), or -1.  The variables are removed so
 * that nothing we start takes them for its own.
 */
static int systemd_socket(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	int fd = -1;

	if (pid != NULL && fds != NULL && strtol(pid, NULL, 10) == (long)getpid()) {
		if (strcmp(fds, "1") == 0)
			fd = 3;
		else
			log_error("systemd passed %s sockets; imagereg takes exactly one", fds);
	}
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return fd;
}

/*
 * Maps the change counters every worker on this host shares (before any
 * fork, so all inherit them).  Without them the workers still answer
 * correctly, but every request reads from PostgreSQL.
 */
static void share_counters(struct serve_options *opts)
{
	char err[512];

	opts->gen = generation_open(current.generation_file, 1, err, sizeof err);
	if (opts->gen == NULL)
		log_warn("no cache between requests, every request asks PostgreSQL: %s"
			 " (generation_file, IMAGEREG_GENERATION_FILE)", err);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: imagereg-fcgi [--config FILE] [--listen unix:PATH | HOST:PORT] [--workers N]\n"
		"       imagereg-fcgi [--config FILE] --check-config\n"
		"       (no --listen: the socket systemd passes as fd 3 or spawn-fcgi as fd 0,\n"
		"        else one CGI request)\n\n");
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

/*
 * FastCGI on the socket of spec, else systemd's fd 3, else fd 0 (spawn-fcgi):
 * nworkers preforked workers; on fd 0 only when a count was given
 * (fd0_prefork), else this process alone, as spawn-fcgi -F N forks for us.
 */
static int serve_fcgi(const char *spec, int sd, int nworkers, int fd0_prefork,
		      struct serve_options *opts)
{
	if (spec[0] != '\0') {
		int fd = open_listener(spec);

		if (fd < 0)
			return 1;
		log_info("listening on %s", spec);
		return supervise(fd, nworkers, opts, reload);
	}
	if (sd >= 0) {
		log_info("serving the socket systemd passed (fd 3)");
		return supervise(sd, nworkers, opts, reload);
	}
	return fd0_prefork ? supervise(0, nworkers, opts, reload) : worker_run_fcgi(0, opts);
}

int main(int argc, char **argv)
{
	struct serve_options opts = { .gen = NULL };
	const char *listen = NULL;
	int workers = 0, check_only = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
			listen = argv[++i];
		} else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			config_path = argv[++i];
		} else if (strcmp(argv[i], "--check-config") == 0) {
			check_only = 1;
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
	/* Once, before any fork and any thread: libcurl's and OpenSSL's global state. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		log_error("cannot initialise libcurl");
		return 1;
	}
	if (load(&opts) < 0)
		return 1;
	if (check_only) {
		printf("configuration OK\n");
		return 0;
	}
	const char *spec = listen != NULL ? listen : current.listen;
	int workers_given = workers > 0 || getenv("IMAGEREG_WORKERS") != NULL;
	int nworkers = workers > 0 ? workers : current.workers;
	int sd = systemd_socket();

	opts.workers = nworkers;

	if (spec[0] != '\0' || sd >= 0 || !FCGX_IsCGI()) {
		int status;

		share_counters(&opts);
		status = serve_fcgi(spec, sd, nworkers, workers_given, &opts);
		generation_close(opts.gen);
		return status;
	}
	if (getenv("GATEWAY_INTERFACE") != NULL)
		return worker_run_cgi(&opts);
	usage();
	return 2;
}
