/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * AirPlay 2 / HomeKit primitives: ChaCha20-Poly1305-IETF (libsodium), HKDF-SHA512 (OpenSSL),
 * Ed25519 and X25519 (libsodium). Every call is allocation-free except aead_hkdf_sha512.
 */
#ifndef TXPACE_AEAD_H
#define TXPACE_AEAD_H

#include <stddef.h>
#include <stdint.h>

#define AEAD_KEY_LEN	32
#define AEAD_NONCE_LEN	12
#define AEAD_TAG_LEN	16
#define AEAD_ED_PK_LEN	32
#define AEAD_ED_SK_LEN	64	/* libsodium's form: seed | public key */
#define AEAD_ED_SIG_LEN	64
#define AEAD_X_LEN	32	/* X25519 keys and shared secrets */

/** Initialise libsodium once (every function below calls it). @return 0 or -EIO */
int aead_init(void);
/**
 * Encrypt @len bytes of @in to @out (@len + 16 bytes: ciphertext then tag); @out may equal @in.
 * @return 0 or -EIO
 */
int aead_seal(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
	      const uint8_t *in, size_t len, uint8_t *out);
/**
 * Decrypt @len bytes (ciphertext then 16-byte tag) of @in to @out (@len - 16 bytes); @out may
 * equal @in. @return 0, or -EBADMSG (bad tag or @len < 16)
 */
int aead_open(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
	      const uint8_t *in, size_t len, uint8_t *out);
/** The 12-byte nonce HomeKit and AirPlay use: 4 zero bytes + a 64-bit little-endian counter. */
void aead_nonce_counter(uint8_t nonce[12], uint64_t counter);
/** The nonce 4 zero bytes + an 8-byte string (pair-setup's "PS-Msg05", "PV-Msg02", ...). */
void aead_nonce_label(uint8_t nonce[12], const char label[8]);
/** HKDF-SHA512 (RFC 5869) of @ikm with @salt and @info into @out_len bytes. @return 0 or -EIO */
int aead_hkdf_sha512(const uint8_t *ikm, size_t ikm_len, const void *salt, size_t salt_len,
		     const void *info, size_t info_len, uint8_t *out, size_t out_len);
/** An Ed25519 key pair from a 32-byte seed. @return 0 or -EIO */
int aead_ed25519_from_seed(const uint8_t seed[32], uint8_t pk[32], uint8_t sk[64]);
int aead_ed25519_sign(const uint8_t sk[64], const uint8_t *msg, size_t len, uint8_t sig[64]);
/** @return 0, or -EBADMSG when the signature does not verify */
int aead_ed25519_verify(const uint8_t pk[32], const uint8_t *msg, size_t len, const uint8_t sig[64]);
/** A fresh X25519 key pair. @return 0 or -EIO */
int aead_x25519_keypair(uint8_t pk[32], uint8_t sk[32]);
/** The X25519 shared secret of our @sk and the peer's @pk. @return 0, or -EBADMSG (a low-order point) */
int aead_x25519(uint8_t shared[32], const uint8_t sk[32], const uint8_t pk[32]);
/** Constant-time comparison. @return 0 when equal */
int aead_memcmp(const void *a, const void *b, size_t len);
/** Wipe @len bytes (not optimised away). */
void aead_wipe(void *p, size_t len);

#endif
