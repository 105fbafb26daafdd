/* regcheck_challenge.h - the registry check's WWW-Authenticate parser (RFC 9110 section 11.6.1). */
#ifndef IMAGEREG_REGCHECK_CHALLENGE_H
#define IMAGEREG_REGCHECK_CHALLENGE_H

/* Which scheme a WWW-Authenticate challenge asks for. */
enum regcheck_scheme { SCHEME_NONE, SCHEME_BASIC, SCHEME_BEARER, SCHEME_OTHER };

struct regcheck_challenge {
	enum regcheck_scheme scheme;
	char realm[1024];
	char service[256];
	char scope[512];
};

/*
 * Reads one WWW-Authenticate value (RFC 9110 section 11.6.1: one or more
 * challenges, each a scheme and auth-params or a token68) and keeps in *c the
 * best one seen so far: Bearer over Basic over any other scheme.  Call it for
 * each header line with the same *c, zeroed first.  Returns 0, or -1 when the
 * value is malformed (then *c keeps what it had).
 */
int regcheck_parse_challenge(const char *value, struct regcheck_challenge *c);

#endif
