// SPDX-License-Identifier: GPL-2.0-only
/* SRP-6a client (RFC 5054 groups, SHA-1 or SHA-512) on OpenSSL BIGNUM, for HomeKit/AirPlay 2 pair-setup. */
#include <errno.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txpace/srp.h"

/* RFC 5054 Appendix A, the 1024-bit group (g = 2); the 3072-bit one is OpenSSL's RFC 3526 prime */
static const char srp_n1024[] =
	"EEAF0AB9ADB38DD69C33F80AFA8FC5E86072618775FF3C0B9EA2314C9C256576D674DF7496EA81D3383B4813"
	"D692C6E0E0D5D8E250B98BE48E495C1D6089DAD15DC7D7B46154D6B6CE8EF4AD69B15D4982559B297BCF1885"
	"C529F566660E57EC68EDBC3C05726CC02FD4CBF4976EAA9AFD5138FE8376435B9FC61D2FC0EB06E3";

struct srp_client {
	const EVP_MD *md;
	size_t nlen, hlen;
	BN_CTX *bn;
	BIGNUM *N, *g, *a;
	char *user, *pass;
	int started;
	int a_fixed;	/* srp_client_set_private: never redrawn */
	int minimal;	/* hash A, B and S without leading zero bytes (srp_client_set_minimal) */
	uint8_t A[SRP_MAX_N], S[SRP_MAX_N];
	uint8_t K[SRP_MAX_HASH], M1[SRP_MAX_HASH], M2[SRP_MAX_HASH];
	uint8_t x[SRP_MAX_HASH], k[SRP_MAX_HASH], u[SRP_MAX_HASH];
};

struct srp_part {
	const void *p;
	size_t len;
};

static void srp_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

size_t srp_group_len(enum srp_group group)
{
	return group == SRP_GROUP_3072 ? 384 : 128;
}

size_t srp_hash_len(enum srp_hash hash)
{
	return hash == SRP_SHA512 ? 64 : 20;
}

/* H(part | part | ...) into @out (hlen bytes) */
static int srp_hash(const struct srp_client *c, uint8_t *out, const struct srp_part *parts, int n)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int i, ok = ctx && EVP_DigestInit_ex(ctx, c->md, NULL) == 1;

	for (i = 0; ok && i < n; i++) {
		ok = EVP_DigestUpdate(ctx, parts[i].p, parts[i].len) == 1;
	}
	ok = ok && EVP_DigestFinal_ex(ctx, out, NULL) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -EIO;
}

/* BIGNUM -> big-endian, left-padded to @len */
static int srp_pad(const BIGNUM *v, uint8_t *out, size_t len)
{
	return BN_bn2binpad(v, out, (int)len) == (int)len ? 0 : -EIO;
}

struct srp_client *srp_client_new(enum srp_group group, enum srp_hash hash, const char *user,
				  const char *pass, char *err, size_t errlen)
{
	struct srp_client *c = calloc(1, sizeof(*c));
	uint8_t a[32];

	if (!c) {
		srp_err(err, errlen, "out of memory");
		return NULL;
	}
	c->md = hash == SRP_SHA512 ? EVP_sha512() : EVP_sha1();
	c->nlen = srp_group_len(group);
	c->hlen = srp_hash_len(hash);
	c->bn = BN_CTX_new();
	c->g = BN_new();
	c->a = BN_secure_new();
	c->user = strdup(user ? user : "");
	c->pass = strdup(pass ? pass : "");
	if (group == SRP_GROUP_3072) {
		c->N = BN_get_rfc3526_prime_3072(NULL);
	} else {
		BN_hex2bn(&c->N, srp_n1024);
	}
	if (!c->md || !c->bn || !c->g || !c->a || !c->user || !c->pass || !c->N ||
	    (size_t)BN_num_bytes(c->N) != c->nlen ||
	    BN_set_word(c->g, group == SRP_GROUP_3072 ? 5 : 2) != 1 ||
	    RAND_bytes(a, sizeof(a)) != 1 || !BN_bin2bn(a, sizeof(a), c->a)) {
		srp_err(err, errlen, "SRP: OpenSSL could not set up the group");
		srp_client_free(c);
		c = NULL;
	}
	OPENSSL_cleanse(a, sizeof(a));
	return c;
}

void srp_client_free(struct srp_client *c)
{
	if (!c) {
		return;
	}
	BN_CTX_free(c->bn);
	BN_free(c->N);
	BN_free(c->g);
	BN_clear_free(c->a);
	if (c->pass) {
		OPENSSL_cleanse(c->pass, strlen(c->pass));
	}
	free(c->pass);
	free(c->user);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

int srp_client_set_private(struct srp_client *c, const uint8_t *a, size_t len)
{
	if (c->started || len == 0 || len > SRP_MAX_N || !BN_bin2bn(a, (int)len, c->a) ||
	    BN_is_zero(c->a)) {
		return -EINVAL;
	}
	c->a_fixed = 1;
	return 0;
}

/* x = H(s | H(I ":" P)), k = H(N | PAD(g)), A = g^a */
static int srp_client_xka(struct srp_client *c, const uint8_t *salt, size_t salt_len)
{
	uint8_t inner[SRP_MAX_HASH], gpad[SRP_MAX_N];
	BIGNUM *A = BN_new();
	int rc = -EIO;

	struct srp_part ip[] = { { c->user, strlen(c->user) }, { ":", 1 }, { c->pass, strlen(c->pass) } };
	struct srp_part xp[] = { { salt, salt_len }, { inner, c->hlen } };
	uint8_t npad[SRP_MAX_N];
	struct srp_part kp[] = { { npad, c->nlen }, { gpad, c->nlen } };

	if (!A || srp_hash(c, inner, ip, 3) < 0 || srp_hash(c, c->x, xp, 2) < 0 ||
	    srp_pad(c->N, npad, c->nlen) < 0 || srp_pad(c->g, gpad, c->nlen) < 0 ||
	    srp_hash(c, c->k, kp, 2) < 0) {
		goto out;
	}
	BN_set_flags(c->a, BN_FLG_CONSTTIME);
	if (BN_mod_exp(A, c->g, c->a, c->N, c->bn) != 1 || srp_pad(A, c->A, c->nlen) < 0) {
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(inner, sizeof(inner));
	BN_free(A);
	return rc;
}

/* S = (B - k g^x)^(a + u x) mod N */
static int srp_client_premaster(struct srp_client *c, const BIGNUM *B)
{
	BIGNUM *x = BN_secure_new(), *k = BN_new(), *u = BN_new(), *t = BN_secure_new();
	BIGNUM *base = BN_secure_new(), *e = BN_secure_new(), *S = BN_secure_new();
	int rc = -EIO;

	if (!x || !k || !u || !t || !base || !e || !S ||
	    !BN_bin2bn(c->x, (int)c->hlen, x) || !BN_bin2bn(c->k, (int)c->hlen, k) ||
	    !BN_bin2bn(c->u, (int)c->hlen, u)) {
		goto out;
	}
	BN_set_flags(x, BN_FLG_CONSTTIME);
	BN_set_flags(e, BN_FLG_CONSTTIME);
	if (BN_mod_exp(t, c->g, x, c->N, c->bn) != 1 || BN_mod_mul(t, k, t, c->N, c->bn) != 1 ||
	    BN_mod_sub(base, B, t, c->N, c->bn) != 1 || BN_mul(e, u, x, c->bn) != 1 ||
	    BN_add(e, e, c->a) != 1 || BN_mod_exp(S, base, e, c->N, c->bn) != 1 ||
	    srp_pad(S, c->S, c->nlen) < 0) {
		goto out;
	}
	rc = 0;
out:
	BN_clear_free(x);
	BN_free(k);
	BN_free(u);
	BN_clear_free(t);
	BN_clear_free(base);
	BN_clear_free(e);
	BN_clear_free(S);
	return rc;
}

/* The leading zero bytes of an @n-byte number at @v that minimal mode leaves out of a hash. */
static size_t srp_skip(const struct srp_client *c, const uint8_t *v, size_t n)
{
	size_t z = 0;

	while (c->minimal && z + 1 < n && v[z] == 0) {
		z++;
	}
	return z;
}

/*
 * K = H(PAD(S)), M1 = H(H(N) xor H(g) | H(I) | s | A | B | K), M2 = H(A | M1 | K); in minimal
 * mode A, B and S go into these hashes without their leading zero bytes
 */
static int srp_client_proofs(struct srp_client *c, const uint8_t *salt, size_t salt_len,
			     const uint8_t *Bpad)
{
	uint8_t hn[SRP_MAX_HASH], hg[SRP_MAX_HASH], hi[SRP_MAX_HASH], npad[SRP_MAX_N], g;
	size_t i, sa = srp_skip(c, c->A, c->nlen), sb = srp_skip(c, Bpad, c->nlen);
	size_t ss = srp_skip(c, c->S, c->nlen);

	g = (uint8_t)BN_get_word(c->g);
	struct srp_part sp[] = { { c->S + ss, c->nlen - ss } };
	struct srp_part np[] = { { npad, c->nlen } };
	struct srp_part gp[] = { { &g, 1 } };
	struct srp_part up[] = { { c->user, strlen(c->user) } };
	struct srp_part mp[] = { { hn, c->hlen }, { hi, c->hlen }, { salt, salt_len },
				 { c->A + sa, c->nlen - sa }, { Bpad + sb, c->nlen - sb },
				 { c->K, c->hlen } };
	struct srp_part m2p[] = { { c->A + sa, c->nlen - sa }, { c->M1, c->hlen },
				  { c->K, c->hlen } };

	if (srp_pad(c->N, npad, c->nlen) < 0 || srp_hash(c, c->K, sp, 1) < 0 ||
	    srp_hash(c, hn, np, 1) < 0 || srp_hash(c, hg, gp, 1) < 0 || srp_hash(c, hi, up, 1) < 0) {
		return -EIO;
	}
	for (i = 0; i < c->hlen; i++) {
		hn[i] ^= hg[i];
	}
	if (srp_hash(c, c->M1, mp, 6) < 0 || srp_hash(c, c->M2, m2p, 3) < 0) {
		return -EIO;
	}
	return 0;
}

int srp_client_set_minimal(struct srp_client *c, int on)
{
	if (c->started) {
		return -EINVAL;
	}
	c->minimal = !!on;
	return 0;
}

int srp_client_ambiguous(const struct srp_client *c)
{
	return c->started && (c->A[0] == 0 || c->S[0] == 0);
}

int srp_client_start(struct srp_client *c, const uint8_t *salt, size_t salt_len, const uint8_t *B,
		     size_t B_len, char *err, size_t errlen)
{
	uint8_t Bpad[SRP_MAX_N];
	BIGNUM *Bn = NULL, *r = NULL;
	int rc = -EINVAL;

	if (c->started) {
		srp_err(err, errlen, "SRP: the exchange has been started already");
		return -EINVAL;
	}
	if (B_len == 0 || B_len > c->nlen) {
		srp_err(err, errlen, "SRP: the server's public key has %zu bytes (at most %zu)", B_len,
			c->nlen);
		return -EINVAL;
	}
	memset(Bpad, 0, sizeof(Bpad));
	memcpy(Bpad + c->nlen - B_len, B, B_len);
	Bn = BN_bin2bn(B, (int)B_len, NULL);
	r = BN_new();
	if (!Bn || !r || BN_mod(r, Bn, c->N, c->bn) != 1) {
		srp_err(err, errlen, "SRP: OpenSSL failed");
		rc = -EIO;
		goto out;
	}
	if (BN_is_zero(r)) {
		srp_err(err, errlen, "SRP: the server's public key is 0 mod N (a broken or hostile peer)");
		goto out;
	}
	struct srp_part uparts[] = { { c->A, c->nlen }, { Bpad, c->nlen } };

	/*
	 * A random a whose A or S begins with a zero byte is drawn again: then both hash
	 * conventions (srp_client_set_minimal) give the same proofs, and a server of either kind
	 * takes them at the first attempt (a retry would need a new connection: shairport-sync
	 * refuses every later pair-setup on a connection once one failed).
	 */
	for (int draw = 0;; draw++) {
		uint8_t a[32];

		rc = -EIO;
		if (srp_client_xka(c, salt, salt_len) < 0 || srp_hash(c, c->u, uparts, 2) < 0) {
			srp_err(err, errlen, "SRP: OpenSSL failed");
			goto out;
		}
		BN_bin2bn(c->u, (int)c->hlen, r);
		if (BN_is_zero(r)) {
			srp_err(err, errlen, "SRP: the scrambler u is 0 (a broken or hostile peer)");
			rc = -EINVAL;
			goto out;
		}
		if (srp_client_premaster(c, Bn) < 0) {
			srp_err(err, errlen, "SRP: OpenSSL failed");
			goto out;
		}
		if (c->a_fixed || draw >= 16 || (c->A[0] != 0 && c->S[0] != 0)) {
			break;
		}
		if (RAND_bytes(a, sizeof(a)) != 1 || !BN_bin2bn(a, sizeof(a), c->a)) {
			OPENSSL_cleanse(a, sizeof(a));
			srp_err(err, errlen, "SRP: OpenSSL failed");
			goto out;
		}
		OPENSSL_cleanse(a, sizeof(a));
	}
	if (srp_client_proofs(c, salt, salt_len, Bpad) < 0) {
		srp_err(err, errlen, "SRP: OpenSSL failed");
		goto out;
	}
	c->started = 1;
	rc = 0;
out:
	BN_free(Bn);
	BN_free(r);
	return rc;
}

/* a minimal big-endian copy of @len bytes (leading zeros dropped, at least one byte) */
static int srp_copy_min(const uint8_t *v, size_t len, uint8_t *out, size_t cap)
{
	while (len > 1 && v[0] == 0) {
		v++;
		len--;
	}
	if (len > cap) {
		return -ENOSPC;
	}
	memcpy(out, v, len);
	return (int)len;
}

int srp_client_value(const struct srp_client *c, enum srp_value v, uint8_t *out, size_t cap)
{
	const uint8_t *p = NULL;
	size_t len = 0;

	if (v == SRP_VAL_PRIV) {
		int n = BN_num_bytes(c->a);

		if ((size_t)n > cap) {
			return -ENOSPC;
		}
		return BN_bn2bin(c->a, out);
	}
	if (!c->started) {
		return -EINVAL;
	}
	switch (v) {
	case SRP_VAL_A:
		p = c->A, len = c->nlen;
		break;
	case SRP_VAL_S:
		p = c->S, len = c->nlen;
		break;
	case SRP_VAL_M1:
		p = c->M1, len = c->hlen;
		break;
	case SRP_VAL_K:
		p = c->K, len = c->hlen;
		break;
	case SRP_VAL_X:
		return srp_copy_min(c->x, c->hlen, out, cap);
	case SRP_VAL_k:
		return srp_copy_min(c->k, c->hlen, out, cap);
	case SRP_VAL_U:
		return srp_copy_min(c->u, c->hlen, out, cap);
	default:
		return -EINVAL;
	}
	if (len > cap) {
		return -ENOSPC;
	}
	memcpy(out, p, len);
	return (int)len;
}

int srp_client_verify(const struct srp_client *c, const uint8_t *M2, size_t len, char *err,
		      size_t errlen)
{
	if (!c->started || len != c->hlen || CRYPTO_memcmp(M2, c->M2, len) != 0) {
		srp_err(err, errlen, "SRP: the server's proof does not match (it does not know the PIN)");
		return -EACCES;
	}
	return 0;
}
