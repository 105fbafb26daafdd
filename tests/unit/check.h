/* check.h - the unit tests' harness: CHECK counts and reports, check_done prints the total. */
#ifndef IMAGEREG_CHECK_H
#define IMAGEREG_CHECK_H

/*
 * Header-only on purpose: each test binary is one .c file, so the counters can
 * be file-local and nothing needs linking.  A passing check prints nothing; a
 * failing one prints "not ok - file:line message".  check_done() prints the
 * last line, "N passed, N failed", which tests/run.sh adds up.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

/* Counts one check; on failure prints the message.  Returns cond (0 or 1). */
static inline int check_at(int cond, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static inline int check_at(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	if (cond) {
		check_passed++;
		return 1;
	}
	check_failed++;
	printf("not ok - %s:%d ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return 0;
}

/* CHECK(cond, fmt, ...): fmt and its arguments describe the case, for the failure line. */
#define CHECK(cond, ...) check_at((cond) ? 1 : 0, __FILE__, __LINE__, __VA_ARGS__)

/* Counts one string comparison (NULL-safe); on failure prints the message and both strings. */
static inline int check_str_at(const char *got, const char *want, const char *file, int line,
			       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static inline int check_str_at(const char *got, const char *want, const char *file, int line,
			       const char *fmt, ...)
{
	va_list ap;

	if (got == want || (got != NULL && want != NULL && strcmp(got, want) == 0)) {
		check_passed++;
		return 1;
	}
	check_failed++;
	printf("not ok - %s:%d ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(": got \"%s\", want \"%s\"\n", got ? got : "(null)", want ? want : "(null)");
	return 0;
}

/* CHECK_STR(got, want, fmt, ...): like CHECK, and the failure line shows both strings. */
#define CHECK_STR(got, want, ...) check_str_at((got), (want), __FILE__, __LINE__, __VA_ARGS__)

/* Prints the closing line and returns the exit code: 1 if any check failed. */
static inline int check_done(void)
{
	printf("%d passed, %d failed\n", check_passed, check_failed);
	fflush(stdout);
	return check_failed > 0;
}

#endif
