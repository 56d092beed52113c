/* SPDX-License-Identifier: GPL-2.0-only */
/* Crypto: random bytes, RAOP's RSA-OAEP key wrap and AES-128-CBC audio, base64 (OpenSSL). */
#ifndef TXPACE_CRYPTO_H
#define TXPACE_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/** @return 0 or -EIO */
int crypto_random(void *buf, size_t n);
/** Base64 of @n bytes without '=' padding (as RAOP SDP lines carry it). @return length */
size_t crypto_base64(const void *in, size_t n, char *out, size_t cap);
/**
 * Wrap a 16-byte AES key with RSA-OAEP (SHA-1) under the AirPort Express public key.
 * @out at least 256 bytes. @return the wrapped length (256) or -EIO
 */
int crypto_raop_wrap_key(const uint8_t key[16], uint8_t *out, size_t cap);

struct aes_cbc;

struct aes_cbc *aes_cbc_new(const uint8_t key[16], const uint8_t iv[16]);
void aes_cbc_free(struct aes_cbc *a);
/** Encrypt the first @len & ~15 bytes of @buf in place, the IV reset first (RAOP audio). */
int aes_cbc_encrypt_raop(struct aes_cbc *a, uint8_t *buf, size_t len);

#endif
