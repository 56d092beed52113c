// SPDX-License-Identifier: GPL-2.0-only
/* AirPlay 2 / HomeKit primitives: ChaCha20-Poly1305, Ed25519, X25519 (libsodium), HKDF-SHA512 (OpenSSL). */
#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <pthread.h>
#include <sodium.h>
#include <string.h>

#include "txpace/aead.h"

static int init_rc;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_sodium(void)
{
	/* it picks the fastest ChaCha20 and Poly1305 code */
	init_rc = sodium_init() < 0 ? -EIO : 0;
}

int aead_init(void)
{
	/*
	 * Once: sodium_init() takes a mutex on every call, and aead_seal runs for every audio
	 * packet; pthread_once costs a load after the first call
	 */
	pthread_once(&init_once, init_sodium);
	return init_rc;
}

int aead_seal(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
	      const uint8_t *in, size_t len, uint8_t *out)
{
	unsigned long long clen = 0;

	if (aead_init() < 0) {
		return -EIO;
	}
	if (crypto_aead_chacha20poly1305_ietf_encrypt(out, &clen, in, len, aad, aad_len, NULL,
						      nonce, key) != 0) {
		return -EIO;
	}
	return 0;
}

int aead_open(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
	      const uint8_t *in, size_t len, uint8_t *out)
{
	unsigned long long mlen = 0;

	if (len < AEAD_TAG_LEN) {
		return -EBADMSG;
	}
	if (aead_init() < 0) {
		return -EIO;
	}
	if (crypto_aead_chacha20poly1305_ietf_decrypt(out, &mlen, NULL, in, len, aad, aad_len,
						      nonce, key) != 0) {
		return -EBADMSG;
	}
	return 0;
}

void aead_nonce_counter(uint8_t nonce[12], uint64_t counter)
{
	int i;

	memset(nonce, 0, 4);
	for (i = 0; i < 8; i++) {
		nonce[4 + i] = (uint8_t)(counter >> (8 * i));
	}
}

void aead_nonce_label(uint8_t nonce[12], const char label[8])
{
	memset(nonce, 0, 4);
	memcpy(nonce + 4, label, 8);
}

int aead_hkdf_sha512(const uint8_t *ikm, size_t ikm_len, const void *salt, size_t salt_len,
		     const void *info, size_t info_len, uint8_t *out, size_t out_len)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[5], *p = params;
	int rc = -EIO;

	if (!ctx) {
		goto out;
	}
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA512", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len);
	/* an empty salt must still be passed: OpenSSL then uses HashLen zero bytes (RFC 5869) */
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)(salt ? salt : ""),
						 salt_len);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)(info ? info : ""),
						 info_len);
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, out_len, params) == 1) {
		rc = 0;
	}
out:
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return rc;
}

int aead_ed25519_from_seed(const uint8_t seed[32], uint8_t pk[32], uint8_t sk[64])
{
	if (aead_init() < 0 || crypto_sign_ed25519_seed_keypair(pk, sk, seed) != 0) {
		return -EIO;
	}
	return 0;
}

int aead_ed25519_sign(const uint8_t sk[64], const uint8_t *msg, size_t len, uint8_t sig[64])
{
	if (aead_init() < 0 || crypto_sign_ed25519_detached(sig, NULL, msg, len, sk) != 0) {
		return -EIO;
	}
	return 0;
}

int aead_ed25519_verify(const uint8_t pk[32], const uint8_t *msg, size_t len, const uint8_t sig[64])
{
	if (aead_init() < 0) {
		return -EIO;
	}
	return crypto_sign_ed25519_verify_detached(sig, msg, len, pk) == 0 ? 0 : -EBADMSG;
}

int aead_x25519_keypair(uint8_t pk[32], uint8_t sk[32])
{
	if (aead_init() < 0) {
		return -EIO;
	}
	randombytes_buf(sk, 32);
	return crypto_scalarmult_curve25519_base(pk, sk) == 0 ? 0 : -EIO;
}

int aead_x25519(uint8_t shared[32], const uint8_t sk[32], const uint8_t pk[32])
{
	if (aead_init() < 0) {
		return -EIO;
	}
	/* libsodium refuses a result of all zeros (a low-order public key) */
	return crypto_scalarmult_curve25519(shared, sk, pk) == 0 ? 0 : -EBADMSG;
}

int aead_memcmp(const void *a, const void *b, size_t len)
{
	return sodium_memcmp(a, b, len) == 0 ? 0 : 1;
}

void aead_wipe(void *p, size_t len)
{
	sodium_memzero(p, len);
}
