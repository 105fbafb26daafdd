/*
 * outbound.h - the host-wide bound on outbound registry operations (checks,
 * browsing): at most `limit` at once across every worker and the CLI on this
 * host, so that a slow registry can hold only a few workers and the rest stay
 * free for reads.
 *
 * A slot is an open-file-description lock (F_OFD_SETLK) on one byte of the
 * file every process of the host already shares, generation_file.  The kernel
 * drops the lock when its descriptor is closed, so a worker that dies (even
 * by SIGKILL) in the middle of a check frees its slot with nothing to
 * reclaim; and OFD locks, unlike POSIX record locks, conflict between threads
 * of one process, so the CLI's parallel checks count one by one too.
 */
#ifndef IMAGEREG_OUTBOUND_H
#define IMAGEREG_OUTBOUND_H

#include <stddef.h>

/* The bytes locked are far past the change counters, which never grow that far. */
#define OUTBOUND_LOCK_BASE (1L << 20)

/* The bound: configured when > 0, else a quarter of the workers, at least 1. */
int outbound_limit(int configured, int workers);

/* What outbound_acquire could do. */
enum outbound_got {
	OUTBOUND_SLOT,          /* *fd holds a slot: release it with outbound_release */
	OUTBOUND_BUSY,          /* every slot is taken */
	OUTBOUND_UNUSABLE,      /* the file cannot be opened or locked: reason in err */
};

/*
 * Takes a free slot of the `limit` slots in path without waiting.  On
 * OUTBOUND_SLOT, *fd is a descriptor the caller owns: the slot is held until
 * outbound_release(*fd) (or the process's death).  Otherwise *fd is -1.
 */
enum outbound_got outbound_acquire(const char *path, int limit, int *fd, char *err, size_t errsize);

/*
 * The bound is one fact per host: the responder's workers publish theirs in
 * the file, and the CLI, which does not know how many workers run, reads it.
 * Publishing is best effort (a worker that cannot write still bounds itself).
 */
#define OUTBOUND_PUBLISHED_AT 4088L
void outbound_publish(const char *path, int limit);

/* The bound the responders of this host published, or 0 when none did. */
int outbound_published(const char *path);

/* Frees the slot held by fd (closing it); nothing for fd < 0. */
void outbound_release(int fd);

/* Seconds a client refused with 429 should wait: the time one operation may take, rounded up. */
int outbound_retry_after(int timeout_ms);

#endif
