/* supervisor.h - prefork workers on one listening socket and keep them alive. */
#ifndef IMAGEREG_SUPERVISOR_H
#define IMAGEREG_SUPERVISOR_H

#include "worker.h"

/*
 * Re-reads the settings and the key into *opts; 0, or -1 to keep the old
 * ones (it has logged why).
 */
typedef int (*reload_fn)(struct serve_options *opts);

/*
 * Forks `workers` processes serving listen_fd and restarts any that dies.
 * SIGTERM/SIGINT: workers finish their requests in flight, then all exit and
 * this returns 0.  SIGHUP: reload() is called and, if it succeeds, every
 * worker finishes its request and is replaced by one with the new settings;
 * requests wait in the socket's backlog meanwhile and none fails.
 */
int supervise(int listen_fd, int workers, struct serve_options *opts, reload_fn reload);

/*
 * Blocks the signals supervise() handles until it waits for them (a single
 * worker without supervisor unblocks its own once its handlers are set).  Called
 * before the socket is opened: a client (or a service manager) that sees the
 * socket accept and sends SIGTERM at once gets a clean stop, not a process
 * killed by the signal's default action.
 */
void supervisor_hold_signals(void);

#endif
