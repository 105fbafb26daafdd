/*
 * epoll_readd_fails.c - an LD_PRELOAD shim for t_epoll_readd.py.
 *
 * Makes one EPOLL_CTL_ADD of an exclusive waiter (the worker putting the
 * listening socket back into its idle wait) fail with ENOMEM, as the kernel
 * may when memory is short.  Which call fails: the first one made while the
 * file named by EPOLL_SHIM_TRIGGER exists; unlink() succeeds for one process
 * only, so exactly one worker sees the failure, once.  Everything else goes
 * to the real epoll_ctl.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *event)
{
	static int (*real_epoll_ctl)(int, int, int, struct epoll_event *);
	const char *trigger = getenv("EPOLL_SHIM_TRIGGER");

	if (real_epoll_ctl == NULL)
		real_epoll_ctl = (int (*)(int, int, int, struct epoll_event *))dlsym(RTLD_NEXT, "epoll_ctl");
	if (op == EPOLL_CTL_ADD && event != NULL && (event->events & EPOLLEXCLUSIVE) &&
	    trigger != NULL && unlink(trigger) == 0) {
		errno = ENOMEM;
		return -1;
	}
	return real_epoll_ctl(epfd, op, fd, event);
}
