// SPDX-License-Identifier: GPL-2.0-only
/* Crypto module: the only file that includes OpenSSL. */
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "txpace/crypto.h"

/* RSAPublicKey (PKCS#1 DER) of the AirPort Express key every RAOP receiver holds the other half of. */
static const unsigned char airport_pub[] =
	"\x30\x82\x01\x0a\x02\x82\x01\x01\x00\xe7\xd7\x44\xf2\xa2\xe2\x78\x8b\x6c\x1f\x55\xa0\x8e\xb7"
	"\x05\x44\xa8\xfa\x79\x45\xaa\x8b\xe6\xc6\x2c\xe5\xf5\x1c\xbd\xd4\xdc\x68\x42\xfe\x3d\x10\x83"
	"\xdd\x2e\xde\xc1\xbf\xd4\x25\x2d\xc0\x2e\x6f\x39\x8b\xdf\x0e\x61\x48\xea\x84\x85\x5e\x2e\x44"
	"\x2d\xa6\xd6\x26\x64\xf6\x74\xa1\xf3\x04\x92\x9a\xde\x4f\x68\x93\xef\x2d\xf6\xe7\x11\xa8\xc7"
	"\x7a\x0d\x91\xc9\xd9\x80\x82\x2e\x50\xd1\x29\x22\xaf\xea\x40\xea\x9f\x0e\x14\xc0\xf7\x69\x38"
	"\xc5\xf3\x88\x2f\xc0\x32\x3d\xd9\xfe\x55\x15\x5f\x51\xbb\x59\x21\xc2\x01\x62\x9f\xd7\x33\x52"
	"\xd5\xe2\xef\xaa\xbf\x9b\xa0\x48\xd7\xb8\x13\xa2\xb6\x76\x7f\x6c\x3c\xcf\x1e\xb4\xce\x67\x3d"
	"\x03\x7b\x0d\x2e\xa3\x0c\x5f\xff\xeb\x06\xf8\xd0\x8a\xdd\xe4\x09\x57\x1a\x9c\x68\x9f\xef\x10"
	"\x72\x88\x55\xdd\x8c\xfb\x9a\x8b\xef\x5c\x89\x43\xef\x3b\x5f\xaa\x15\xdd\xe6\x98\xbe\xdd\xf3"
	"\x59\x96\x03\xeb\x3e\x6f\x61\x37\x2b\xb6\x28\xf6\x55\x9f\x59\x9a\x78\xbf\x50\x06\x87\xaa\x7f"
	"\x49\x76\xc0\x56\x2d\x41\x29\x56\xf8\x98\x9e\x18\xa6\x35\x5b\xd8\x15\x97\x82\x5e\x0f\xc8\x75"
	"\x34\x3e\xc7\x82\x11\x76\x25\xcd\xbf\x98\x44\x7b\x02\x03\x01\x00\x01";

struct aes_cbc {
	EVP_CIPHER_CTX *ctx;
	uint8_t iv[16];
};

int crypto_random(void *buf, size_t n)
{
	return RAND_bytes(buf, (int)n) == 1 ? 0 : -EIO;
}

size_t crypto_base64(const void *in, size_t n, char *out, size_t cap)
{
	size_t len;

	if (cap < 4 * ((n + 2) / 3) + 1) {
		return 0;
	}
	len = (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	while (len > 0 && out[len - 1] == '=') {
		out[--len] = '\0';
	}
	return len;
}

int crypto_raop_wrap_key(const uint8_t key[16], uint8_t *out, size_t cap)
{
	const unsigned char *p = airport_pub;
	EVP_PKEY *pk = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, sizeof(airport_pub) - 1);
	EVP_PKEY_CTX *ctx = pk ? EVP_PKEY_CTX_new(pk, NULL) : NULL;
	size_t olen = cap;
	int rc = -EIO;

	if (ctx && EVP_PKEY_encrypt_init(ctx) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
	    EVP_PKEY_encrypt(ctx, out, &olen, key, 16) == 1) {
		rc = (int)olen;
	}
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return rc;
}

struct aes_cbc *aes_cbc_new(const uint8_t key[16], const uint8_t iv[16])
{
	struct aes_cbc *a = calloc(1, sizeof(*a));

	if (!a) {
		return NULL;
	}
	a->ctx = EVP_CIPHER_CTX_new();
	if (!a->ctx || EVP_EncryptInit_ex(a->ctx, EVP_aes_128_cbc(), NULL, key, iv) != 1) {
		aes_cbc_free(a);
		return NULL;
	}
	EVP_CIPHER_CTX_set_padding(a->ctx, 0);
	memcpy(a->iv, iv, 16);
	return a;
}

void aes_cbc_free(struct aes_cbc *a)
{
	if (!a) {
		return;
	}
	EVP_CIPHER_CTX_free(a->ctx);
	free(a);
}

int aes_cbc_encrypt_raop(struct aes_cbc *a, uint8_t *buf, size_t len)
{
	int out = 0;

	len &= ~(size_t)15;
	if (len == 0) {
		return 0;
	}
	if (EVP_EncryptInit_ex(a->ctx, NULL, NULL, NULL, a->iv) != 1 ||
	    EVP_EncryptUpdate(a->ctx, buf, &out, buf, (int)len) != 1 || (size_t)out != len) {
		return -EIO;
	}
	return 0;
}
