/* log.h - leveled log lines on stderr (journald, docker logs), in a file or to syslog. */
#ifndef IMAGEREG_LOG_H
#define IMAGEREG_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG__MAX };

/* Lines below this level are dropped; LOG_INFO unless changed. */
void log_set_level(enum log_level level);

/* Parses "debug", "info", "warn" or "error"; returns -1 for anything else. */
int log_level_parse(const char *name);

/*
 * Sends the log to target (log_file): "" leaves it on stderr, "syslog" sends
 * it to syslog(3), an absolute path is opened for appending (mode 0640) and
 * made the process's stderr.  Call once, before forking workers.  0, or -1
 * with the reason in err (the log is unchanged then).
 */
int log_open(const char *target, char *err, size_t errsize);

/* 0 when target is a value log_open takes, else -1 with the reason in err. */
int log_target_check(const char *target, char *err, size_t errsize);

/*
 * Opens the log file again (after logrotate moved it); nothing for stderr or
 * syslog.  Workers forked afterwards write to the new file.  0, or -1.
 */
int log_reopen(char *err, size_t errsize);

/*
 * Writes one line "2026-11-29T22:55:22.123Z LEVEL imagereg[pid]: message"
 * to stderr.  Callers must
 * never pass request bodies, tokens or credentials: the log is read by people
 * who are not meant to see them.
 */
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * The access line of one request: method, path, status, duration and the
 * token's name (never the token).  Client-supplied text is escaped, so a %0A
 * in a URL cannot forge a log line.
 */
void log_request(const char *method, const char *path, int status, long long micros,
		 const char *actor);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
