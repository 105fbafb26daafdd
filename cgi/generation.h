/*
 * generation.h - change counters in a small shared file, one per cached
 * table.  Whoever changes a table on this host (a worker after a write, the
 * CLI after a token change) bumps its counter after the commit; a worker
 * compares the counters with the ones its cache was filled at before
 * answering from it.  This closes the gap NOTIFY leaves: a notification may
 * reach another worker's socket a moment after the writer answered its
 * client, a counter in shared memory cannot.
 */
#ifndef IMAGEREG_GENERATION_H
#define IMAGEREG_GENERATION_H

#include <stddef.h>
#include <stdint.h>

/*
 * GEN_REGISTRY: registry rows changed and the workers must read the table
 * again; GEN_REGISTRY_ROWS: rows changed whose ids PostgreSQL has already
 * sent every listener (the writer saw its own notification), so the workers
 * re-read those rows only; GEN_TOKENS: a token changed.
 */
enum generation_kind { GEN_REGISTRY, GEN_TOKENS, GEN_REGISTRY_ROWS, GEN__MAX };

struct generation;

/*
 * Maps the counter file at path, creating it (mode 0600) when create is set.
 * Returns NULL, with the reason in err, when path is empty or the file cannot
 * be opened or mapped.  Every process that maps the same file shares the
 * counters; a mapping survives fork.
 */
struct generation *generation_open(const char *path, int create, char *err, size_t errsize);
void generation_close(struct generation *g);

/* The current value of a counter (0 for a NULL g). */
uint64_t generation_get(const struct generation *g, enum generation_kind kind);

/* Adds one to a counter (nothing for a NULL g). */
void generation_bump(struct generation *g, enum generation_kind kind);

#endif
