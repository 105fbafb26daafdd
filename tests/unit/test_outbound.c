/* test_outbound.c - the host-wide bound on outbound registry operations: slots across processes and threads. */
#include "check.h"
#include "outbound.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/imagereg-slots.XXXXXX";
static char path[64];

static void test_limit(void)
{
	CHECK(outbound_limit(3, 8) == 3, "a configured bound is kept");
	CHECK(outbound_limit(0, 8) == 2, "default: a quarter of the workers");
	CHECK(outbound_limit(0, 3) == 1 && outbound_limit(0, 1) == 1, "default: at least 1");
	CHECK(outbound_retry_after(5000) == 5 && outbound_retry_after(100) == 1, "Retry-After rounds up to seconds");
}

static void test_unusable(void)
{
	char err[256];
	int fd = 7;

	CHECK(outbound_acquire("", 2, &fd, err, sizeof err) == OUTBOUND_UNUSABLE && fd == -1,
	      "no file: unusable");
	CHECK(outbound_acquire("/nonexistent/imagereg/generation", 2, &fd, err, sizeof err) == OUTBOUND_UNUSABLE,
	      "a missing file: unusable");
	CHECK(strstr(err, "generation_file") != NULL, "the reason names the setting: %s", err);
}

static void test_slots(void)
{
	char err[256];
	int a, b, c, d;

	CHECK(outbound_acquire(path, 2, &a, err, sizeof err) == OUTBOUND_SLOT, "first slot: %s", err);
	/* Same process: OFD locks conflict anyway, which POSIX record locks would not. */
	CHECK(outbound_acquire(path, 2, &b, err, sizeof err) == OUTBOUND_SLOT, "second slot");
	CHECK(outbound_acquire(path, 2, &c, err, sizeof err) == OUTBOUND_BUSY && c == -1, "third: busy");
	outbound_release(a);
	CHECK(outbound_acquire(path, 2, &c, err, sizeof err) == OUTBOUND_SLOT, "a released slot is free again");
	outbound_release(b);
	outbound_release(c);

	/* Another process holds both slots, then dies by SIGKILL: both come back with nothing to reclaim. */
	int ready[2];
	if (pipe(ready) < 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		int x, y;
		char e[256];

		if (outbound_acquire(path, 2, &x, e, sizeof e) == OUTBOUND_SLOT &&
		    outbound_acquire(path, 2, &y, e, sizeof e) == OUTBOUND_SLOT &&
		    write(ready[1], "k", 1) == 1)
			pause();
		_exit(1);
	}
	char k = 0;
	CHECK(read(ready[0], &k, 1) == 1 && k == 'k', "the child took two slots");
	CHECK(outbound_acquire(path, 2, &d, err, sizeof err) == OUTBOUND_BUSY, "busy while another process holds them");
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	CHECK(outbound_acquire(path, 2, &d, err, sizeof err) == OUTBOUND_SLOT, "a killed holder's slot is free");
	outbound_release(d);
	close(ready[0]);
	close(ready[1]);
}

static void test_published(void)
{
	CHECK(outbound_published(path) == 0, "nothing published reads 0");
	outbound_publish(path, 3);
	CHECK(outbound_published(path) == 3, "the published bound reads back");
	CHECK(outbound_published("/nonexistent/imagereg/generation") == 0, "no file reads 0");
}

int main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof path, "%s/generation", dir);
	int fd = open(path, O_RDWR | O_CREAT, 0600);
	if (fd < 0) {
		perror(path);
		return 1;
	}
	close(fd);
	test_limit();
	test_unusable();
	test_slots();
	test_published();
	unlink(path);
	rmdir(dir);
	return check_done();
}
