/* test_generation.c - the shared change counters: one file, many processes. */
#include "check.h"
#include "generation.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/imagereg-gen.XXXXXX";
static char path[64];

static void test_refusals(void)
{
	char err[256];

	CHECK(generation_open("", 1, err, sizeof err) == NULL, "an empty path is refused");
	CHECK(strstr(err, "generation_file") != NULL, "the reason names the setting: %s", err);
	CHECK(generation_open(NULL, 1, err, sizeof err) == NULL, "no path is refused");
	snprintf(path, sizeof path, "%s/missing/generation", dir);
	CHECK(generation_open(path, 1, err, sizeof err) == NULL, "a missing directory is refused");
	CHECK(strstr(err, path) != NULL, "the reason names the file: %s", err);
	snprintf(path, sizeof path, "%s/generation", dir);
	CHECK(generation_open(path, 0, err, sizeof err) == NULL, "without create a missing file is refused");
	CHECK(access(path, F_OK) != 0, "and it was not created");
	/* NULL counters are what a responder without the file uses: reads 0, bumps nothing. */
	CHECK(generation_get(NULL, GEN_REGISTRY) == 0, "NULL reads 0");
	generation_bump(NULL, GEN_TOKENS);
}

static void test_shared_between_processes(void)
{
	char err[256];
	struct generation *g = generation_open(path, 1, err, sizeof err), *other;
	struct stat st;
	int status;

	if (!CHECK(g != NULL, "create %s: %s", path, err))
		return;
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "the file is mode 0600: %o", st.st_mode & 0777);
	CHECK(generation_get(g, GEN_REGISTRY) == 0 && generation_get(g, GEN_TOKENS) == 0, "a new file counts 0");
	generation_bump(g, GEN_REGISTRY);
	CHECK(generation_get(g, GEN_REGISTRY) == 1 && generation_get(g, GEN_TOKENS) == 0,
	      "a bump moves only its own counter");
	/* A child that inherited the mapping (a forked worker) and one that maps the file anew (the CLI). */
	pid_t pid = fork();
	if (pid == 0) {
		struct generation *cli = generation_open(path, 0, err, sizeof err);

		for (int i = 0; i < 1000; i++) {
			generation_bump(g, GEN_REGISTRY);
			generation_bump(cli, GEN_TOKENS);
		}
		_exit(cli == NULL);
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child ran");
	CHECK(generation_get(g, GEN_REGISTRY) == 1001, "the inherited mapping is shared: %llu",
	      (unsigned long long)generation_get(g, GEN_REGISTRY));
	CHECK(generation_get(g, GEN_TOKENS) == 1000, "a second mapping of the file is shared: %llu",
	      (unsigned long long)generation_get(g, GEN_TOKENS));
	generation_close(g);
	other = generation_open(path, 1, err, sizeof err);
	CHECK(other != NULL && generation_get(other, GEN_REGISTRY) == 1001,
	      "opening again keeps the counts (a restarted worker does not reset them)");
	generation_close(other);
}

int main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_refusals();
	test_shared_between_processes();
	unlink(path);
	rmdir(dir);
	return check_done();
}
