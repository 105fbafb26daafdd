/* clock.h - the one clock for durations and deadlines: CLOCK_MONOTONIC in microseconds. */
#ifndef IMAGEREG_CLOCK_H
#define IMAGEREG_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Never jumps with the wall clock, so durations and deadlines stay true. */
static inline int64_t clock_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

#endif
