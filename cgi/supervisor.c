/* supervisor.c - the prefork parent: spawn, reap, restart, stop. */
#include "supervisor.h"
#include "log.h"
#include "privilege.h"
#include "worker.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* How long stopping workers may take before they are killed. */
#define STOP_GRACE_SECONDS 30

static volatile sig_atomic_t stop_requested, reload_requested, reopen_requested;

/* SIGCHLD only has to end sigsuspend(); waitpid finds out which child went. */
static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_requested = 1;
	else if (sig == SIGUSR1)
		reopen_requested = 1;
	else if (sig != SIGCHLD)
		stop_requested = 1;
}

struct slot {
	pid_t pid;
	time_t started;
};

static pid_t spawn(int listen_fd, const struct serve_options *opts, pid_t parent)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	/* A worker never outlives its supervisor (fcgiwrap's orphans). */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	signal(SIGCHLD, SIG_DFL);
	if (getppid() != parent)
		_exit(0);
	/*
	 * The supervisor stays who it was started as (root: it re-reads the
	 * root-only config and key on SIGHUP and reopens the log); its workers,
	 * which talk to clients, become the unprivileged account first.
	 */
	if (opts->become != NULL) {
		char err[256];

		if (account_become(opts->become, err, sizeof err) < 0) {
			log_error("worker: %s", err);
			_exit(1);
		}
	}
	/* Signals stay blocked until worker_run_fcgi has its own handlers. */
	_exit(worker_run_fcgi(listen_fd, opts));
}

static void signal_all(struct slot *slots, int n, int sig)
{
	for (int i = 0; i < n; i++)
		if (slots[i].pid > 0)
			kill(slots[i].pid, sig);
}

/* Waits for every worker; kills what is left after the grace period. */
static void reap_all(struct slot *slots, int n)
{
	time_t deadline = time(NULL) + STOP_GRACE_SECONDS;
	int left = 0;

	for (int i = 0; i < n; i++)
		left += slots[i].pid > 0;
	while (left > 0) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);

		if (pid > 0) {
			for (int i = 0; i < n; i++)
				if (slots[i].pid == pid) {
					slots[i].pid = 0;
					left--;
				}
			continue;
		}
		if (pid < 0 && errno == ECHILD)
			break;
		if (time(NULL) >= deadline) {
			log_warn("%d worker(s) still busy after %ds, killing them", left, STOP_GRACE_SECONDS);
			signal_all(slots, n, SIGKILL);
			deadline = time(NULL) + 5;
		}
		struct timespec pause = { 0, 20 * 1000 * 1000 };
		nanosleep(&pause, NULL);
	}
}

/* Forgets a worker that exited; logs why and slows a crash loop down. */
static void reaped(struct slot *slots, int n, pid_t pid, int status)
{
	for (int i = 0; i < n; i++) {
		if (slots[i].pid != pid)
			continue;
		slots[i].pid = 0;
		if (stop_requested)
			return;
		if (WIFSIGNALED(status) && WTERMSIG(status) != SIGTERM)
			log_warn("worker %ld killed by signal %d, restarting", (long)pid, WTERMSIG(status));
		else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
			log_warn("worker %ld exited with status %d, restarting", (long)pid, WEXITSTATUS(status));
		/* A worker that dies at once would otherwise fork in a tight loop. */
		if (time(NULL) - slots[i].started < 1 &&
		    !(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) &&
		    !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
			sleep(1);
	}
}

/* The signals the supervisor acts on. */
static void handled_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGCHLD);
}

void supervisor_hold_signals(void)
{
	sigset_t set;

	handled_signals(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

/*
 * The loop runs with SIGTERM, SIGINT, SIGHUP and SIGCHLD blocked and waits in
 * sigsuspend(), which unblocks them and sleeps in one step: a signal that
 * arrives after the flags were tested is not lost until some worker happens
 * to exit (the window a test-then-waitpid loop has), it ends the wait at once.
 */
int supervise(int listen_fd, int workers, struct serve_options *opts, reload_fn reload)
{
	struct sigaction sa;
	struct slot *slots = calloc((size_t)workers, sizeof *slots);
	sigset_t block, waiting;
	pid_t self = getpid();

	if (slots == NULL)
		return 1;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	handled_signals(&block);
	/* Children inherit the block: a worker takes them only inside its wait for a connection. */
	sigprocmask(SIG_BLOCK, &block, &waiting);
	sigdelset(&waiting, SIGTERM);
	sigdelset(&waiting, SIGINT);
	sigdelset(&waiting, SIGHUP);
	sigdelset(&waiting, SIGUSR1);
	sigdelset(&waiting, SIGCHLD);

	/*
	 * One clock the workers share: when any of them last finished a
	 * request, so that each can tell a pause in the traffic from its own
	 * turn coming round (worker.c, the idle queue).  Without it (mmap
	 * failed) each worker goes by its own requests.
	 */
	void *clock_map = mmap(NULL, sizeof(int64_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	opts->last_finished_us = clock_map == MAP_FAILED ? NULL : clock_map;
	log_info("supervisor started with %d workers", workers);
	while (!stop_requested) {
		int status, acted = 0;
		pid_t pid;

		for (int i = 0; i < workers && !stop_requested; i++) {
			if (slots[i].pid > 0)
				continue;
			slots[i].pid = spawn(listen_fd, opts, self);
			if (slots[i].pid < 0) {
				log_error("fork failed: %s", strerror(errno));
				slots[i].pid = 0;
				sleep(1);
			}
			slots[i].started = time(NULL);
		}
		/*
		 * logrotate's SIGUSR1 (and SIGHUP): the log file again, and new
		 * workers, which inherit it, in place of the old ones.
		 */
		if (reopen_requested || reload_requested) {
			char err[256];

			if (log_reopen(err, sizeof err) < 0)
				log_error("%s; still writing to the old file", err);
		}
		if (reopen_requested && !reload_requested) {
			reopen_requested = 0;
			acted = 1;
			log_info("SIGUSR1: log reopened, replacing workers");
			signal_all(slots, workers, SIGTERM);
		}
		if (reload_requested) {
			reload_requested = 0;
			reopen_requested = 0;
			acted = 1;
			if (reload != NULL && reload(opts) < 0) {
				log_error("SIGHUP: reload failed, keeping the running workers and settings");
			} else {
				log_info("SIGHUP: settings reloaded, replacing workers");
				signal_all(slots, workers, SIGTERM);
			}
		}
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			reaped(slots, workers, pid, status);
			acted = 1;
		}
		if (!acted && !stop_requested)
			sigsuspend(&waiting);
	}
	log_info("stopping: waiting for workers to finish their requests");
	signal_all(slots, workers, SIGTERM);
	reap_all(slots, workers);
	free(slots);
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	log_info("stopped");
	return 0;
}
