/* supervisor.h - prefork workers on one listening socket and keep them alive. */
#ifndef IMAGEREG_SUPERVISOR_H
#define IMAGEREG_SUPERVISOR_H

#include "worker.h"

/*
 * Forks `workers` processes serving listen_fd and restarts any that dies.
 * SIGTERM/SIGINT: workers finish their requests in flight, then all exit and
 * this returns 0.  SIGHUP: workers are replaced one generation at a time;
 * requests wait in the socket's backlog meanwhile and none fails.
 */
int supervise(int listen_fd, int workers, const struct serve_options *opts);

#endif
