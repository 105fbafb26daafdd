/* regcheck_net.c - the registry check's SSRF guard: address classes, vetting, the allow-list. */
#include "regcheck_net.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static const char *const addr_names[ADDR__MAX] = {
	[ADDR_PUBLIC] = "public",
	[ADDR_LOOPBACK] = "loopback",
	[ADDR_LINK_LOCAL] = "link-local",
	[ADDR_UNSPECIFIED] = "unspecified",
	[ADDR_METADATA] = "cloud metadata",
	[ADDR_NOT_IP] = "not an IP address",
};

const char *regcheck_addr_name(enum regcheck_addr a)
{
	return a >= 0 && a < ADDR__MAX ? addr_names[a] : "unknown";
}

static enum regcheck_addr classify_v4(const unsigned char *a)
{
	if ((a[0] == 169 && a[1] == 254 && a[2] == 169 && a[3] == 254) ||
	    (a[0] == 169 && a[1] == 254 && a[2] == 170 && (a[3] == 2 || a[3] == 23)) ||
	    (a[0] == 100 && a[1] == 100 && a[2] == 100 && a[3] == 200))
		return ADDR_METADATA;   /* AWS, GCP, Azure, Huawei, ...; ECS and EKS credentials; Alibaba Cloud */
	if (a[0] == 127)
		return ADDR_LOOPBACK;
	if (a[0] == 169 && a[1] == 254)
		return ADDR_LINK_LOCAL;
	if (a[0] == 0)
		return ADDR_UNSPECIFIED;
	return ADDR_PUBLIC;
}

/*
 * The IPv4 address an IPv6 address carries, into v4: ::ffff:0:0/96 (mapped),
 * 64:ff9b::/96 (NAT64) and ::/96 (compatible, deprecated but still routed by
 * some stacks).  Returns 1 when it carries one.
 */
static int embedded_v4(const unsigned char *a, unsigned char v4[4])
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const unsigned char nat64[12] = { 0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0 };
	static const unsigned char zero[12] = { 0 };

	if (memcmp(a, mapped, 12) != 0 && memcmp(a, nat64, 12) != 0 && memcmp(a, zero, 12) != 0)
		return 0;
	memcpy(v4, a + 12, 4);
	return 1;
}

enum regcheck_addr regcheck_classify(int family, const unsigned char *addr)
{
	static const unsigned char loopback6[16] = { [15] = 1 };
	static const unsigned char any6[16] = { 0 };
	static const unsigned char ec2_metadata6[16] = { 0xfd, 0x00, 0x0e, 0xc2, [14] = 0x02, [15] = 0x54 };
	static const unsigned char eks_credentials6[16] = { 0xfd, 0x00, 0x0e, 0xc2, [15] = 0x23 };
	unsigned char v4[4];

	if (family == AF_INET)
		return classify_v4(addr);
	if (family != AF_INET6)
		return ADDR_NOT_IP;
	if (memcmp(addr, ec2_metadata6, 16) == 0 || memcmp(addr, eks_credentials6, 16) == 0)
		return ADDR_METADATA;
	if (memcmp(addr, loopback6, 16) == 0)
		return ADDR_LOOPBACK;
	if (memcmp(addr, any6, 16) == 0)
		return ADDR_UNSPECIFIED;
	if (addr[0] == 0xfe && (addr[1] & 0xc0) == 0x80)
		return ADDR_LINK_LOCAL;
	if (embedded_v4(addr, v4))
		return classify_v4(v4);
	return ADDR_PUBLIC;
}

/* 1 when the first prefix bits of a and b are equal. */
static int prefix_equal(const unsigned char *a, const unsigned char *b, int prefix)
{
	int bytes = prefix / 8, bits = prefix % 8;

	if (memcmp(a, b, (size_t)bytes) != 0)
		return 0;
	if (bits == 0)
		return 1;
	unsigned char mask = (unsigned char)(0xff << (8 - bits));
	return (a[bytes] & mask) == (b[bytes] & mask);
}

static int in_nets(int family, const unsigned char *addr, const struct regcheck_net *nets, size_t n)
{
	unsigned char v4[4];
	int has_v4 = family == AF_INET6 && embedded_v4(addr, v4);

	for (size_t i = 0; i < n; i++) {
		if (nets[i].family == family && prefix_equal(addr, nets[i].addr, nets[i].prefix))
			return 1;
		/* ::ffff:127.0.0.1 is in 127.0.0.0/8 as much as 127.0.0.1 is. */
		if (has_v4 && nets[i].family == AF_INET && prefix_equal(v4, nets[i].addr, nets[i].prefix))
			return 1;
	}
	return 0;
}

enum regcheck_addr regcheck_vet(int family, const unsigned char *addr,
				const struct regcheck_net *allow, size_t nallow)
{
	enum regcheck_addr class = regcheck_classify(family, addr);

	/* Credentials of a cloud account are never a registry's business. */
	if (class == ADDR_PUBLIC || class == ADDR_METADATA || class == ADDR_NOT_IP)
		return class;
	return in_nets(family, addr, allow, nallow) ? ADDR_PUBLIC : class;
}

/* Parses one "ADDR[/PREFIX]" of len bytes into *net; 0 or -1 with err. */
static int net_parse(const char *s, size_t len, struct regcheck_net *net, char *err, size_t errsize)
{
	char text[64];
	const char *slash;
	int max;

	if (len >= sizeof text) {
		snprintf(err, errsize, "\"%.40s...\" is not a network (CIDR like 10.0.0.0/8 or fd00::/8)", s);
		return -1;
	}
	memcpy(text, s, len);
	text[len] = '\0';
	slash = strchr(text, '/');
	if (slash != NULL)
		text[slash - text] = '\0';
	memset(net, 0, sizeof *net);
	if (inet_pton(AF_INET, text, net->addr) == 1) {
		net->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, text, net->addr) == 1) {
		net->family = AF_INET6;
		max = 128;
	} else {
		snprintf(err, errsize, "\"%.*s\" is not a network (CIDR like 10.0.0.0/8 or fd00::/8)",
			 (int)len, s);
		return -1;
	}
	net->prefix = max;
	if (slash != NULL) {
		const char *p = s + (slash - text) + 1;
		size_t digits = len - (size_t)(p - s);
		int n = 0;

		if (digits == 0 || digits > 3 || strspn(p, "0123456789") < digits)
			goto bad_prefix;
		for (size_t i = 0; i < digits; i++)
			n = n * 10 + (p[i] - '0');
		if (n > max)
			goto bad_prefix;
		net->prefix = n;
	}
	/* Host bits set: 10.0.0.1/8 means something, but not clearly what. */
	for (int bit = net->prefix; bit < max; bit++)
		if (net->addr[bit / 8] & (0x80 >> (bit % 8))) {
			snprintf(err, errsize, "\"%.*s\" has bits set past its prefix length", (int)len, s);
			return -1;
		}
	return 0;
bad_prefix:
	snprintf(err, errsize, "\"%.*s\": the prefix length must be 0 to %d", (int)len, s, max);
	return -1;
}

int regcheck_nets_parse(const char *s, struct regcheck_net *out, size_t max, size_t *n,
			char *err, size_t errsize)
{
	*n = 0;
	if (s == NULL)
		return 0;
	for (const char *p = s + strspn(s, " \t,"); *p != '\0'; p += strspn(p, " \t,")) {
		size_t len = strcspn(p, " \t,");

		if (*n == max) {
			snprintf(err, errsize, "more than %zu networks", max);
			return -1;
		}
		if (net_parse(p, len, &out[*n], err, errsize) < 0)
			return -1;
		(*n)++;
		p += len;
	}
	return 0;
}
