/* log.c - leveled log lines on stderr. */
#include "log.h"

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
	/* One write per line so lines from concurrent workers never interleave. */
	n = (int)strlen(line);
	line[n < (int)sizeof line - 1 ? n++ : n - 1] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* Nowhere left to report it. */
	}
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
