/* outbound.c - the host-wide bound on outbound registry operations: OFD locks on bytes of a shared file. */
/* F_OFD_SETLK (Linux 3.15) is a GNU extension of <fcntl.h>. */
#define _GNU_SOURCE
#include "outbound.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int outbound_limit(int configured, int workers)
{
	if (configured > 0)
		return configured;
	return workers / 4 > 1 ? workers / 4 : 1;
}

enum outbound_got outbound_acquire(const char *path, int limit, int *fd, char *err, size_t errsize)
{
	struct flock fl;
	int d;

	*fd = -1;
	if (path == NULL || path[0] == '\0') {
		snprintf(err, errsize, "no generation_file is set, and it holds the outbound slots");
		return OUTBOUND_UNUSABLE;
	}
	/* A descriptor of its own: an OFD lock belongs to the open file description, not the process. */
	d = open(path, O_RDWR | O_CLOEXEC);
	if (d < 0) {
		snprintf(err, errsize, "cannot open %s (generation_file): %s", path, strerror(errno));
		return OUTBOUND_UNUSABLE;
	}
	for (int i = 0; i < limit; i++) {
		memset(&fl, 0, sizeof fl);
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		fl.l_start = OUTBOUND_LOCK_BASE + i;
		fl.l_len = 1;
		if (fcntl(d, F_OFD_SETLK, &fl) == 0) {
			*fd = d;
			return OUTBOUND_SLOT;
		}
		if (errno != EAGAIN && errno != EACCES) {
			snprintf(err, errsize, "cannot lock %s (generation_file): %s", path, strerror(errno));
			close(d);
			return OUTBOUND_UNUSABLE;
		}
	}
	close(d);
	return OUTBOUND_BUSY;
}

void outbound_publish(const char *path, int limit)
{
	int32_t v = limit;
	int fd = path && *path ? open(path, O_WRONLY | O_CLOEXEC) : -1;

	if (fd < 0)
		return;
	/* Past the counters' page: a few aligned bytes, written whole by one pwrite. */
	ssize_t written = pwrite(fd, &v, sizeof v, OUTBOUND_PUBLISHED_AT);
	(void)written;  /* best effort: the CLI then derives the bound from its own settings */
	close(fd);
}

int outbound_published(const char *path)
{
	int32_t v = 0;
	int fd = path && *path ? open(path, O_RDONLY | O_CLOEXEC) : -1;

	if (fd < 0)
		return 0;
	if (pread(fd, &v, sizeof v, OUTBOUND_PUBLISHED_AT) != (ssize_t)sizeof v || v < 0 || v > 256)
		v = 0;
	close(fd);
	return v;
}

void outbound_release(int fd)
{
	/* Closing the only descriptor of the description drops its lock. */
	if (fd >= 0)
		close(fd);
}

int outbound_retry_after(int timeout_ms)
{
	return timeout_ms <= 0 ? 1 : (timeout_ms + 999) / 1000;
}
