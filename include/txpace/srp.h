/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SRP-6a client (RFC 5054 / RFC 2945, as HomeKit and AirPlay 2 pair-setup use it), on OpenSSL
 * BIGNUM, parameterised by group and hash:
 *   x = H(s | H(I ":" P)), k = H(N | PAD(g)), u = H(PAD(A) | PAD(B)),
 *   S = (B - k g^x)^(a + u x) mod N, K = H(PAD(S)),
 *   M1 = H(H(N) xor H(g) | H(I) | s | PAD(A) | PAD(B) | K), M2 = H(PAD(A) | M1 | K).
 * (H(g) is over g's minimal bytes; A, B and S are padded to the length of N.)
 */
#ifndef TXPACE_SRP_H
#define TXPACE_SRP_H

#include <stddef.h>
#include <stdint.h>

enum srp_group {
	SRP_GROUP_1024,	/* RFC 5054 Appendix A 1024-bit, g = 2 (the Appendix B vectors) */
	SRP_GROUP_3072,	/* RFC 5054 Appendix A 3072-bit, g = 5 (HomeKit / AirPlay 2) */
};

enum srp_hash {
	SRP_SHA1,	/* 20 bytes */
	SRP_SHA512,	/* 64 bytes */
};

#define SRP_MAX_N	384	/* bytes of the largest group's N */
#define SRP_MAX_HASH	64

/* intermediate values, for known-answer tests (srp_client_value) */
enum srp_value {
	SRP_VAL_A,	/* public A, padded to N */
	SRP_VAL_M1,	/* our proof */
	SRP_VAL_K,	/* session key H(PAD(S)), hash length */
	SRP_VAL_X,	/* x, minimal big-endian */
	SRP_VAL_k,	/* multiplier k, minimal big-endian */
	SRP_VAL_U,	/* u, minimal big-endian */
	SRP_VAL_S,	/* premaster secret S, padded to N */
	SRP_VAL_PRIV,	/* private a, minimal big-endian */
};

struct srp_client;

/**
 * A client for @user / @pass (e.g. "Pair-Setup" / "3939") in @group with @hash. Draws a random
 * 256-bit private a (srp_client_set_private replaces it).
 * @return the client, or NULL with a line in @err
 */
struct srp_client *srp_client_new(enum srp_group group, enum srp_hash hash, const char *user,
				  const char *pass, char *err, size_t errlen);
void srp_client_free(struct srp_client *c);
/** Use a fixed private a (tests, known-answer vectors), before srp_client_start. @return 0, -EINVAL */
int srp_client_set_private(struct srp_client *c, const uint8_t *a, size_t len);
/*
 * Servers differ in how A, B and S enter M1, M2 and K: padded to the length of N (RFC 5054,
 * fast-srp-hap, HAP-NodeJS) or without leading zero bytes (shairport-sync's pairing code). They
 * agree unless one of those numbers has a leading zero byte (about 3 sessions in 256).
 * Minimal mode (before srp_client_start) hashes them without. @return 0, or -EINVAL once started
 */
int srp_client_set_minimal(struct srp_client *c, int on);
/** @return 1 when our A or S has a leading zero byte, so the convention matters (a retry may) */
int srp_client_ambiguous(const struct srp_client *c);
/**
 * The server's salt and public B in: computes A, u, S, K and M1. B % N == 0 (and a u of 0) are
 * refused. @return 0, -EINVAL (bad B, with a line in @err), -ENOMEM or -EIO
 */
int srp_client_start(struct srp_client *c, const uint8_t *salt, size_t salt_len, const uint8_t *B,
		     size_t B_len, char *err, size_t errlen);
/** Copy a value out (see enum srp_value). @return its length, or -ENOSPC / -EINVAL (not yet computed) */
int srp_client_value(const struct srp_client *c, enum srp_value v, uint8_t *out, size_t cap);
/** Check the server's proof M2 (constant time). @return 0, or -EACCES with a line in @err */
int srp_client_verify(const struct srp_client *c, const uint8_t *M2, size_t len, char *err,
		      size_t errlen);
/** Byte lengths of N and of the hash. */
size_t srp_group_len(enum srp_group group);
size_t srp_hash_len(enum srp_hash hash);

#endif
