/* fuzz.h - what the libFuzzer harnesses share: invariant checks and a quiet log. */
#ifndef IMAGEREG_FUZZ_H
#define IMAGEREG_FUZZ_H

#include "log.h"

#include <stdio.h>
#include <stdlib.h>

/*
 * A broken invariant is a crash, so libFuzzer keeps the input as an artifact.
 * The message says which one before the trap hides it in a stack trace.
 */
#define ENSURE(cond)                                                                    \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "invariant broken at %s:%d: %s\n", __FILE__,    \
				__LINE__, #cond);                                       \
			__builtin_trap();                                               \
		}                                                                       \
	} while (0)

/*
 * The responder logs every request and every refused body on stderr; at
 * thousands of executions a second that drowns libFuzzer's own lines.
 * FUZZ_LOG=1 keeps the log, for reading what one input did.
 */
static inline void fuzz_quiet_log(void)
{
	const char *keep = getenv("FUZZ_LOG");

	log_set_level(keep != NULL && *keep == '1' ? LOG_DEBUG : LOG__MAX);
}

#endif
