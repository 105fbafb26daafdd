/*
 * crypto.h - the secrets: the at-rest key, AES-256-GCM sealing of registry
 * credentials, API token generation and hashing, PEM certificate checks.
 * All of it is OpenSSL's libcrypto, which libpq already links.
 */
#ifndef IMAGEREG_CRYPTO_H
#define IMAGEREG_CRYPTO_H

#include <stddef.h>

#define KEY_BYTES 32
#define KEY_ID_LEN 16           /* hex characters */
#define SEAL_VERSION 1
#define SEAL_KEY_ID_BYTES (KEY_ID_LEN / 2)
#define SEAL_NONCE 12
#define SEAL_TAG 16
/* Envelope: version (1) || key id (8) || nonce (12) || ciphertext || tag (16). */
#define SEAL_HEADER (1 + SEAL_KEY_ID_BYTES)
#define SEAL_OVERHEAD (SEAL_HEADER + SEAL_NONCE + SEAL_TAG)
#define TOKEN_RANDOM_BYTES 32
#define TOKEN_PREFIX "irt_"
#define TOKEN_LEN (4 + 2 * TOKEN_RANDOM_BYTES)
#define SHA256_BYTES 32

struct seal_key {
	unsigned char key[KEY_BYTES];
	char id[KEY_ID_LEN + 1];        /* hex of SHA-256(key) prefix: names the key, reveals nothing */
};

/*
 * Loads a key file: 32 raw bytes, or 64 hex characters and an optional
 * newline.  Refuses a file that other users can read or write.  Returns 0, or
 * -1 with the reason in err.
 */
int seal_key_load(const char *path, struct seal_key *key, char *err, size_t errsize);

/* Wipes the key from memory. */
void seal_key_clear(struct seal_key *key);

/*
 * Seals plaintext[0..len) under key into the envelope above, authenticated
 * together with aad (the column name, so values cannot be swapped between
 * columns) and the header.  Returns a malloc'd PostgreSQL bytea text literal
 * "\x<hex>" that the caller frees, or NULL on failure.
 */
char *seal_to_bytea(const struct seal_key *key, const char *aad,
		    const char *plaintext, size_t len);

/*
 * Opens a bytea value as PostgreSQL returns it in text form ("\x...").
 * Returns the malloc'd NUL-terminated plaintext (caller frees), or NULL when
 * the value is damaged, altered or sealed under another key.
 */
char *open_from_bytea(const struct seal_key *key, const char *aad, const char *bytea);

/* Copies the key id (KEY_ID_LEN hex + NUL) of a sealed bytea text; 0 or -1. */
int sealed_key_id(const char *bytea, char out[KEY_ID_LEN + 1]);

/* The value of one hexadecimal digit (either case), or -1. */
int hex_value(char c);

/* Writes a new token (TOKEN_LEN chars + NUL) from getrandom(2).  0 or -1. */
int token_generate(char out[TOKEN_LEN + 1]);

/* SHA-256 of s as a bytea text literal "\x<64 hex>" in out (67 bytes). */
void token_hash_bytea(const char *s, size_t len, char out[2 + 2 * SHA256_BYTES + 1]);

/*
 * 1 when pem holds one or more PEM X.509 certificates (text around them is
 * ignored, as OpenSSL does) and no private key; otherwise 0 with the reason.
 */
int pem_certificates_valid(const char *pem, size_t len, char *err, size_t errsize);

/* Frees a string that held a secret after overwriting it; NULL is fine. */
void secret_free(char *s);

#endif
