/*
 * privilege.h - becoming an unprivileged account after root's work is done
 * (binding the socket, reading root-only files), as nginx and php-fpm workers do.
 */
#ifndef IMAGEREG_PRIVILEGE_H
#define IMAGEREG_PRIVILEGE_H

#include <stddef.h>
#include <sys/types.h>

struct account {
	char name[64];
	uid_t uid;
	gid_t gid;          /* the account's primary group */
};

/* Looks name up in the passwd database.  0, or -1 with the reason in err. */
int account_lookup(const char *name, struct account *a, char *err, size_t errsize);

/* Looks a group up by name.  0, or -1 with the reason in err. */
int group_lookup(const char *name, gid_t *gid, char *err, size_t errsize);

/*
 * Becomes a for good: supplementary groups of a (initgroups), its group, its
 * user, then checks that root cannot be had back.  0, or -1 with the reason
 * in err; on -1 the caller must not serve.
 */
int account_become(const struct account *a, char *err, size_t errsize);

#endif
