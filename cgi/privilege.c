/* privilege.c - dropping root for an account: lookup, initgroups, setgid, setuid, proof. */
#define _GNU_SOURCE     /* setresuid, initgroups */
#include "privilege.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int account_lookup(const char *name, struct account *a, char *err, size_t errsize)
{
	struct passwd *pw;

	if (strlen(name) >= sizeof a->name) {
		snprintf(err, errsize, "user name \"%.20s...\" is too long", name);
		return -1;
	}
	errno = 0;
	pw = getpwnam(name);
	if (pw == NULL) {
		snprintf(err, errsize, "no such user \"%s\"%s%s", name, errno ? ": " : "",
			 errno ? strerror(errno) : "");
		return -1;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errsize, "user \"%s\" is root: name an unprivileged account", name);
		return -1;
	}
	snprintf(a->name, sizeof a->name, "%s", name);
	a->uid = pw->pw_uid;
	a->gid = pw->pw_gid;
	return 0;
}

int group_lookup(const char *name, gid_t *gid, char *err, size_t errsize)
{
	struct group *gr;

	errno = 0;
	gr = getgrnam(name);
	if (gr == NULL) {
		snprintf(err, errsize, "no such group \"%s\"%s%s", name, errno ? ": " : "",
			 errno ? strerror(errno) : "");
		return -1;
	}
	*gid = gr->gr_gid;
	return 0;
}

int account_become(const struct account *a, char *err, size_t errsize)
{
	/* Groups first: after setuid we could no longer change them. */
	if (initgroups(a->name, a->gid) != 0 || setresgid(a->gid, a->gid, a->gid) != 0 ||
	    setresuid(a->uid, a->uid, a->uid) != 0) {
		snprintf(err, errsize, "cannot become user \"%s\": %s", a->name, strerror(errno));
		return -1;
	}
	/* The proof nginx's and OpenSSH's privilege separation ask for: no way back. */
	if (setuid(0) == 0 || seteuid(0) == 0 || getuid() != a->uid || geteuid() != a->uid ||
	    getgid() != a->gid || getegid() != a->gid) {
		snprintf(err, errsize, "dropped to user \"%s\" but root can still be regained", a->name);
		return -1;
	}
	return 0;
}
