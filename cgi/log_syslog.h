/* log_syslog.h - the syslog(3) destination of log.c. */
#ifndef IMAGEREG_LOG_SYSLOG_H
#define IMAGEREG_LOG_SYSLOG_H

/* Connects to syslog as "imagereg", facility daemon, with the PID. */
void log_syslog_open(void);

/* Sends one line at level (enum log_level of log.h, debug to error). */
void log_syslog_line(int level, const char *line);

#endif
