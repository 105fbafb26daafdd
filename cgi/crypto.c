/* crypto.c - AES-256-GCM sealing, token generation and hashing, PEM checks. */
/* memmem(3) is a GNU extension. */
#define _GNU_SOURCE
#include "crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static const char hexdigits[] = "0123456789abcdef";

static void to_hex(const unsigned char *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexdigits[in[i] >> 4];
		out[2 * i + 1] = hexdigits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes 2n hex characters into n bytes; -1 on a non-hex character. */
static int from_hex(const char *in, size_t n, unsigned char *out)
{
	for (size_t i = 0; i < n; i++) {
		int hi = hex_value(in[2 * i]), lo = hex_value(in[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* Fills buf with n bytes from the kernel's CSPRNG. */
static int random_bytes(unsigned char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = getrandom(buf + got, n - got, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static void sha256(const void *data, size_t len, unsigned char out[SHA256_BYTES])
{
	unsigned int outlen = SHA256_BYTES;

	EVP_Digest(data, len, out, &outlen, EVP_sha256(), NULL);
}

int seal_key_load(const char *path, struct seal_key *key, char *err, size_t errsize)
{
	unsigned char buf[2 * KEY_BYTES + 2], digest[SHA256_BYTES];
	struct stat st;
	ssize_t n;
	int fd, rc = -1;

	memset(key, 0, sizeof *key);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errsize, "cannot open key file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errsize, "key file %s is not a regular file", path);
		goto out;
	}
	if (st.st_mode & (S_IROTH | S_IWOTH)) {
		snprintf(err, errsize, "key file %s is accessible to other users (mode %03o); chmod 600 it",
			 path, (unsigned)(st.st_mode & 0777));
		goto out;
	}
	n = read(fd, buf, sizeof buf);
	if (n == KEY_BYTES) {
		memcpy(key->key, buf, KEY_BYTES);
	} else if ((n == 2 * KEY_BYTES || (n == 2 * KEY_BYTES + 1 && buf[2 * KEY_BYTES] == '\n')) &&
		   from_hex((const char *)buf, KEY_BYTES, key->key) == 0) {
		/* hex form, as `openssl rand -hex 32` writes it */
	} else {
		snprintf(err, errsize, "key file %s must hold 32 bytes, or 64 hex characters", path);
		goto out;
	}
	sha256(key->key, KEY_BYTES, digest);
	to_hex(digest, KEY_ID_LEN / 2, key->id);
	rc = 0;
out:
	OPENSSL_cleanse(buf, sizeof buf);
	close(fd);
	return rc;
}

void seal_key_clear(struct seal_key *key)
{
	OPENSSL_cleanse(key, sizeof *key);
}

/* One AES-256-GCM pass: encrypt when tag_out is set, else decrypt and verify tag_in. */
static int gcm(const struct seal_key *key, const unsigned char *nonce,
	       const char *aad, const unsigned char *header,
	       const unsigned char *in, size_t len, unsigned char *out,
	       unsigned char *tag_out, const unsigned char *tag_in)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int enc = tag_out != NULL, n, ok = 0;

	if (ctx == NULL)
		return 0;
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key->key, nonce, enc) != 1 ||
	    EVP_CipherUpdate(ctx, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) != 1 ||
	    EVP_CipherUpdate(ctx, NULL, &n, header, SEAL_HEADER) != 1 ||
	    (len > 0 && EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1))
		goto out;
	if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, SEAL_TAG, (void *)tag_in) != 1)
		goto out;
	if (EVP_CipherFinal_ex(ctx, out + len, &n) != 1)
		goto out;
	if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, SEAL_TAG, tag_out) != 1)
		goto out;
	ok = 1;
out:
	EVP_CIPHER_CTX_free(ctx);
	return ok;
}

char *seal_to_bytea(const struct seal_key *key, const char *aad,
		    const char *plaintext, size_t len)
{
	size_t total = SEAL_OVERHEAD + len;
	unsigned char *blob = malloc(total);
	char *out = malloc(2 + 2 * total + 1);

	if (blob == NULL || out == NULL)
		goto fail;
	blob[0] = SEAL_VERSION;
	if (from_hex(key->id, SEAL_KEY_ID_BYTES, blob + 1) < 0 ||
	    random_bytes(blob + SEAL_HEADER, SEAL_NONCE) < 0)
		goto fail;
	unsigned char *cipher = blob + SEAL_HEADER + SEAL_NONCE;
	if (!gcm(key, blob + SEAL_HEADER, aad, blob, (const unsigned char *)plaintext, len,
		 cipher, cipher + len, NULL))
		goto fail;
	out[0] = '\\';
	out[1] = 'x';
	to_hex(blob, total, out + 2);
	free(blob);
	return out;
fail:
	free(blob);
	free(out);
	return NULL;
}

/* Decodes a "\x<hex>" envelope; NULL unless it is one.  *total gets its size. */
static unsigned char *envelope_decode(const char *bytea, size_t *total)
{
	unsigned char *blob;
	size_t hexlen;

	if (bytea == NULL || strncmp(bytea, "\\x", 2) != 0)
		return NULL;
	hexlen = strlen(bytea + 2);
	if (hexlen % 2 != 0 || hexlen / 2 < SEAL_OVERHEAD)
		return NULL;
	*total = hexlen / 2;
	blob = malloc(*total);
	if (blob == NULL || from_hex(bytea + 2, *total, blob) < 0 || blob[0] != SEAL_VERSION) {
		free(blob);
		return NULL;
	}
	return blob;
}

int sealed_key_id(const char *bytea, char out[KEY_ID_LEN + 1])
{
	size_t total;
	unsigned char *blob = envelope_decode(bytea, &total);

	if (blob == NULL)
		return -1;
	to_hex(blob + 1, SEAL_KEY_ID_BYTES, out);
	free(blob);
	return 0;
}

char *open_from_bytea(const struct seal_key *key, const char *aad, const char *bytea)
{
	char id[KEY_ID_LEN + 1];
	size_t total, len;
	unsigned char *blob = envelope_decode(bytea, &total);
	char *plain = NULL;

	if (blob == NULL)
		return NULL;
	to_hex(blob + 1, SEAL_KEY_ID_BYTES, id);
	len = total - SEAL_OVERHEAD;
	if (strcmp(id, key->id) != 0 || (plain = malloc(len + 1)) == NULL)
		goto fail;
	const unsigned char *cipher = blob + SEAL_HEADER + SEAL_NONCE;
	if (!gcm(key, blob + SEAL_HEADER, aad, blob, cipher, len, (unsigned char *)plain, NULL,
		 cipher + len))
		goto fail;
	plain[len] = '\0';
	free(blob);
	return plain;
fail:
	free(blob);
	/* A failed tag check has already written unauthenticated plaintext here. */
	if (plain != NULL)
		OPENSSL_cleanse(plain, len);
	free(plain);
	return NULL;
}

int token_generate(char out[TOKEN_LEN + 1])
{
	unsigned char raw[TOKEN_RANDOM_BYTES];

	if (random_bytes(raw, sizeof raw) < 0)
		return -1;
	memcpy(out, TOKEN_PREFIX, 4);
	to_hex(raw, sizeof raw, out + 4);
	OPENSSL_cleanse(raw, sizeof raw);
	return 0;
}

void token_hash_bytea(const char *s, size_t len, char out[2 + 2 * SHA256_BYTES + 1])
{
	unsigned char digest[SHA256_BYTES];

	sha256(s, len, digest);
	out[0] = '\\';
	out[1] = 'x';
	to_hex(digest, sizeof digest, out + 2);
}

int pem_certificates_valid(const char *pem, size_t len, char *err, size_t errsize)
{
	BIO *bio;
	int count = 0, ok = 0;
	X509 *cert;

	/* A pasted private key would be stored in the clear: refuse it outright. */
	if (memmem(pem, len, "PRIVATE KEY-----", 16) != NULL) {
		snprintf(err, errsize, "tls_cert must not contain a private key");
		return 0;
	}
	bio = BIO_new_mem_buf(pem, (int)len);
	if (bio == NULL) {
		snprintf(err, errsize, "out of memory checking tls_cert");
		return 0;
	}
	while ((cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		X509_free(cert);
		count++;
	}
	/* Reading stops at the end (no start line) or at a damaged block. */
	unsigned long e = ERR_peek_last_error();
	if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE && count > 0)
		ok = 1;
	ERR_clear_error();
	BIO_free(bio);
	if (!ok)
		snprintf(err, errsize, count == 0
			 ? "tls_cert must be one or more PEM X.509 certificates (-----BEGIN CERTIFICATE-----)"
			 : "tls_cert contains a damaged PEM certificate");
	return ok;
}

void secret_free(char *s)
{
	if (s != NULL) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}
