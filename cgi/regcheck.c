/*
 * regcheck.c - the registry check: Docker Registry HTTP API v2 over libcurl,
 * with an SSRF guard on every connection it opens; and browsing the
 * registry's repositories and tags over the same transport.
 *
 * The guard vets the address curl is about to connect to, in curl's
 * open-socket callback, rather than resolving the name beforehand and pinning
 * the answer: the callback sees exactly the address of every connection
 * (each happy-eyeballs attempt, the token service's, a reconnect), so DNS
 * rebinding has nothing to swap, and the name is resolved by curl's threaded
 * resolver (Debian's libcurl has it), which the check's timeout bounds (getaddrinfo(3) has no timeout
 * and a silent DNS server would hold the worker for tens of seconds).
 */
#define _GNU_SOURCE             /* strcasestr */
#include "regcheck.h"
#include "clock.h"
#include "regcheck_challenge.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* error_kind names, by enum regcheck_kind. */
static const char *const kind_names[RC__MAX] = {
	[RC_OK] = NULL,
	[RC_DNS] = "dns",
	[RC_CONNECT] = "connect",
	[RC_TLS] = "tls",
	[RC_NOT_A_REGISTRY] = "not_a_registry",
	[RC_AUTH] = "auth",
	[RC_TIMEOUT] = "timeout",
	[RC_UNSUPPORTED] = "unsupported",
};

/* Largest body kept (the token answer) or read past (anything else). */
#define BODY_MAX 65536
/* Longest header value looked at; longer ones are cut. */
#define HEADER_MAX 2048
/* A certificate expiring sooner than this many days is a warning. */
#define CERT_WARN_DAYS 14
/* Longest bearer token sent back to the registry. */
#define TOKEN_MAX 8192

const char *regcheck_kind_name(enum regcheck_kind k)
{
	return k >= 0 && k < RC__MAX ? kind_names[k] : NULL;
}

/* ------------------------------------------------------------------------- */
/* HTTP through libcurl.                                                      */
/* ------------------------------------------------------------------------- */

/* Deadlines and latency are counted in milliseconds. */
static int64_t now_ms(void)
{
	return clock_us() / 1000;
}

/* State of one check, shared by its requests. */
struct check {
	const struct regcheck_options *opts;
	int64_t deadline;               /* CLOCK_MONOTONIC ms */
	CURL *curl;                     /* one handle: connections are reused between requests */
	enum regcheck_addr refused;     /* why the guard last refused, ADDR_PUBLIC if it never did */
	int stored_credentials;         /* regcheck_input's: never send them over plain http */
	char refused_ip[INET6_ADDRSTRLEN];
	int tcp_connected;              /* a socket of the last request reached the peer (close_socket saw it) */
	int want_certinfo;              /* ask curl for the peer's certificate on the next request */
	int cert_days_known;
	long cert_days;                 /* days until the registry's certificate expires */
};

/* Which certificates verify a TLS peer. */
struct trust {
	const char *pem;                /* NULL: the system CA store */
};

/* What one response said, as far as the check cares. */
struct answer {
	long status;
	int api_header;                 /* Docker-Distribution-API-Version: registry/2.0 */
	int challenge_bad;              /* a WWW-Authenticate that did not parse */
	struct regcheck_challenge challenge;
	char location[256];
	int keep_body;                  /* collect the body (the token answer) */
	char *body;                     /* malloc'd, NUL-terminated; owned by the answer */
	size_t len;
	int too_big;
	int connected;                  /* a connection was made (the TCP handshake completed) */
	int https;                      /* the request was https */
	int tls_done;                   /* the TLS handshake completed */
	/* Browsing: set before the request. */
	int head;                       /* HEAD instead of GET */
	const char *accept;             /* an Accept header value, or NULL */
	/* Browsing: read from the answer. */
	char next[512];                 /* Link: <...>; rel="next", the target */
	char digest[128];               /* Docker-Content-Digest */
};

static void answer_free(struct answer *a)
{
	if (a->body != NULL) {
		explicit_bzero(a->body, a->len);
		free(a->body);
	}
	memset(a, 0, sizeof *a);
}

/* Refuses what the guard refuses, before a single packet leaves. */
static curl_socket_t open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *sa)
{
	struct check *c = clientp;
	const unsigned char *bytes = NULL;
	enum regcheck_addr why;

	if (purpose != CURLSOCKTYPE_IPCXN)
		return CURL_SOCKET_BAD;
	if (sa->family == AF_INET && sa->addrlen >= sizeof(struct sockaddr_in))
		bytes = (const unsigned char *)&((const struct sockaddr_in *)(const void *)&sa->addr)->sin_addr;
	else if (sa->family == AF_INET6 && sa->addrlen >= sizeof(struct sockaddr_in6))
		bytes = (const unsigned char *)&((const struct sockaddr_in6 *)(const void *)&sa->addr)->sin6_addr;
	why = bytes ? regcheck_vet(sa->family, bytes, c->opts->allow, c->opts->nallow) : ADDR_NOT_IP;
	if (why != ADDR_PUBLIC) {
		c->refused = why;
		if (bytes == NULL || inet_ntop(sa->family, bytes, c->refused_ip, sizeof c->refused_ip) == NULL)
			snprintf(c->refused_ip, sizeof c->refused_ip, "?");
		return CURL_SOCKET_BAD;
	}
	return socket(sa->family, sa->socktype | SOCK_CLOEXEC, sa->protocol);
}

/*
 * Notes whether the socket reached its peer before closing it: curl's
 * connect time stays 0 when the TLS handshake, not TCP, timed out, and "could
 * not connect" would then be the wrong words.
 */
static int close_socket(void *clientp, curl_socket_t fd)
{
	struct check *c = clientp;
	struct sockaddr_storage peer;
	socklen_t len = sizeof peer;

	if (getpeername(fd, (struct sockaddr *)&peer, &len) == 0)
		c->tcp_connected = 1;
	return close(fd);
}

static const char *const months[12] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/*
 * The leaf certificate's expiry from curl's certinfo ("Expire date:Nov 29
 * 22:14:48 2126 GMT", OpenSSL's ASN1_TIME_print), as days from now into
 * c->cert_days.
 */
static void note_cert_expiry(struct check *c)
{
	struct curl_certinfo *ci = NULL;
	char mon[4];
	int day, hh, mm, ss, year;

	if (curl_easy_getinfo(c->curl, CURLINFO_CERTINFO, &ci) != CURLE_OK || ci == NULL || ci->num_of_certs < 1)
		return;
	for (struct curl_slist *l = ci->certinfo[0]; l != NULL; l = l->next) {
		if (strncmp(l->data, "Expire date:", 12) != 0 ||
		    sscanf(l->data + 12, "%3s %d %d:%d:%d %d", mon, &day, &hh, &mm, &ss, &year) != 6)
			continue;
		for (int m = 0; m < 12; m++) {
			if (strcmp(mon, months[m]) != 0)
				continue;
			struct tm tm = { .tm_year = year - 1900, .tm_mon = m, .tm_mday = day,
					 .tm_hour = hh, .tm_min = mm, .tm_sec = ss };
			time_t expires = timegm(&tm);

			if (expires != (time_t)-1) {
				c->cert_days = (long)((expires - time(NULL)) / 86400);
				c->cert_days_known = 1;
			}
		}
		return;
	}
}

/* 1 when the header line (not NUL-terminated) is "name:", any case; *value then follows. */
static int header_is(const char *line, size_t len, const char *name, const char **value)
{
	size_t n = strlen(name);

	if (len <= n || line[n] != ':' || strncasecmp(line, name, n) != 0)
		return 0;
	*value = line + n + 1;
	return 1;
}

static size_t on_header(char *line, size_t size, size_t nitems, void *userdata)
{
	struct answer *a = userdata;
	size_t len = size * nitems;
	const char *v;
	char value[HEADER_MAX];

	/* A status line starts a response (after a 100 Continue, say): forget the last one's headers. */
	if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		a->api_header = a->challenge_bad = 0;
		memset(&a->challenge, 0, sizeof a->challenge);
		a->location[0] = a->next[0] = a->digest[0] = '\0';
		return len;
	}
	int which = header_is(line, len, "docker-distribution-api-version", &v) ? 'd'
		  : header_is(line, len, "www-authenticate", &v) ? 'w'
		  : header_is(line, len, "location", &v) ? 'l'
		  : header_is(line, len, "link", &v) ? 'n'
		  : header_is(line, len, "docker-content-digest", &v) ? 'c' : 0;
	if (which == 0)
		return len;
	size_t vlen = len - (size_t)(v - line);
	while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' ' ||
			    v[vlen - 1] == '\t'))
		vlen--;
	while (vlen > 0 && (*v == ' ' || *v == '\t'))
		v++, vlen--;
	if (vlen >= sizeof value)
		vlen = sizeof value - 1;
	memcpy(value, v, vlen);
	value[vlen] = '\0';
	switch (which) {
	case 'd':
		a->api_header |= strcasecmp(value, "registry/2.0") == 0;
		break;
	case 'w':
		if (regcheck_parse_challenge(value, &a->challenge) < 0)
			a->challenge_bad = 1;
		break;
	case 'n': {
		/* Distribution sends one link, <target>; rel="next"; the target is checked where it is used. */
		const char *end = strchr(value, '>');

		if (value[0] == '<' && end != NULL && strstr(end, "rel=\"next\"") != NULL &&
		    (size_t)(end - value - 1) < sizeof a->next)
			snprintf(a->next, sizeof a->next, "%.*s", (int)(end - value - 1), value + 1);
		break;
	}
	case 'c':
		if (strlen(value) < sizeof a->digest && strspn(value, "abcdefghijklmnopqrstuvwxyz0123456789:+.-_")
		    == strlen(value))
			snprintf(a->digest, sizeof a->digest, "%.*s", (int)sizeof a->digest - 1, value);
		break;
	default:
		/* Cut: a message quotes it, nothing follows it. */
		snprintf(a->location, sizeof a->location, "%.*s", (int)sizeof a->location - 1, value);
		break;
	}
	return len;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct answer *a = userdata;
	size_t n = size * nmemb;

	if (a->len + n > BODY_MAX) {
		a->too_big = 1;
		return 0;       /* aborts the transfer: CURLE_WRITE_ERROR */
	}
	if (a->keep_body) {
		char *grown = malloc(a->len + n + 1);

		if (grown == NULL)
			return 0;
		if (a->body != NULL) {
			memcpy(grown, a->body, a->len);
			explicit_bzero(a->body, a->len);
			free(a->body);
		}
		memcpy(grown + a->len, data, n);
		grown[a->len + n] = '\0';
		a->body = grown;
	}
	a->len += n;
	return n;
}

/*
 * The system's trust store, read once per process.  Left to curl, OpenSSL
 * parses the whole CA bundle (about 140 certificates) for every connection a
 * check makes: 25 ms a check on this project's machine, 250 ms in the
 * AddressSanitizer build, where a loaded machine pushed checks past
 * check_timeout before the registry had a chance to answer.  The store holds
 * what curl would load (its CA file and directory) with the flags curl sets,
 * and is shared by reference (SSL_CTX_set1_cert_store), so the CLI's threads
 * share it as well.  A new bundle is read by the next process: SIGHUP replaces
 * the workers.  NULL when it could not be read: curl then loads its own.
 */
static X509_STORE *system_store;
static pthread_once_t system_store_once = PTHREAD_ONCE_INIT;

static void system_store_load(void)
{
	CURL *h = curl_easy_init();
	X509_STORE *store = X509_STORE_new();
	char *file = NULL, *dir = NULL;
	int ok;

	if (h == NULL || store == NULL) {
		curl_easy_cleanup(h);
		X509_STORE_free(store);
		return;
	}
	/* Where this libcurl looks by default (Debian: /etc/ssl/certs/ca-certificates.crt, /etc/ssl/certs). */
	curl_easy_getinfo(h, CURLINFO_CAINFO, &file);
	curl_easy_getinfo(h, CURLINFO_CAPATH, &dir);
	ok = file != NULL || dir != NULL;
	if (ok && file != NULL)
		ok = X509_STORE_load_file(store, file) == 1;
	if (ok && dir != NULL)
		ok = X509_STORE_load_path(store, dir) == 1;
	curl_easy_cleanup(h);
	if (!ok) {
		X509_STORE_free(store);
		return;
	}
	X509_STORE_set_flags(store, X509_V_FLAG_TRUSTED_FIRST | X509_V_FLAG_PARTIAL_CHAIN);
	system_store = store;
}

/* CURLOPT_SSL_CTX_FUNCTION: the connection verifies against the shared store instead of one of its own. */
static CURLcode use_system_store(CURL *h, void *ssl_ctx, void *arg)
{
	(void)h;
	(void)arg;
	SSL_CTX_set1_cert_store(ssl_ctx, system_store);
	return CURLE_OK;
}

/*
 * One GET of url within what is left of the check's time: Basic credentials
 * when user or pass is set, a bearer token when bearer is.  Fills *a; returns
 * curl's code (CURLE_OPERATION_TIMEDOUT when no time is left).
 */
static CURLcode http_get(struct check *c, const char *url, const struct trust *trust,
			 const char *user, const char *pass, const char *bearer,
			 struct answer *a, char errbuf[CURL_ERROR_SIZE])
{
	int64_t left = c->deadline - now_ms();
	struct curl_slist *headers = NULL;
	CURL *h = c->curl;
	CURLcode rc;
	curl_off_t connect_us = 0, appconnect_us = 0;
	struct curl_slist *accept_header = NULL;

	errbuf[0] = '\0';
	c->refused = ADDR_PUBLIC;
	c->tcp_connected = 0;
	a->https = strncasecmp(url, "https://", 8) == 0;
	if (left <= 0)
		return CURLE_OPERATION_TIMEDOUT;
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	/* Never SIGALRM in a worker, whichever resolver this libcurl was built with. */
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	/* The environment's proxies would connect for us, past the guard. */
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)left);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)left);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "imagereg-check/1");
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, c);
	curl_easy_setopt(h, CURLOPT_CLOSESOCKETFUNCTION, close_socket);
	curl_easy_setopt(h, CURLOPT_CLOSESOCKETDATA, c);
	if (c->want_certinfo && a->https)
		curl_easy_setopt(h, CURLOPT_CERTINFO, 1L);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, a);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (trust->pem != NULL) {
		/* The stored certificate is the only trust anchor: no system store beside it. */
		struct curl_blob blob = { (void *)trust->pem, strlen(trust->pem), CURL_BLOB_COPY };

		curl_easy_setopt(h, CURLOPT_CAINFO, NULL);
		curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
	} else if (a->https && pthread_once(&system_store_once, system_store_load) == 0 && system_store != NULL) {
		curl_easy_setopt(h, CURLOPT_CAINFO, NULL);
		curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
		curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, use_system_store);
	}
	if (user != NULL || pass != NULL) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERNAME, user ? user : "");
		curl_easy_setopt(h, CURLOPT_PASSWORD, pass ? pass : "");
	}
	if (a->head)
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	if (a->accept != NULL) {
		char line[512];

		snprintf(line, sizeof line, "Accept: %s", a->accept);
		accept_header = curl_slist_append(NULL, line);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, accept_header);
	}
	if (bearer != NULL) {
		size_t n = strlen("Authorization: Bearer ") + strlen(bearer) + 1;
		char *line = malloc(n);

		if (line == NULL) {
			curl_slist_free_all(accept_header);
			return CURLE_OUT_OF_MEMORY;
		}
		snprintf(line, n, "Authorization: Bearer %s", bearer);
		headers = curl_slist_append(accept_header, line);
		explicit_bzero(line, n);
		free(line);
		if (headers == NULL) {
			curl_slist_free_all(accept_header);
			return CURLE_OUT_OF_MEMORY;
		}
		accept_header = NULL;   /* now the head of headers, freed with them */
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	}
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a->status);
	curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connect_us);
	curl_easy_getinfo(h, CURLINFO_APPCONNECT_TIME_T, &appconnect_us);
	a->connected = connect_us > 0 || a->status > 0 || c->tcp_connected;
	a->tls_done = a->https && (appconnect_us > 0 || a->status > 0);
	if (c->want_certinfo && a->tls_done) {
		note_cert_expiry(c);
		c->want_certinfo = 0;
	}
	/* A body we stopped reading still came with its status and headers. */
	if (rc == CURLE_WRITE_ERROR && a->too_big && !a->keep_body && a->status > 0)
		rc = CURLE_OK;
	/* Our header copies are wiped; curl's copies of the credentials are freed (libcurl cannot wipe them). */
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	if (headers != NULL) {
		for (struct curl_slist *l = headers; l != NULL; l = l->next)
			explicit_bzero(l->data, strlen(l->data));
		curl_slist_free_all(headers);
	}
	curl_slist_free_all(accept_header);
	curl_easy_setopt(h, CURLOPT_USERNAME, NULL);
	curl_easy_setopt(h, CURLOPT_PASSWORD, NULL);
	return rc;
}

/* ------------------------------------------------------------------------- */
/* The check.                                                                 */
/* ------------------------------------------------------------------------- */

static void fail(struct regcheck_result *res, enum regcheck_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Messages quote what servers said (a Location, curl's reason): printable
 * ASCII only, so a response stays valid UTF-8 and a log line stays one line.
 */
static void printable(char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e)
			*s = '?';
}

static void fail(struct regcheck_result *res, enum regcheck_kind kind, const char *fmt, ...)
{
	va_list ap;

	res->kind = kind;
	va_start(ap, fmt);
	vsnprintf(res->error, sizeof res->error, fmt, ap);
	va_end(ap);
	printable(res->error);
}

static void warn(struct regcheck_result *res, const char *text)
{
	size_t used = strlen(res->warning);

	snprintf(res->warning + used, sizeof res->warning - used, "%s%s", used ? "; " : "", text);
	printable(res->warning);
}

static int is_tls_error(CURLcode rc)
{
	switch (rc) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_USE_SSL_FAILED:
		return 1;
	default:
		return 0;
	}
}

/* Describes a failed request to who ("the registry at HOST", ...) in *res. */
static void transport_failure(struct regcheck_result *res, const struct check *c, CURLcode rc,
			      const char *errbuf, const struct answer *a, const char *who,
			      const struct trust *trust)
{
	const char *detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);

	if (rc == CURLE_COULDNT_CONNECT && c->refused != ADDR_PUBLIC) {
		if (c->refused == ADDR_METADATA || c->refused == ADDR_NOT_IP)
			fail(res, RC_CONNECT, "refused by the SSRF guard: %s resolves to %s (%s), which no setting allows",
			     who, c->refused_ip, regcheck_addr_name(c->refused));
		else
			fail(res, RC_CONNECT, "refused by the SSRF guard: %s resolves to %s (%s); list its network"
			     " in check_allow_networks (IMAGEREG_CHECK_ALLOW_NETWORKS) to allow it",
			     who, c->refused_ip, regcheck_addr_name(c->refused));
	} else if (rc == CURLE_COULDNT_CONNECT) {
		fail(res, RC_CONNECT, "cannot connect to %s: %s", who, detail);
	} else if (rc == CURLE_COULDNT_RESOLVE_HOST) {
		fail(res, RC_DNS, "the host name of %s does not resolve: %s", who, detail);
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		/* The limit is the whole check's: an earlier request may have used some of it. */
		if (a->connected && a->https && !a->tls_done)
			fail(res, RC_TIMEOUT, "TCP connected to %s, but the TLS handshake did not finish before the"
			     " check's %d ms (check_timeout) ran out: the server stalls in TLS, or the port does not"
			     " speak TLS (try http://)", who, c->opts->timeout_ms);
		else if (a->connected)
			fail(res, RC_TIMEOUT, "connected to %s, but it did not answer before the check's %d ms"
			     " (check_timeout) ran out", who, c->opts->timeout_ms);
		else
			fail(res, RC_TIMEOUT, "could not connect to %s before the check's %d ms (check_timeout)"
			     " ran out", who, c->opts->timeout_ms);
	} else if (is_tls_error(rc) && strstr(detail, "wrong version number") != NULL) {
		/* OpenSSL read an HTTP answer where a TLS record should be. */
		fail(res, RC_TLS, "TLS with %s failed: it answered the TLS handshake with something else, most"
		     " likely plain http: the address should probably be http:// (%s)", who, detail);
	} else if (is_tls_error(rc)) {
		fail(res, RC_TLS, "TLS with %s failed (verified against %s): %s", who,
		     trust->pem ? "tls_cert only, as enable_tls asks"
				: "the system CA store; set enable_tls and tls_cert for a private CA",
		     detail);
	} else if (rc == CURLE_GOT_NOTHING || rc == CURLE_WEIRD_SERVER_REPLY || rc == CURLE_HTTP2 ||
		   rc == CURLE_PARTIAL_FILE || rc == CURLE_UNSUPPORTED_PROTOCOL) {
		fail(res, RC_NOT_A_REGISTRY, "%s does not answer HTTP like a registry: %s", who, detail);
	} else if (rc == CURLE_WRITE_ERROR && a->too_big) {
		fail(res, RC_AUTH, "%s answered with more than %d bytes", who, BODY_MAX);
	} else {
		fail(res, RC_CONNECT, "cannot talk to %s: %s", who, detail);
	}
}

/* The access_key/secret_key pair, NULL each when not given. */
struct creds {
	const char *user;
	const char *pass;
};

static int has_creds(const struct creds *cr)
{
	return cr->user != NULL || cr->pass != NULL;
}

/* The usable token of a token service's JSON answer (malloc'd, caller wipes and frees), or NULL. */
static char *token_from(const char *body)
{
	struct json_object *obj = body ? json_tokener_parse(body) : NULL, *v;
	const char *t = NULL;
	char *out = NULL;

	if (obj != NULL && json_object_is_type(obj, json_type_object)) {
		if (json_object_object_get_ex(obj, "token", &v) && json_object_is_type(v, json_type_string))
			t = json_object_get_string(v);
		if ((t == NULL || *t == '\0') && json_object_object_get_ex(obj, "access_token", &v) &&
		    json_object_is_type(v, json_type_string))
			t = json_object_get_string(v);
	}
	/* It goes into a header line: visible ASCII only, so it cannot add a header of its own. */
	if (t != NULL && *t != '\0' && strlen(t) <= TOKEN_MAX) {
		size_t i;

		for (i = 0; t[i] > 0x20 && t[i] < 0x7f; i++)
			;
		if (t[i] == '\0')
			out = strdup(t);
	}
	if (obj != NULL) {
		/* json-c keeps its own copy of the string: wipe it before it is freed. */
		if (t != NULL)
			explicit_bzero((char *)t, strlen(t));
		json_object_put(obj);
	}
	return out;
}

/*
 * The token service's URL: the challenge's realm with service and scope
 * added, checked to be http(s) without user information.  Returns a
 * curl-allocated string (curl_free), or NULL after describing why in *res.
 */
static char *token_url(const struct regcheck_challenge *ch, struct regcheck_result *res, char **host,
		       int *https)
{
	CURLU *u = curl_url();
	char *url = NULL, *scheme = NULL, *user = NULL, param[1024];

	*host = NULL;
	if (u == NULL || curl_url_set(u, CURLUPART_URL, ch->realm, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)) {
		fail(res, RC_AUTH, "the registry's token service (realm) is not an http(s) URL");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
		fail(res, RC_AUTH, "the registry's token service URL (realm) carries user information; refused");
		goto out;
	}
	*https = strcasecmp(scheme, "https") == 0;
	curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
	if (ch->service[0] != '\0') {
		snprintf(param, sizeof param, "service=%s", ch->service);
		curl_url_set(u, CURLUPART_QUERY, param, CURLU_APPENDQUERY | CURLU_URLENCODE);
	}
	if (ch->scope[0] != '\0') {
		snprintf(param, sizeof param, "scope=%s", ch->scope);
		curl_url_set(u, CURLUPART_QUERY, param, CURLU_APPENDQUERY | CURLU_URLENCODE);
	}
	if (curl_url_get(u, CURLUPART_HOST, host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK) {
		fail(res, RC_AUTH, "the registry's token service URL (realm) cannot be used");
		curl_free(*host);
		*host = NULL;
	}
out:
	curl_free(scheme);
	curl_free(user);
	curl_url_cleanup(u);
	return url;
}

/*
 * A token from the challenge's realm for its scope, with the credentials when
 * there are any.  Returns it (malloc'd: the caller wipes and frees), or NULL
 * after describing the failure in *res.  quiet: no "sent over plain http"
 * warning (browsing: the check has said it already).
 */
static char *fetch_token(struct check *c, struct regcheck_result *res, const char *reg_host, int reg_https,
			 const struct trust *reg_trust, const struct regcheck_challenge *ch, const struct creds *cr,
			 int quiet)
{
	char errbuf[CURL_ERROR_SIZE], who[300];
	struct answer tok = { .keep_body = 1 };
	char *host = NULL, *url = NULL, *token = NULL;
	int realm_https = 0;
	CURLcode rc;

	if (ch->realm[0] == '\0') {
		fail(res, RC_AUTH, "the registry asks for a Bearer token but names no token service (realm)");
		return NULL;
	}
	url = token_url(ch, res, &host, &realm_https);
	if (url == NULL)
		goto out;
	snprintf(who, sizeof who, "the token service at %s", host);
	if (has_creds(cr) && reg_https && !realm_https) {
		fail(res, RC_AUTH, "the registry is https but its token service (%s) is plain http:"
		     " the credentials were not sent", host);
		goto out;
	}
	if (has_creds(cr) && !realm_https && c->stored_credentials) {
		fail(res, RC_AUTH, "the token service (%s) is plain http: stored credentials are never sent"
		     " over plain http", host);
		goto out;
	}
	if (has_creds(cr) && !realm_https && !quiet)
		warn(res, "the credentials were sent to the token service over plain http");
	/* The registry's own certificate settings for its own host; the system store elsewhere. */
	struct trust realm_trust = { strcasecmp(host, reg_host) == 0 ? reg_trust->pem : NULL };
	rc = http_get(c, url, &realm_trust, cr->user, cr->pass, NULL, &tok, errbuf);
	if (rc != CURLE_OK) {
		transport_failure(res, c, rc, errbuf, &tok, who, &realm_trust);
		goto out;
	}
	if (tok.status == 401 || tok.status == 403) {
		if (has_creds(cr))
			fail(res, RC_AUTH, "%s refused the access_key and secret_key (HTTP %ld)", who, tok.status);
		else
			fail(res, RC_AUTH, "%s requires credentials and none are set (HTTP %ld)", who, tok.status);
		goto out;
	}
	if (tok.status != 200) {
		fail(res, RC_AUTH, "%s answered HTTP %ld instead of a token", who, tok.status);
		goto out;
	}
	token = token_from(tok.body);
	if (token == NULL)
		fail(res, RC_AUTH, "%s answered without a usable token", who);
out:
	curl_free(url);
	curl_free(host);
	answer_free(&tok);
	return token;
}

static void token_free(char *token)
{
	if (token != NULL) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
}

/*
 * Bearer: a token from the realm (with the credentials, when there are any),
 * then /v2/ again with it.  Sets authenticated, or describes the failure.
 */
static void bearer_flow(struct check *c, struct regcheck_result *res, const char *v2_url,
			const char *reg_host, int reg_https, const struct trust *reg_trust,
			const struct regcheck_challenge *ch, const struct creds *cr)
{
	char errbuf[CURL_ERROR_SIZE];
	struct answer again = { 0 };
	char *token = fetch_token(c, res, reg_host, reg_https, reg_trust, ch, cr, 0);
	CURLcode rc;

	if (token == NULL)
		return;
	rc = http_get(c, v2_url, reg_trust, NULL, NULL, token, &again, errbuf);
	if (rc != CURLE_OK) {
		transport_failure(res, c, rc, errbuf, &again, "the registry", reg_trust);
		goto out;
	}
	if (again.status == 200) {
		res->authenticated = 1;
		if (again.api_header)
			res->registry_api = 2;
	} else if (again.status == 401 || again.status == 403) {
		if (has_creds(cr))
			fail(res, RC_AUTH, "the registry refused the token issued for these credentials (HTTP %ld)",
			     again.status);
		else
			fail(res, RC_AUTH, "the registry requires credentials and none are set (HTTP %ld)",
			     again.status);
	} else {
		fail(res, RC_NOT_A_REGISTRY, "GET /v2/ with a token answered HTTP %ld", again.status);
	}
out:
	token_free(token);
	answer_free(&again);
}

/* Basic: /v2/ again with the credentials. */
static void basic_flow(struct check *c, struct regcheck_result *res, const char *v2_url, int https,
		       const struct trust *trust, const struct creds *cr)
{
	char errbuf[CURL_ERROR_SIZE];
	struct answer again = { 0 };
	CURLcode rc;

	if (!has_creds(cr)) {
		fail(res, RC_AUTH, "the registry requires credentials (Basic) and none are set");
		return;
	}
	if (!https && c->stored_credentials) {
		fail(res, RC_AUTH, "the registry asks for credentials over plain http: stored credentials"
		     " are never sent over plain http; check it with POST .../validate and the credentials in"
		     " the body, or give it an https:// address");
		return;
	}
	if (!https)
		warn(res, "the credentials were sent over plain http");
	rc = http_get(c, v2_url, trust, cr->user, cr->pass, NULL, &again, errbuf);
	if (rc != CURLE_OK) {
		transport_failure(res, c, rc, errbuf, &again, "the registry", trust);
	} else if (again.status == 200) {
		res->authenticated = 1;
		if (again.api_header)
			res->registry_api = 2;
	} else if (again.status == 401 || again.status == 403) {
		fail(res, RC_AUTH, "the registry refused the access_key and secret_key (HTTP %ld)", again.status);
	} else {
		fail(res, RC_NOT_A_REGISTRY, "GET /v2/ with credentials answered HTTP %ld", again.status);
	}
	answer_free(&again);
}

/* The first answer of /v2/: registry or not, and what it wants. */
static void first_answer(struct check *c, struct regcheck_result *res, const struct answer *a,
			 const char *v2_url, const char *host, int https, const struct trust *trust,
			 const struct creds *cr)
{
	const struct regcheck_challenge *ch = &a->challenge;

	if (a->status == 200) {
		if (!a->api_header) {
			fail(res, RC_NOT_A_REGISTRY, "GET /v2/ answered 200 without Docker-Distribution-API-Version:"
			     " registry/2.0: a web server, not a registry");
			return;
		}
		res->registry_api = 2;
		res->authenticated = 1;
		if (has_creds(cr))
			warn(res, "the registry let the check in without credentials, so access_key and"
			     " secret_key were not tested");
		return;
	}
	if (a->status == 400 && a->body != NULL && strstr(a->body, "HTTP request to an HTTPS server") != NULL) {
		/* Go's net/http (Distribution, Harbor's core) says so when plain http reaches its TLS port. */
		fail(res, RC_TLS, "the registry's port speaks https, and the address says http://: save it as"
		     " https:// (it answered \"Client sent an HTTP request to an HTTPS server\")");
		return;
	}
	if (a->status != 401) {
		if (a->status >= 300 && a->status < 400 && a->location[0] != '\0')
			fail(res, RC_NOT_A_REGISTRY, "GET /v2/ answered HTTP %ld, a redirect to %s (not followed:"
			     " save the address it names)", a->status, a->location);
		else
			fail(res, RC_NOT_A_REGISTRY, "GET /v2/ answered HTTP %ld, not 200 or 401: not a Docker"
			     " Registry HTTP API v2 endpoint", a->status);
		return;
	}
	if (!a->api_header && ch->scheme != SCHEME_BASIC && ch->scheme != SCHEME_BEARER) {
		fail(res, RC_NOT_A_REGISTRY, "GET /v2/ answered 401 without a registry's header or a Basic or"
		     " Bearer challenge: not a Docker Registry HTTP API v2 endpoint");
		return;
	}
	/*
	 * The header proves a registry, and so does the Docker token protocol's
	 * Bearer challenge; a bare Basic challenge is what any web server behind
	 * a password sends, so only an answer after authentication can tell.
	 */
	res->registry_api = a->api_header ? 2 : ch->scheme == SCHEME_BEARER ? 1 : 0;
	if (ch->scheme == SCHEME_BEARER)
		bearer_flow(c, res, v2_url, host, https, trust, ch, cr);
	else if (ch->scheme == SCHEME_BASIC)
		basic_flow(c, res, v2_url, https, trust, cr);
	else if (a->challenge_bad)
		fail(res, RC_AUTH, "the registry's WWW-Authenticate challenge cannot be parsed");
	else
		fail(res, RC_AUTH, "the registry asks for an authentication scheme other than Basic or Bearer");
}

static void namespace_probe(struct check *c, struct regcheck_result *res, const struct regcheck_input *in,
			    const char *v2_url, const char *host, int https, const struct trust *trust,
			    const struct creds *cr, int basic);

/* A check's state at its start: the deadline every request of it shares. */
static struct check check_start(const struct regcheck_input *in, const struct regcheck_options *opts,
				int64_t start)
{
	struct check c = { .opts = opts, .deadline = start + opts->timeout_ms, .refused = ADDR_PUBLIC,
			   .stored_credentials = in->stored_credentials };

	return c;
}

/* The credentials to offer: an empty string counts as none. */
static struct creds creds_of(const struct regcheck_input *in)
{
	struct creds cr = {
		in->access_key && *in->access_key ? in->access_key : NULL,
		in->secret_key && *in->secret_key ? in->secret_key : NULL,
	};

	return cr;
}

void regcheck_run(const struct regcheck_input *in, const struct regcheck_options *opts,
		  struct regcheck_result *res)
{
	int64_t start = now_ms();
	struct check c = check_start(in, opts, start);
	struct creds cr = creds_of(in);
	struct trust trust = { NULL };
	struct answer first = { .keep_body = 1 };   /* kept for a scheme-mismatch hint */
	char errbuf[CURL_ERROR_SIZE], *v2_url = NULL, *scheme = NULL, *host = NULL;
	CURLU *u = NULL;
	CURLcode rc;
	int https;

	memset(res, 0, sizeof *res);
	if (in->provider != NULL && strcmp(in->provider, "ecr") == 0) {
		fail(res, RC_UNSUPPORTED, "the check is not available for ecr: Amazon ECR takes credentials only"
		     " through SigV4-signed GetAuthorizationToken calls to AWS, which this check does not make;"
		     " the registry was not contacted, and nothing is known about it");
		return;
	}
	res->checked = 1;
	/* /v2/ lives at the root of the host, whatever path the address has. */
	u = curl_url();
	if (u == NULL || curl_url_set(u, CURLUPART_URL, in->address, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_PATH, "/v2/", 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_QUERY, NULL, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &v2_url, 0) != CURLUE_OK) {
		fail(res, RC_CONNECT, "the address is not an http(s) URL this check can use");
		goto out;
	}
	https = strcasecmp(scheme, "https") == 0;
	if (in->enable_tls && in->tls_cert != NULL && *in->tls_cert != '\0') {
		if (https)
			trust.pem = in->tls_cert;
		else
			warn(res, "enable_tls and tls_cert have no effect on an http:// address");
	}
	c.curl = curl_easy_init();
	if (c.curl == NULL) {
		fail(res, RC_CONNECT, "out of memory starting the check");
		goto out;
	}
	c.want_certinfo = https;
	rc = http_get(&c, v2_url, &trust, NULL, NULL, NULL, &first, errbuf);
	if (rc != CURLE_OK) {
		transport_failure(res, &c, rc, errbuf, &first, "the registry", &trust);
		goto out;
	}
	res->reachable = 1;
	res->tls_verified = https;      /* curl verified the peer, or there would be no answer */
	res->cert_days_known = c.cert_days_known;
	res->cert_days = c.cert_days;
	if (c.cert_days_known && c.cert_days < CERT_WARN_DAYS) {
		char text[96];

		snprintf(text, sizeof text, "the registry's certificate expires in %ld day%s", c.cert_days,
			 c.cert_days == 1 ? "" : "s");
		warn(res, text);
	}
	first_answer(&c, res, &first, v2_url, host, https, &trust, &cr);
	/* Authenticated, yet nothing said "registry": a web server behind a password. */
	if (res->kind == RC_OK && res->registry_api == 0) {
		fail(res, RC_NOT_A_REGISTRY, "GET /v2/ answered 200 after authentication, but no answer carried"
		     " Docker-Distribution-API-Version: registry/2.0: a web server behind a password, not a registry");
	}
	if (res->kind == RC_OK && in->namespace != NULL && *in->namespace != '\0')
		namespace_probe(&c, res, in, v2_url, host, https, &trust, &cr,
				first.status == 401 && first.challenge.scheme == SCHEME_BASIC);
out:
	if (res->kind != RC_OK && res->kind != RC_AUTH)
		res->authenticated = 0;
	res->registry_api = res->registry_api != 0;
	answer_free(&first);
	curl_free(v2_url);
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	if (c.curl != NULL)
		curl_easy_cleanup(c.curl);
	res->latency_ms = (long)(now_ms() - start);
}

void regcheck_credentials_unopened(struct regcheck_result *res)
{
	if (!res->checked || (res->kind != RC_OK && res->kind != RC_AUTH))
		return;
	res->authenticated = 0;
	fail(res, RC_AUTH, "the stored credentials cannot be opened with this key (sealed under another"
	     " key: finish the key rotation); they were not sent");
}

struct json_object *regcheck_result_json(const struct regcheck_result *res, const char *address)
{
	struct json_object *obj = json_object_new_object();
	static const char *const flags[] = { "reachable", "tls_verified", "registry_api", "authenticated" };
	const int values[] = { res->reachable, res->tls_verified, res->registry_api, res->authenticated };

	json_object_object_add(obj, "checked_address", address ? json_object_new_string(address) : NULL);
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
		json_object_object_add(obj, flags[i], res->checked ? json_object_new_boolean(values[i]) : NULL);
	json_object_object_add(obj, "namespace_visible",
			       res->namespace_known ? json_object_new_boolean(res->namespace_visible) : NULL);
	json_object_object_add(obj, "cert_expires_in_days",
			       res->cert_days_known ? json_object_new_int64(res->cert_days) : NULL);
	json_object_object_add(obj, "latency_ms", json_object_new_int64(res->latency_ms));
	json_object_object_add(obj, "error", res->kind == RC_OK ? NULL : json_object_new_string(res->error));
	json_object_object_add(obj, "error_kind", res->kind == RC_OK ? NULL
			       : json_object_new_string(regcheck_kind_name(res->kind)));
	json_object_object_add(obj, "warning", res->warning[0] ? json_object_new_string(res->warning) : NULL);
	return obj;
}

/* ------------------------------------------------------------------------- */
/* Browsing: the catalog and tag lists, as the check's transport reaches them. */
/* ------------------------------------------------------------------------- */

/* Entries asked for per registry page: Distribution's default cap is 1000; 100 keeps each answer small. */
#define BROWSE_PAGE_N 100
/* Entries and registry pages one browse collects at most: beyond, narrow the namespace. */
#define BROWSE_MAX_ENTRIES 10000
#define BROWSE_MAX_PAGES 200

/*
 * How the registry let us in, kept across the requests of one browse so that
 * later pages go straight through: Basic once it was asked for, the last
 * Bearer token until the registry wants another scope.
 */
struct session {
	struct check *c;
	const char *host;               /* the registry's host (token service trust) */
	char origin[320];               /* scheme://host[:port], for the Link targets */
	int https;
	const struct trust *trust;
	const struct creds *cr;
	int basic;
	char *token;                    /* malloc'd; wiped and freed by session_end */
};

static void session_end(struct session *s)
{
	token_free(s->token);
	s->token = NULL;
}

/*
 * GET (or HEAD, per *a) url as the registry asks: on a 401, once, with Basic
 * credentials or a Bearer token for the challenge's scope.  Returns 0 with *a
 * holding the last answer (any status), or -1 after fail(res, ...).
 */
static int session_get(struct session *s, struct regcheck_result *res, const char *url, struct answer *a)
{
	char errbuf[CURL_ERROR_SIZE];
	int keep = a->keep_body, head = a->head;
	const char *accept = a->accept;

	for (int attempt = 0;; attempt++) {
		int basic = s->basic && has_creds(s->cr);
		CURLcode rc;

		answer_free(a);
		a->keep_body = keep;
		a->head = head;
		a->accept = accept;
		rc = http_get(s->c, url, s->trust, basic ? s->cr->user : NULL, basic ? s->cr->pass : NULL,
			      basic ? NULL : s->token, a, errbuf);
		if (rc != CURLE_OK) {
			transport_failure(res, s->c, rc, errbuf, a, "the registry", s->trust);
			return -1;
		}
		if (a->status != 401 || attempt > 0)
			return 0;
		if (a->challenge.scheme == SCHEME_BASIC && has_creds(s->cr) && !s->basic) {
			/* The same rule as the check's: stored credentials never over plain http. */
			if (!s->https && s->c->stored_credentials)
				return 0;
			s->basic = 1;
		} else if (a->challenge.scheme == SCHEME_BEARER) {
			token_free(s->token);
			s->token = fetch_token(s->c, res, s->host, s->https, s->trust, &a->challenge, s->cr, 1);
			if (s->token == NULL)
				return -1;
		} else {
			return 0;
		}
	}
}

/*
 * The next page's URL from a Link target: only a path of this registry's
 * /v2/ API (Distribution sends "/v2/_catalog?last=...&n=..."), so that a
 * registry cannot send our credentials elsewhere.  0, or -1 when unusable.
 */
static int next_url(const struct session *s, const char *target, char *out, size_t size)
{
	if (strncmp(target, "/v2/", 4) != 0 || strpbrk(target, " \t\r\n\\#") != NULL)
		return -1;
	return snprintf(out, size, "%s%s", s->origin, target) < (int)size ? 0 : -1;
}

/* Appends a strdup of name to *list (grown as needed); -1 when out of memory. */
static int list_push(struct regbrowse_result *out, const char *name)
{
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 64;
		char **grown = realloc(out->names, cap * sizeof *grown);

		if (grown == NULL)
			return -1;
		out->names = grown;
		out->cap = cap;
	}
	out->names[out->n] = strdup(name);
	if (out->names[out->n] == NULL)
		return -1;
	out->n++;
	return 0;
}

/*
 * One page's names: the "repositories" (catalog) or "tags" array of the
 * body.  Calls take(name) for each string; returns the number seen, -1 when
 * the body is not the expected JSON, or -2 when take asked to stop.
 */
typedef int (*name_fn)(void *ctx, const char *name);

static int each_name(const char *body, const char *field, name_fn take, void *ctx)
{
	struct json_object *obj = body ? json_tokener_parse(body) : NULL, *arr;
	int n = -1;

	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		goto out;
	if (!json_object_object_get_ex(obj, field, &arr))
		goto out;       /* not the API's answer: a web server's "{}" */
	if (arr == NULL) {
		n = 0;          /* Distribution: "tags": null for a repository without tags */
		goto out;
	}
	if (!json_object_is_type(arr, json_type_array))
		goto out;
	n = 0;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *v = json_object_array_get_idx(arr, i);

		if (!json_object_is_type(v, json_type_string))
			continue;
		n++;
		if (take(ctx, json_object_get_string(v)) < 0) {
			n = -2;
			break;
		}
	}
out:
	json_object_put(obj);
	return n;
}

/* The walk's state: which names to keep. */
struct walk {
	struct regbrowse_result *out;
	const char *prefix;             /* repositories: "ns/" ("" = all); tags: "" */
	const char *q;                  /* substring filter, "" = none */
	int past;                       /* a catalog name sorted past the prefix: the rest is too */
	int first_only;                 /* stop at the first match (the check's namespace probe) */
	int oom;
};

static int walk_take(void *ctx, const char *name)
{
	struct walk *w = ctx;
	size_t plen = strlen(w->prefix);

	if (plen > 0 && strncmp(name, w->prefix, plen) != 0) {
		/* The catalog is sorted: past "ns/" (and its "ns-x" neighbours) nothing else is under it. */
		if (strcmp(name, w->prefix) > 0)
			w->past = 1;
		return w->past ? -1 : 0;
	}
	if (w->q[0] != '\0' && strcasestr(name, w->q) == NULL)
		return 0;
	if (w->out->n >= BROWSE_MAX_ENTRIES || list_push(w->out, name) < 0) {
		w->oom = 1;
		return -1;
	}
	return w->first_only ? -1 : 0;
}

/*
 * Walks the registry's pages from url on, following Link rel="next".
 * Returns 0, or -1 after describing the failure in out->res.
 */
static int walk_pages(struct session *s, struct regcheck_result *res, const char *url, const char *field,
		      struct walk *w, const char *what)
{
	char page_url[1024];
	int rc = -1;

	snprintf(page_url, sizeof page_url, "%s", url);
	for (int pages = 0;; pages++) {
		struct answer a = { .keep_body = 1 };

		if (pages == BROWSE_MAX_PAGES) {
			fail(res, RC_NOT_A_REGISTRY, "the registry's %s runs past %d pages; narrow it", what,
			     BROWSE_MAX_PAGES);
			return -1;
		}
		if (session_get(s, res, page_url, &a) < 0) {
			answer_free(&a);
			return -1;
		}
		w->out->pages++;
		if (a.status == 401 || a.status == 403) {
			fail(res, RC_AUTH, "the registry refused to list its %s to %s (HTTP %ld)", what,
			     has_creds(s->cr) ? "these credentials" : "anonymous requests; set access_key and secret_key",
			     a.status);
		} else if (a.status == 404) {
			/* No catalog is a registry's choice (Docker Hub, some Harbor setups); no tag list, no repository. */
			fail(res, strcmp(field, "tags") == 0 ? RC_NOT_A_REGISTRY : RC_UNSUPPORTED,
			     "the registry answered HTTP 404 for its %s%s", what, strcmp(field, "tags") == 0
			     ? ": no such repository" : ": unsupported, it does not offer the catalog API");
			if (strcmp(field, "tags") == 0)
				w->out->not_found = 1;
		} else if (a.status != 200) {
			fail(res, RC_NOT_A_REGISTRY, "the registry answered HTTP %ld for its %s", a.status, what);
		} else {
			int n = each_name(a.body, field, walk_take, w);

			if (n == -1)
				fail(res, RC_NOT_A_REGISTRY, "the registry's %s is not the Registry API's JSON", what);
			else if (w->oom && w->out->n >= BROWSE_MAX_ENTRIES)
				fail(res, RC_NOT_A_REGISTRY, "more than %d entries in the registry's %s; narrow it with q"
				     " or the namespace", BROWSE_MAX_ENTRIES, what);
			else if (w->oom)
				fail(res, RC_CONNECT, "out of memory listing the registry's %s", what);
			else if (n == -2 || a.next[0] == '\0')
				rc = 0;         /* stopped early, or the last page */
			else if (next_url(s, a.next, page_url, sizeof page_url) < 0)
				fail(res, RC_NOT_A_REGISTRY, "the registry's next-page link leaves its /v2/ API; not followed");
			else {
				answer_free(&a);
				continue;
			}
		}
		answer_free(&a);
		return rc;
	}
}

/* Percent-encodes s into out for a query value (RFC 3986 unreserved kept); -1 when it does not fit. */
static int query_escape(const char *s, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (o + 4 > size)
			return -1;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '.' || ch == '_' || ch == '~' || ch == '/') {
			out[o++] = (char)ch;
		} else {
			out[o++] = '%';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	out[o] = '\0';
	return 0;
}

/*
 * Sets up *s and *res for requests to in->address: the origin, TLS trust,
 * credentials.  Returns 0, or -1 after fail(res, ...).  *host is the
 * curl-allocated host name (curl_free).
 */
static int session_begin(struct session *s, struct check *c, struct regcheck_result *res,
			 const struct regcheck_input *in, struct trust *trust, const struct creds *cr, char **host)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *port = NULL;
	int rc = -1;

	memset(s, 0, sizeof *s);
	*host = NULL;
	if (u == NULL || curl_url_set(u, CURLUPART_URL, in->address, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, host, 0) != CURLUE_OK) {
		fail(res, RC_CONNECT, "the address is not an http(s) URL this check can use");
		goto out;
	}
	curl_url_get(u, CURLUPART_PORT, &port, 0);
	s->https = strcasecmp(scheme, "https") == 0;
	trust->pem = s->https && in->enable_tls && in->tls_cert && *in->tls_cert ? in->tls_cert : NULL;
	/* IPv6 literals need their brackets back in a URL. */
	snprintf(s->origin, sizeof s->origin, "%s://%s%s%s%s%s", s->https ? "https" : "http",
		 strchr(*host, ':') ? "[" : "", *host, strchr(*host, ':') ? "]" : "", port ? ":" : "", port ? port : "");
	s->c = c;
	s->host = *host;
	s->trust = trust;
	s->cr = cr;
	c->curl = curl_easy_init();
	if (c->curl == NULL) {
		fail(res, RC_CONNECT, "out of memory starting the request");
		goto out;
	}
	rc = 0;
out:
	curl_free(scheme);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

/* The manifest media types whose digest HEAD .../manifests/<tag> reports: images and indexes, Docker and OCI. */
#define MANIFEST_ACCEPT "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json," \
	" application/vnd.docker.distribution.manifest.list.v2+json," \
	" application/vnd.docker.distribution.manifest.v2+json"

void regbrowse_run(const struct regcheck_input *in, const struct regbrowse_request *rq,
		   const struct regcheck_options *opts, struct regbrowse_result *out)
{
	int64_t start = now_ms();
	struct check c = check_start(in, opts, start);
	struct creds cr = creds_of(in);
	struct trust trust = { NULL };
	struct session s;
	struct regcheck_result *res = &out->res;
	char url[2048], escaped[600], prefix[300], *host = NULL;

	memset(out, 0, sizeof *out);
	if (in->provider != NULL && strcmp(in->provider, "ecr") == 0) {
		fail(res, RC_UNSUPPORTED, "unsupported: Amazon ECR lists repositories only through SigV4-signed AWS"
		     " API calls (DescribeRepositories), which this service does not make");
		return;
	}
	if (rq->what == BROWSE_REPOSITORIES && in->provider != NULL && strcmp(in->provider, "dockerhub") == 0) {
		fail(res, RC_UNSUPPORTED, "unsupported: Docker Hub's registry does not offer the catalog API"
		     " (GET /v2/_catalog); list a repository's tags instead");
		return;
	}
	if (session_begin(&s, &c, res, in, &trust, &cr, &host) < 0)
		goto out;
	struct walk w = { .out = out, .q = rq->q ? rq->q : "", .prefix = "" };
	if (rq->what == BROWSE_REPOSITORIES) {
		/*
		 * The catalog is sorted by name: start just before "ns/" (last=ns),
		 * stop at the first name past it.  A namespace of 100 repositories
		 * among 10000 costs one or two pages, not a hundred.
		 */
		const char *ns = rq->namespace ? rq->namespace : "";

		if (snprintf(prefix, sizeof prefix, "%s%s", ns, *ns ? "/" : "") >= (int)sizeof prefix ||
		    query_escape(ns, escaped, sizeof escaped) < 0) {
			fail(res, RC_NOT_A_REGISTRY, "the namespace is too long to ask for");
			goto out;
		}
		w.prefix = prefix;
		w.first_only = rq->first_only;
		snprintf(url, sizeof url, "%s/v2/_catalog?n=%d%s%s", s.origin, BROWSE_PAGE_N, *ns ? "&last=" : "",
			 escaped);
		if (walk_pages(&s, res, url, "repositories", &w, "catalog") < 0)
			goto out;
	} else {
		if (query_escape(rq->repository, escaped, sizeof escaped) < 0) {
			fail(res, RC_NOT_A_REGISTRY, "the repository name is too long to ask for");
			goto out;
		}
		snprintf(url, sizeof url, "%s/v2/%s/tags/list?n=%d", s.origin, escaped, BROWSE_PAGE_N);
		if (walk_pages(&s, res, url, "tags", &w, "tag list") < 0)
			goto out;
		/* Digests of the page shown only: one HEAD each, what a registry answers cheaply. */
		out->digests = calloc(out->n ? out->n : 1, sizeof *out->digests);
		if (out->digests == NULL)
			goto out;
		for (size_t i = rq->digest_from; i < out->n && i < rq->digest_from + rq->digest_count; i++) {
			char tag[300];
			struct answer a = { .head = 1, .accept = MANIFEST_ACCEPT };

			if (query_escape(out->names[i], tag, sizeof tag) < 0)
				continue;
			if (snprintf(url, sizeof url, "%s/v2/%s/manifests/%s", s.origin, escaped, tag) >=
			    (int)sizeof url)
				continue;
			if (session_get(&s, res, url, &a) < 0) {
				/* A digest is a bonus: the list stands without it. */
				res->kind = RC_OK;
				res->error[0] = '\0';
				answer_free(&a);
				break;
			}
			if (a.status == 200 && a.digest[0] != '\0')
				out->digests[i] = strdup(a.digest);
			answer_free(&a);
		}
	}
out:
	session_end(&s);
	curl_free(host);
	if (c.curl != NULL)
		curl_easy_cleanup(c.curl);
	out->res.latency_ms = (long)(now_ms() - start);
}

void regbrowse_free(struct regbrowse_result *out)
{
	for (size_t i = 0; i < out->n; i++) {
		free(out->names[i]);
		if (out->digests != NULL)
			free(out->digests[i]);
	}
	free(out->names);
	free(out->digests);
	out->names = NULL;
	out->digests = NULL;
	out->n = out->cap = 0;
}

/*
 * Whether anything is visible under the namespace with these credentials:
 * the first catalog entry named "<namespace>/..." (one page, usually).  A
 * namespace nobody may pull from, or a typo, passed the check before: now
 * namespace_visible says false and a warning says why it matters.  The
 * catalog may be closed to the credentials (Harbor without the right, Docker
 * Hub): then it stays null, with a warning, and the check still passes.
 */
static void namespace_probe(struct check *c, struct regcheck_result *res, const struct regcheck_input *in,
			    const char *v2_url, const char *host, int https, const struct trust *trust,
			    const struct creds *cr, int basic)
{
	struct regbrowse_result found;
	/* Basic worked for /v2/: send it at once rather than be asked again. */
	struct session s = { .c = c, .host = host, .https = https, .trust = trust, .cr = cr, .basic = basic };
	struct walk w = { .out = &found, .q = "", .first_only = 1 };
	char prefix[300], escaped[600], url[1024], text[400];
	size_t origin_len = strlen(v2_url) - strlen("/v2/");

	memset(&found, 0, sizeof found);
	if (in->provider != NULL && strcmp(in->provider, "dockerhub") == 0)
		return;         /* no catalog: nothing to tell */
	if (origin_len >= sizeof s.origin || snprintf(prefix, sizeof prefix, "%s/", in->namespace) >= (int)sizeof prefix ||
	    query_escape(in->namespace, escaped, sizeof escaped) < 0)
		return;
	memcpy(s.origin, v2_url, origin_len);
	s.origin[origin_len] = '\0';
	w.prefix = prefix;
	snprintf(url, sizeof url, "%s/v2/_catalog?n=%d&last=%s", s.origin, BROWSE_PAGE_N, escaped);
	if (walk_pages(&s, &found.res, url, "repositories", &w, "catalog") < 0) {
		snprintf(text, sizeof text, "could not tell whether namespace %.60s is visible: %.200s", in->namespace,
			 found.res.error);
		warn(res, text);
	} else {
		res->namespace_known = 1;
		res->namespace_visible = found.n > 0;
		if (found.n == 0) {
			snprintf(text, sizeof text, "no repository under namespace %.60s is visible %s: it is empty,"
				 " misspelt, or these credentials cannot pull from it", in->namespace,
				 has_creds(cr) ? "with these credentials" : "without credentials");
			warn(res, text);
		}
	}
	session_end(&s);
	regbrowse_free(&found);
}
