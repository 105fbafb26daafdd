/* log.c - leveled log lines on stderr, in a file or to syslog. */
#include "log.h"
#include "log_syslog.h"

#include <errno.h>
#include <fcntl.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const level_names[LOG__MAX] = {
	[LOG_DEBUG] = "debug",
	[LOG_INFO] = "info",
	[LOG_WARN] = "warn",
	[LOG_ERROR] = "error",
};

static enum log_level min_level = LOG_INFO;
/* getpid() is a system call (glibc caches it no more): asked once per process, forgotten in a forked child. */
static pid_t log_pid;

static void log_forget_pid(void)
{
	log_pid = 0;
}

static pid_t current_pid(void)
{
	static int registered;

	if (!registered)
		registered = pthread_atfork(NULL, NULL, log_forget_pid) == 0;
	if (log_pid == 0)
		log_pid = getpid();
	return log_pid;
}
static int to_syslog;
static char log_path[4096];     /* the log_file being written, "" for stderr or syslog */

void log_set_level(enum log_level level)
{
	min_level = level;
}

int log_level_parse(const char *name)
{
	for (int i = 0; i < LOG__MAX; i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	return -1;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	int n;
	va_list ap;

	if (level < min_level)
		return;
	/* UTC with milliseconds: sortable, and the same in every time zone. */
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = (int)strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
	n += snprintf(line + n, sizeof line - (size_t)n, ".%03ldZ %s imagereg[%ld]: ",
		      ts.tv_nsec / 1000000, level_names[level], (long)current_pid());
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	va_end(ap);
	if (to_syslog) {
		/* syslog stamps the time, the name and the PID itself. */
		log_syslog_line(level, line + n);
		return;
	}
	/* One write per line so lines from concurrent workers never interleave. */
	n = (int)strlen(line);
	line[n < (int)sizeof line - 1 ? n++ : n - 1] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* Nowhere left to report it. */
	}
}

/*
 * Opens path for appending and puts it on fd 2, where log_msg writes and
 * where libraries and sanitizers write too; forked workers inherit it.
 */
static int open_on_stderr(const char *path, char *err, size_t errsize)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);

	if (fd < 0) {
		snprintf(err, errsize, "cannot open log file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fd != STDERR_FILENO) {
		if (dup2(fd, STDERR_FILENO) < 0) {
			snprintf(err, errsize, "cannot use log file %s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		close(fd);
	}
	return 0;
}

int log_target_check(const char *target, char *err, size_t errsize)
{
	/* Relative paths would depend on the directory we were started from. */
	if (target[0] != '\0' && strcmp(target, "syslog") != 0 &&
	    (target[0] != '/' || strlen(target) >= sizeof log_path)) {
		snprintf(err, errsize, "log_file must be empty, syslog or an absolute path, not \"%.200s\"", target);
		return -1;
	}
	return 0;
}

int log_open(const char *target, char *err, size_t errsize)
{
	if (target == NULL || target[0] == '\0')
		return 0;
	if (strcmp(target, "syslog") == 0) {
		log_syslog_open();
		to_syslog = 1;
		return 0;
	}
	if (log_target_check(target, err, errsize) < 0)
		return -1;
	if (open_on_stderr(target, err, errsize) < 0)
		return -1;
	snprintf(log_path, sizeof log_path, "%s", target);
	return 0;
}

int log_reopen(char *err, size_t errsize)
{
	return log_path[0] == '\0' ? 0 : open_on_stderr(log_path, err, errsize);
}

/* Copies at most 200 bytes of s into out, printable ASCII kept, others \xHH. */
static void escape(const char *s, char *out, size_t outsize)
{
	size_t o = 0;

	for (; *s != '\0' && o + 5 < outsize && o < 200; s++) {
		unsigned char c = (unsigned char)*s;

		if (c > 0x20 && c < 0x7f && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, outsize - o, "\\x%02x", c);
	}
	out[o] = '\0';
}

void log_request(const char *method, const char *path, int status, long long micros,
		 const char *actor)
{
	char m[64], p[256], a[96];

	escape(method, m, sizeof m);
	escape(path, p, sizeof p);
	escape(actor && *actor ? actor : "-", a, sizeof a);
	log_msg(LOG_INFO, "%s %s %d %lldus %s", m, p, status, micros, a);
}
