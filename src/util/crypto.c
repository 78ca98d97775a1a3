#include "util/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "util/err.h"

int util_random(void *p, size_t n)
{
	return RAND_bytes(p, (int)n) == 1 ? 0 : PL_EINTERNAL;
}

void util_sha256(const void *p, size_t n, uint8_t out[32])
{
	unsigned len = 32;
	EVP_Digest(p, n, out, &len, EVP_sha256(), NULL);
}

void util_hmac_sha256(const void *key, size_t keylen, const void *p, size_t n, uint8_t out[32])
{
	unsigned len = 32;
	HMAC(EVP_sha256(), key, (int)keylen, p, n, out, &len);
}

int util_ct_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}
