/* generation.c - the shared change counters: a file mapped MAP_SHARED. */
#include "generation.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* One cache line per counter, so that bumps of one do not slow reads of the other. */
struct counters {
	struct {
		uint64_t value;
		char pad[56];
	} c[GEN__MAX];
};

struct generation {
	struct counters *map;
};

struct generation *generation_open(const char *path, int create, char *err, size_t errsize)
{
	struct generation *g;
	struct stat st;
	void *map;
	int fd;

	if (path == NULL || path[0] == '\0') {
		snprintf(err, errsize, "no generation_file is set");
		return NULL;
	}
	fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
	if (fd < 0) {
		snprintf(err, errsize, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	/* A new file is all zeroes once it has its size; an existing one keeps its counts. */
	if (fstat(fd, &st) < 0 || (st.st_size < (off_t)sizeof(struct counters) &&
				   ftruncate(fd, sizeof(struct counters)) < 0)) {
		snprintf(err, errsize, "cannot size %s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	map = mmap(NULL, sizeof(struct counters), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		snprintf(err, errsize, "cannot map %s: %s", path, strerror(errno));
		return NULL;
	}
	g = malloc(sizeof *g);
	if (g == NULL) {
		munmap(map, sizeof(struct counters));
		snprintf(err, errsize, "out of memory");
		return NULL;
	}
	g->map = map;
	return g;
}

void generation_close(struct generation *g)
{
	if (g == NULL)
		return;
	munmap(g->map, sizeof(struct counters));
	free(g);
}

/*
 * Acquire/release pair: a reader that sees the bumped value also sees
 * everything the bumper did before (its commit had returned by then).
 */
uint64_t generation_get(const struct generation *g, enum generation_kind kind)
{
	return g == NULL ? 0 : __atomic_load_n(&g->map->c[kind].value, __ATOMIC_ACQUIRE);
}

void generation_bump(struct generation *g, enum generation_kind kind)
{
	if (g != NULL)
		__atomic_add_fetch(&g->map->c[kind].value, 1, __ATOMIC_SEQ_CST);
}
