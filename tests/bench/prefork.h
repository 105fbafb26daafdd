/* prefork.h - the process model both benchmark references share: one unix socket, N forked libfcgi workers. */
#ifndef BENCH_PREFORK_H
#define BENCH_PREFORK_H

#include <fcgiapp.h>

/* Answers one accepted request; ctx is what worker_init returned in this worker. */
typedef void (*serve_fn)(FCGX_Request *r, void *ctx);
/* Runs once in each worker after fork (a database connection must not be shared). */
typedef void *(*worker_init_fn)(void);

/*
 * Listens on the unix socket PATH, forks WORKERS workers that accept and
 * serve requests until SIGTERM/SIGINT, forwards that signal to them and
 * returns 0 when they have all exited.  Workers are not restarted: a
 * reference that loses one should show it in the numbers, not hide it.
 */
int prefork_run(const char *path, int workers, worker_init_fn init, serve_fn serve);

/* Writes a complete response: status line, JSON headers, body.  0, or -1 if the client went away. */
int prefork_reply(FCGX_Request *r, int status, const char *body, int len);

/* The same with extra header lines ("Name: value\r\n" each, at most a few hundred bytes) before the body. */
int prefork_reply_with(FCGX_Request *r, int status, const char *extra, const char *body, int len);

/* The same response as one malloc'd buffer (*out, *outlen; the caller frees it).  0, or -1 when out of memory. */
int prefork_response(int status, const char *body, int len, char **out, int *outlen);

/* Reads a whole file (at most 16 MiB) into a malloc'd *data of *len bytes.  0, or -1 with a message. */
int prefork_slurp(const char *path, char **data, int *len);

#endif
