/* regcheck_net.h - the registry check's SSRF guard: address classes, vetting, the allow-list. */
#ifndef IMAGEREG_REGCHECK_NET_H
#define IMAGEREG_REGCHECK_NET_H

#include <stddef.h>

/* One network of the allow-list, in network byte order; IPv4 as AF_INET. */
struct regcheck_net {
	int family;             /* AF_INET or AF_INET6 */
	unsigned char addr[16]; /* 4 bytes used for AF_INET */
	int prefix;             /* 0..32 or 0..128 */
};

#define REGCHECK_MAX_NETS 64

/*
 * Parses check_allow_networks: networks (10.0.0.0/8, fd00::/8, or one
 * address) separated by blanks or commas, at most max.  Host bits past the
 * prefix are refused (10.0.0.1/8 is a typo for something).  Returns 0 with *n
 * set, or -1 with the reason in err.
 */
int regcheck_nets_parse(const char *s, struct regcheck_net *out, size_t max, size_t *n,
			char *err, size_t errsize);

/* Why the SSRF guard refuses an address, or ADDR_PUBLIC when it does not. */
enum regcheck_addr {
	ADDR_PUBLIC,            /* anything else, private networks included */
	ADDR_LOOPBACK,          /* 127.0.0.0/8, ::1 */
	ADDR_LINK_LOCAL,        /* 169.254.0.0/16, fe80::/10 */
	ADDR_UNSPECIFIED,       /* 0.0.0.0/8, :: (0.0.0.0 reaches the local host on Linux) */
	ADDR_METADATA,          /* 169.254.169.254, fd00:ec2::254, 100.100.100.200: never allowed */
	ADDR_NOT_IP,            /* neither IPv4 nor IPv6 */
	ADDR__MAX
};

/* "loopback", "link-local", ... for messages. */
const char *regcheck_addr_name(enum regcheck_addr a);

/*
 * Classifies an address given as family and bytes (network order).  IPv6
 * forms that carry an IPv4 address (::ffff:a.b.c.d mapped, ::a.b.c.d
 * compatible, 64:ff9b::a.b.c.d NAT64) are judged by that IPv4 address.
 */
enum regcheck_addr regcheck_classify(int family, const unsigned char *addr);

/*
 * Whether the guard lets a connection to the address through: ADDR_PUBLIC
 * when it does (a refused class inside an allowed network included, except
 * ADDR_METADATA and ADDR_NOT_IP, which no setting allows), else the reason.
 */
enum regcheck_addr regcheck_vet(int family, const unsigned char *addr,
				const struct regcheck_net *allow, size_t nallow);

#endif
