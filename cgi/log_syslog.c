/*
 * log_syslog.c - log lines to syslog(3).  Apart from log.c because <syslog.h>
 * defines LOG_DEBUG and LOG_INFO, names log.h's levels already have.
 */
#include "log_syslog.h"

#include <syslog.h>

/* log.h's levels, debug to error, in syslog's terms. */
static const int priorities[] = { LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR };

void log_syslog_open(void)
{
	/* LOG_NDELAY: the socket is open before any fork or privilege drop. */
	openlog("imagereg", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_syslog_line(int level, const char *line)
{
	if (level < 0 || level >= (int)(sizeof priorities / sizeof priorities[0]))
		level = 3;
	syslog(priorities[level], "%s", line);
}
