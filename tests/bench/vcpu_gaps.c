/*
 * vcpu_gaps.c - how long this machine stopped running us while a benchmark point was measured.
 *
 * Usage: vcpu_gaps SECONDS
 * Sleeps 1 ms at a time for SECONDS at real-time priority (SCHED_FIFO, when allowed) and prints one line:
 * "WORST_MS OVER_20MS" - the longest it woke late, and how many times by more than 20 ms.
 *
 * A SCHED_FIFO task preempts every ordinary task the moment its timer fires, so the load being measured cannot
 * delay it by more than a context switch.  When it wakes 50 or 100 ms late anyway, the virtual CPU itself was not
 * running: the host gave it to someone else.  Every request in flight in that window waits as long, which is
 * what a p99 of tens of milliseconds in one run out of several is (tests/bench/README.md).  Without the
 * privilege it runs at normal priority and says so on stderr; its numbers then include scheduling delay.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	const struct timespec one_ms = { 0, 1000000 };
	struct sched_param prio = { .sched_priority = 50 };
	double seconds, start, prev, worst = 0;
	long over20 = 0;

	if (argc != 2 || (seconds = strtod(argv[1], NULL)) <= 0) {
		fprintf(stderr, "usage: vcpu_gaps SECONDS\n");
		return 2;
	}
	if (sched_setscheduler(0, SCHED_FIFO, &prio) != 0)
		fprintf(stderr, "vcpu_gaps: no real-time priority: gaps include scheduling delay\n");
	start = prev = now_ms();
	while (prev - start < seconds * 1e3) {
		double late;

		nanosleep(&one_ms, NULL);
		late = now_ms() - prev - 1.0;
		prev += late + 1.0;
		if (late > worst)
			worst = late;
		if (late > 20.0)
			over20++;
	}
	printf("%.1f %ld\n", worst, over20);
	return 0;
}
