/*
 * crypto.h — random bytes, SHA-256 and HMAC-SHA256 through OpenSSL.
 */
#ifndef PL_CRYPTO_H
#define PL_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/* Fills p with n cryptographically random bytes; 0 or PL_EINTERNAL. */
int util_random(void *p, size_t n);
void util_sha256(const void *p, size_t n, uint8_t out[32]);
void util_hmac_sha256(const void *key, size_t keylen, const void *p, size_t n, uint8_t out[32]);
/* Constant-time comparison. */
int util_ct_equal(const void *a, const void *b, size_t n);

#endif
