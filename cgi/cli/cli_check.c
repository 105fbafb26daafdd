/* cli_check.c - `imagereg check [ID]`: the registry check from the command line, for cron and people. */
#include "cli_check.h"
#include "admin_sql.h"
#include "config.h"
#include "crypto.h"
#include "outbound.h"
#include "regcheck.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* One registry to check: its row and, once run, its result. */
struct job {
	int row;
	char *access, *secret;          /* opened credentials; wiped and freed after the check */
	int bad;                        /* the stored credentials could not be opened */
	struct regcheck_result result;
};

/* What the checking threads share. */
struct pool {
	const PGresult *res;
	const struct regcheck_options *opts;
	const char *slots_file;         /* generation_file: the host's check_concurrency slots */
	int limit;
	struct job *jobs;
	int njobs;
	int next;                       /* next job to take, under lock */
	int warned;                     /* the slot file was unusable, said once */
	pthread_mutex_t lock;
};

/* How long a thread waits before trying the host's slots again. */
#define SLOT_POLL_NS (50 * 1000 * 1000L)

/*
 * Takes one of the host's slots, waiting while the responders hold them
 * all: a batch can wait, a request cannot.  Returns the descriptor to release,
 * or -1 when the file is unusable (no responder on this host: the threads of
 * this process, no more than the bound, are the only checks).
 */
static int take_slot(struct pool *p)
{
	char err[256];
	int fd;

	for (;;) {
		switch (outbound_acquire(p->slots_file, p->limit, &fd, err, sizeof err)) {
		case OUTBOUND_SLOT:
			return fd;
		case OUTBOUND_BUSY: {
			struct timespec ts = { 0, SLOT_POLL_NS };

			nanosleep(&ts, NULL);
			continue;
		}
		default:
			pthread_mutex_lock(&p->lock);
			if (!p->warned && access(p->slots_file, F_OK) == 0)
				fprintf(stderr, "imagereg: warning: %s; checks are bounded in this process only\n", err);
			p->warned = 1;
			pthread_mutex_unlock(&p->lock);
			return -1;
		}
	}
}

static void *check_thread(void *arg)
{
	struct pool *p = arg;

	for (;;) {
		pthread_mutex_lock(&p->lock);
		int i = p->next < p->njobs ? p->next++ : -1;
		pthread_mutex_unlock(&p->lock);
		if (i < 0)
			return NULL;
		struct job *j = &p->jobs[i];
		const PGresult *res = p->res;
		const struct regcheck_input in = {
			.address = PQgetvalue(res, j->row, RR_ADDRESS), .provider = PQgetvalue(res, j->row, RR_PROVIDER),
			.enable_tls = PQgetvalue(res, j->row, RR_ENABLE_TLS)[0] == 't',
			.tls_cert = PQgetisnull(res, j->row, RR_TLS_CERT) ? NULL : PQgetvalue(res, j->row, RR_TLS_CERT),
			.access_key = j->access, .secret_key = j->secret, .stored_credentials = 1,
			.namespace = PQgetvalue(res, j->row, RR_NAMESPACE),
		};
		int slot = take_slot(p);

		regcheck_run(&in, p->opts, &j->result);
		outbound_release(slot);
		secret_free(j->access);
		secret_free(j->secret);
		j->access = j->secret = NULL;
		if (j->bad)
			regcheck_credentials_unopened(&j->result);
	}
}

/* Prints job j's line; returns 1 when its check failed. */
static int print_job(const PGresult *res, const struct job *j)
{
	const char *id = PQgetvalue(res, j->row, RR_ID);
	struct json_object *obj = json_object_new_object();
	struct json_object *fields = regcheck_result_json(&j->result, PQgetvalue(res, j->row, RR_ADDRESS));

	/* registry_id first: the line is read by people too. */
	json_object_object_add(obj, "registry_id", json_object_new_string(id));
	json_object_object_foreach(fields, name, value)
		json_object_object_add(obj, name, json_object_get(value));
	json_object_put(fields);
	printf("%s\n", json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(stdout);
	json_object_put(obj);
	return j->result.kind != RC_OK && j->result.kind != RC_UNSUPPORTED;
}

/*
 * Checks every row, at most the host's check_concurrency at once (N
 * unreachable registries take about N / bound timeouts, not N), and prints
 * the lines in row order.  Returns 1 when one failed.
 */
static int check_rows(const PGresult *res, const struct seal_key *key, const struct regcheck_options *opts,
		      const struct config *cfg)
{
	int n = PQntuples(res), rc = 0, nthreads;
	struct pool p = { .res = res, .opts = opts, .slots_file = cfg->generation_file,
			  .njobs = n };
	pthread_t threads[256];

	if (n == 0)
		return 0;
	/* The responders' published bound when they run here, else what the settings make of it. */
	p.limit = outbound_published(cfg->generation_file);
	if (p.limit <= 0)
		p.limit = outbound_limit(cfg->check_concurrency, cfg->workers);
	p.jobs = calloc((size_t)n, sizeof *p.jobs);
	if (p.jobs == NULL) {
		fprintf(stderr, "imagereg: out of memory\n");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		struct job *j = &p.jobs[i];

		j->row = i;
		j->bad = admin_credentials(key, res, i, &j->access, &j->secret) < 0;
		if (j->bad)
			fprintf(stderr, "imagereg: registry %s: checking it without credentials\n",
				PQgetvalue(res, i, RR_ID));
	}
	pthread_mutex_init(&p.lock, NULL);
	nthreads = p.limit < n ? p.limit : n;
	if (nthreads > (int)(sizeof threads / sizeof threads[0]))
		nthreads = sizeof threads / sizeof threads[0];
	int started = 0;
	for (; started < nthreads; started++)
		if (pthread_create(&threads[started], NULL, check_thread, &p) != 0)
			break;
	if (started == 0)
		check_thread(&p);       /* no thread at all: one at a time, here */
	for (int t = 0; t < started; t++)
		pthread_join(threads[t], NULL);
	pthread_mutex_destroy(&p.lock);
	for (int i = 0; i < n; i++)
		rc |= print_job(res, &p.jobs[i]);
	free(p.jobs);
	return rc;
}

int cmd_check(PGconn *conn, const struct config *cfg, int argc, char **argv)
{
	struct regcheck_options opts = { .timeout_ms = cfg->check_timeout_ms, .allow = cfg->allow,
					 .nallow = cfg->nallow };
	struct seal_key key;
	char err[512];
	PGresult *res = NULL;
	int rc = 1, curl_ready = 0;

	if (argc > 1) {
		fprintf(stderr, "usage: imagereg check [ID]\n");
		return 2;
	}
	if (seal_key_load(cfg->key_file, &key, err, sizeof err) < 0) {
		fprintf(stderr, "imagereg: %s\n", err);
		return 1;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		fprintf(stderr, "imagereg: cannot initialise libcurl\n");
		goto out;
	}
	curl_ready = 1;
	res = argc == 1 ? admin_registry(conn, argv[0]) : admin_run(conn, ADM_REGISTRY_ALL, NULL);
	if (res == NULL)
		goto out;
	rc = check_rows(res, &key, &opts, cfg);
out:
	PQclear(res);
	if (curl_ready)
		curl_global_cleanup();
	seal_key_clear(&key);
	return rc;
}
