/*
 * main.c - imagereg-fcgi: picks how it was started and serves.
 *   --listen SPEC   open the socket itself and prefork --workers N workers;
 *   fd 0 a socket   spawn-fcgi or systemd (StandardInput=socket) gave it one;
 *   otherwise       plain CGI, one request from the environment and stdin.
 * Started as root (to bind a socket in /run), it serves only with --user /
 * user = naming the account its workers become.
 */
#include "config.h"
#include "crypto.h"
#include "generation.h"
#include "log.h"
#include "privilege.h"
#include "regcheck.h"
#include "supervisor.h"
#include "worker.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcgiapp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

/* The key every worker seals with, and the settings it came with; replaced on SIGHUP. */
static struct seal_key key;
static struct config current;
static const char *config_path;         /* --config, or NULL */
static struct account worker_account;   /* whom the workers become; see choose_account */

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
	if (log_target_check(cfg.log_file, err, sizeof err) < 0) {
		log_error("%s (log_file, IMAGEREG_LOG_FILE)", err);
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
	/* The workers read every setting through this one pointer (forked after each load). */
	opts->cfg = &current;
	opts->key = &key;
	/* Not from the environment, so from the file: the responder's holds no admin setting. */
	if (current.admin_dsn[0] != '\0' && getenv("IMAGEREG_ADMIN_DSN") == NULL)
		log_warn("admin_dsn is set in the responder's configuration, which the responder and its group"
			 " read; it belongs in %s, mode 0600, readable by the administrator only", CONFIG_ADMIN_PATH);
	if (!current.auth_required)
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
	/*
	 * Made by root for workers that become an account: theirs, and writable
	 * by its group, so that the admin CLI run with that group (README) tells
	 * the workers of a revoked token at once.
	 */
	if (opts->gen != NULL && opts->become != NULL &&
	    (chown(current.generation_file, opts->become->uid, opts->become->gid) != 0 ||
	     chmod(current.generation_file, 0660) != 0))
		log_warn("cannot give %s to user %s: %s", current.generation_file, opts->become->name, strerror(errno));
	if (opts->gen == NULL)
		log_warn("no cache between requests, every request asks PostgreSQL: %s"
			 " (generation_file, IMAGEREG_GENERATION_FILE)", err);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: imagereg-fcgi [--config FILE] [--listen unix:PATH | HOST:PORT] [--workers N] [--user ACCOUNT]\n"
		"       imagereg-fcgi [--config FILE] --check-config\n"
		"       (no --listen: the socket systemd passes as fd 3 or spawn-fcgi as fd 0,\n"
		"        else one CGI request)\n\n");
	config_usage();
}

/*
 * Gives the unix socket at path the owner, group and mode of socket_owner,
 * socket_group and socket_mode (spawn-fcgi's -U, -G, -M), so that nginx's
 * user can connect without joining the responder's group.
 */
static int socket_access(const char *path)
{
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	char err[256];

	if (current.socket_owner[0] != '\0') {
		struct account owner;

		/* account_lookup refuses root: root can connect anyway. */
		if (account_lookup(current.socket_owner, &owner, err, sizeof err) < 0) {
			log_error("%s (socket_owner, IMAGEREG_SOCKET_OWNER)", err);
			return -1;
		}
		uid = owner.uid;
	}
	if (current.socket_group[0] != '\0' && group_lookup(current.socket_group, &gid, err, sizeof err) < 0) {
		log_error("%s (socket_group, IMAGEREG_SOCKET_GROUP)", err);
		return -1;
	}
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(path, uid, gid) != 0) {
		log_error("cannot give %s to socket_owner \"%s\", socket_group \"%s\": %s", path,
			  current.socket_owner, current.socket_group, strerror(errno));
		return -1;
	}
	if (chmod(path, (mode_t)current.socket_mode) != 0) {
		log_error("cannot chmod %s to socket_mode %04o: %s", path, (unsigned)current.socket_mode,
			  strerror(errno));
		return -1;
	}
	return 0;
}

/* Opens the listening socket; a stale unix socket file is replaced. */
static int open_listener(const char *spec)
{
	int fd;

	if (strncmp(spec, "unix:", 5) == 0) {
		const char *path = spec + 5;
		struct stat st;
		mode_t old;

		if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(path);
		/* Born 0600, widened by socket_access: nobody connects in between. */
		old = umask(0177);
		fd = FCGX_OpenSocket(path, 1024);
		umask(old);
		if (fd >= 0 && socket_access(path) < 0) {
			close(fd);
			unlink(path);
			return -1;
		}
	} else {
		fd = FCGX_OpenSocket(spec, 1024);
	}
	if (fd < 0)
		log_error("cannot listen on %s: %s", spec, strerror(errno));
	return fd;
}

/*
 * Whom the workers become (--user, else user =) into opts->become.  Started
 * as root, an account is required: a FastCGI responder that parses what
 * clients send must not do it as root.  Not root, user = may only name who we
 * already are.  0, or -1 after logging why.
 */
static int choose_account(const char *name, struct serve_options *opts)
{
	char err[256];

	opts->become = NULL;
	if (name[0] == '\0') {
		if (geteuid() != 0)
			return 0;
		log_error("refusing to serve as root: set user = ACCOUNT in the config (or --user ACCOUNT);"
			  " the workers then run as ACCOUNT once the socket is bound");
		return -1;
	}
	if (account_lookup(name, &worker_account, err, sizeof err) < 0) {
		log_error("%s (user, IMAGEREG_USER, --user)", err);
		return -1;
	}
	if (geteuid() == 0) {
		opts->become = &worker_account;
		return 0;
	}
	if (geteuid() == worker_account.uid)
		return 0;
	log_error("cannot become user \"%s\": not started as root (user, IMAGEREG_USER, --user)", name);
	return -1;
}

/*
 * FastCGI on the socket of spec, else systemd's fd 3, else fd 0 (spawn-fcgi):
 * nworkers preforked workers; on fd 0 only when a count was given
 * (fd0_prefork), else this process alone, as spawn-fcgi -F N forks for us.
 */
static int serve_fcgi(const char *spec, int sd, int nworkers, int fd0_prefork,
		      struct serve_options *opts)
{
	/* Until a handler is in place a SIGTERM is held, not the default action's death. */
	supervisor_hold_signals();
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
	if (fd0_prefork)
		return supervise(0, nworkers, opts, reload);
	/* One process, no supervisor: it becomes the account itself. */
	if (opts->become != NULL) {
		char err[256];

		if (account_become(opts->become, err, sizeof err) < 0) {
			log_error("%s", err);
			return 1;
		}
		opts->become = NULL;
	}
	return worker_run_fcgi(0, opts);
}

int main(int argc, char **argv)
{
	struct serve_options opts = { .gen = NULL };
	const char *listen = NULL, *user = NULL;
	int workers = 0, check_only = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
			listen = argv[++i];
		} else if (strcmp(argv[i], "--user") == 0 && i + 1 < argc) {
			user = argv[++i];
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
	if (user == NULL)
		user = current.user;
	if (check_only) {
		struct account a;
		char err[256];

		if (user[0] != '\0' && account_lookup(user, &a, err, sizeof err) < 0) {
			log_error("%s (user, IMAGEREG_USER, --user)", err);
			return 1;
		}
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
		char err[512];

		if (choose_account(user, &opts) < 0)
			return 1;
		/* Before the fork, as whoever we were started as: workers inherit it. */
		if (log_open(current.log_file, err, sizeof err) < 0) {
			log_error("%s (log_file, IMAGEREG_LOG_FILE)", err);
			return 1;
		}
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
