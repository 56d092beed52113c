// SPDX-License-Identifier: GPL-2.0-only
/* HomeKit / AirPlay 2 pair-setup (transient M1-M4, PIN M1-M6) and pair-verify (M1-M4) over a caller's POST. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "txpace/aead.h"
#include "txpace/log.h"
#include "txpace/pair.h"
#include "txpace/srp.h"
#include "txpace/tlv8.h"

#define PAIR_BODY_MAX	1024
#define PAIR_RESP_MAX	4096

/* one pairing run: the transport, the caller's error line, the last reply */
struct pair_run {
	const struct pair_transport *t;
	const char *what;	/* "pair-setup", "pair-verify" */
	int transient;		/* transient pair-setup (a 470 then means: pair with a PIN) */
	char *err;
	size_t errlen;
	uint8_t resp[PAIR_RESP_MAX];
	size_t resp_len;
};

static const char *pair_name(const struct pair_run *r)
{
	return r->t->name && r->t->name[0] ? r->t->name : "the receiver";
}

static void pair_err(struct pair_run *r, const char *fmt, ...)
{
	va_list ap;

	if (!r->err || !r->errlen) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(r->err, r->errlen, fmt, ap);
	va_end(ap);
}

/* a kTLVError_* in reply to M(state - 1): the errno and a line that says what to do */
static int pair_tlv_error(struct pair_run *r, int code, int state)
{
	const char *n = pair_name(r);

	switch (code) {
	case TLV8_ERR_AUTHENTICATION:
		if (strcmp(r->what, "pair-verify") == 0) {
			pair_err(r, "%s no longer knows this sender (its pairing was removed or reset): "
				 "pair again with `txpace pair %s`", n, n);
		} else if (state == 4) {
			pair_err(r, "wrong PIN for %s: check the PIN it shows or was set up with and run "
				 "`txpace pair %s` again", n, n);
		} else {
			pair_err(r, "%s refused our identity at %s M%d (authentication): run `txpace pair %s` again",
				 n, r->what, state, n);
		}
		return -EACCES;
	case TLV8_ERR_BACKOFF: {
		uint8_t d[8] = { 0 };
		unsigned long s = 0;
		int i, dn = tlv8_get(r->resp, r->resp_len, TLV8_RETRY_DELAY, d, sizeof(d));

		for (i = dn - 1; i >= 0; i--) {
			s = s << 8 | d[i];	/* little-endian */
		}
		if (dn > 0 && dn <= 4) {
			pair_err(r, "%s asks to wait %lu s before pairing again: retry then", n, s);
		} else {
			pair_err(r, "%s asks to back off before pairing again: wait and retry", n);
		}
		return -EAGAIN;
	}
	case TLV8_ERR_MAX_PEERS:
		pair_err(r, "%s has no room for another pairing: remove one on the receiver (e.g. in the "
			 "Home app) and try again", n);
		return -ENOSPC;
	case TLV8_ERR_MAX_TRIES:
		pair_err(r, "%s refuses pairing after too many failed attempts: restart it, then try again", n);
		return -EPERM;
	case TLV8_ERR_UNAVAILABLE:
		pair_err(r, "%s is already paired with another controller: reset its pairing (or remove it "
			 "from the Home app), then run `txpace pair %s`", n, n);
		return -EBUSY;
	case TLV8_ERR_BUSY:
		pair_err(r, "%s is pairing with another controller right now: try again in a moment", n);
		return -EBUSY;
	default:
		pair_err(r, "%s refused %s at M%d (TLV error %d, %s)", n, r->what, state, code,
			 tlv8_error_name(code));
		return -EPROTO;
	}
}

/* POST @body, expect a TLV8 reply in @state; errors become the caller's line */
static int pair_exchange(struct pair_run *r, const char *path, const uint8_t *body, size_t len,
			 int state)
{
	int status = 0, rc, code, got;

	if (txp_stopped(r->t->stop)) {
		pair_err(r, "%s stopped", r->what);
		return -EINTR;
	}
	pr_debug("%s: M%d to %s (%zu bytes)", r->what, state - 1, path, len);
	r->resp_len = 0;
	rc = r->t->post(r->t->ctx, path, body, len, r->resp, sizeof(r->resp), &r->resp_len, &status);
	if (rc < 0) {
		pair_err(r, "%s M%d to %s failed: %s", r->what, state - 1, pair_name(r), strerror(-rc));
		return rc;
	}
	if (r->resp_len > sizeof(r->resp)) {
		r->resp_len = sizeof(r->resp);
	}
	if (status == 470 && r->transient) {
		pair_err(r, "%s wants PIN pairing: run `txpace pair %s` and enter the PIN it shows",
			 pair_name(r), pair_name(r));
		return -ENOTSUP;
	}
	if (status == 470) {
		pair_err(r, "%s refused %s with a PIN too (470): it may want HomeKit pairing through "
			 "Apple's Home app, which txpace does not do", pair_name(r), r->what);
		return -ENOTSUP;
	}
	code = tlv8_check(r->resp, r->resp_len) == 0 ?
		       tlv8_get_u8(r->resp, r->resp_len, TLV8_ERROR) : -EBADMSG;
	if (code >= 0) {
		return pair_tlv_error(r, code, state);
	}
	if (status != 200) {
		pair_err(r, "%s answered %s M%d with status %d", pair_name(r), r->what, state - 1, status);
		return -EPROTO;
	}
	got = tlv8_get_u8(r->resp, r->resp_len, TLV8_STATE);
	if (got != state) {
		pair_err(r, "%s answered %s M%d with %s (state %d, expected %d)", pair_name(r), r->what,
			 state - 1, got < 0 ? "no valid TLV8" : "the wrong step", got, state);
		return -EPROTO;
	}
	return 0;
}

/* the reply's item @type, exactly @len bytes (or 1..@len when @exact is 0) */
static int pair_item(struct pair_run *r, uint8_t type, uint8_t *out, size_t len, int exact,
		     const char *label)
{
	int n = tlv8_get(r->resp, r->resp_len, type, out, len);

	if (n <= 0 || (exact && (size_t)n != len)) {
		pair_err(r, "%s sent a %s reply without a valid %s", pair_name(r), r->what, label);
		return -EPROTO;
	}
	return n;
}

/*
 * M1-M4: SRP with "Pair-Setup" and @pin; @K the 64-byte session key. @minimal: the hash
 * convention (srp.h); @ambiguous set when a refusal may be the other convention's
 */
static int pair_srp_once(struct pair_run *r, const char *pin, int transient, int minimal,
			 int *ambiguous, uint8_t K[64])
{
	uint8_t body[PAIR_BODY_MAX], salt[64], B[SRP_MAX_N], A[SRP_MAX_N], M[SRP_MAX_HASH];
	struct tlv8_writer w;
	struct srp_client *c = NULL;
	int rc, slen, blen, alen, mlen;

	tlv8_writer_init(&w, body, sizeof(body));
	tlv8_put_u8(&w, TLV8_METHOD, 0);
	tlv8_put_u8(&w, TLV8_STATE, 1);
	if (transient) {
		tlv8_put_u8(&w, TLV8_FLAGS, 0x10);
	}
	rc = pair_exchange(r, "/pair-setup", body, w.len, 2);
	if (rc < 0) {
		return rc;
	}
	if ((slen = pair_item(r, TLV8_SALT, salt, sizeof(salt), 0, "salt")) < 0 ||
	    (blen = pair_item(r, TLV8_PUBLIC_KEY, B, sizeof(B), 0, "public key")) < 0) {
		return -EPROTO;
	}
	c = srp_client_new(SRP_GROUP_3072, SRP_SHA512, "Pair-Setup", pin, r->err, r->errlen);
	if (!c) {
		return -ENOMEM;
	}
	/* a B sent without its leading zero byte says which convention this server hashes with */
	if (blen < (int)srp_group_len(SRP_GROUP_3072)) {
		minimal = 1;
	}
	srp_client_set_minimal(c, minimal);
	rc = srp_client_start(c, salt, (size_t)slen, B, (size_t)blen, r->err, r->errlen);
	if (rc < 0) {
		goto out;
	}
	*ambiguous = srp_client_ambiguous(c) && blen == (int)srp_group_len(SRP_GROUP_3072) &&
		     B[0] != 0;
	alen = srp_client_value(c, SRP_VAL_A, A, sizeof(A));
	mlen = srp_client_value(c, SRP_VAL_M1, M, sizeof(M));
	tlv8_writer_init(&w, body, sizeof(body));
	tlv8_put_u8(&w, TLV8_STATE, 3);
	tlv8_put(&w, TLV8_PUBLIC_KEY, A, (size_t)alen);
	tlv8_put(&w, TLV8_PROOF, M, (size_t)mlen);
	rc = pair_exchange(r, "/pair-setup", body, w.len, 4);
	if (rc < 0) {
		goto out;
	}
	mlen = tlv8_get(r->resp, r->resp_len, TLV8_PROOF, M, sizeof(M));
	rc = srp_client_verify(c, M, mlen < 0 ? 0 : (size_t)mlen, r->err, r->errlen);
	if (rc < 0) {
		pair_err(r, "%s does not prove it knows the PIN (SRP M2): not the receiver it claims to be",
			 pair_name(r));
		goto out;
	}
	srp_client_value(c, SRP_VAL_K, K, 64);
out:
	srp_client_free(c);
	return rc;
}

/*
 * pair_srp_once, padded first; once more with the other convention when the server refused a
 * proof that depended on it (our A or S began with a zero byte: ~3 sessions in 256).
 */
static int pair_srp(struct pair_run *r, const char *pin, int transient, uint8_t K[64])
{
	int ambiguous = 0;
	int rc = pair_srp_once(r, pin, transient, 0, &ambiguous, K);

	if (rc == -EACCES && ambiguous) {
		pr_debug("pair-setup: %s refused a proof whose numbers began with a zero byte; "
			 "again, hashing them without it", pair_name(r));
		ambiguous = 0;
		rc = pair_srp_once(r, pin, transient, 1, &ambiguous, K);
	}
	return rc;
}

int pair_setup_transient(const struct pair_transport *t, uint8_t key[64], char *err, size_t errlen)
{
	struct pair_run r = { .t = t, .what = "pair-setup", .transient = 1, .err = err,
			      .errlen = errlen };
	int rc = pair_srp(&r, PAIR_TRANSIENT_PIN, 1, key);

	if (rc == 0) {
		pr_debug("pair-setup: transient pairing with %s done", pair_name(&r));
	}
	return rc;
}

/* HKDF-SHA512(@K, @salt, @info) -> 32 bytes */
static int pair_hkdf(const uint8_t *K, size_t klen, const char *salt, const char *info, uint8_t out[32])
{
	return aead_hkdf_sha512(K, klen, salt, strlen(salt), info, strlen(info), out, 32);
}

/* an identifier from the network: printable, no spaces, fits PAIR_ID_MAX */
static int pair_id_ok(const uint8_t *id, int len)
{
	int i;

	if (len <= 0 || len >= PAIR_ID_MAX) {
		return 0;
	}
	for (i = 0; i < len; i++) {
		if (id[i] <= ' ' || id[i] > '~') {
			return 0;
		}
	}
	return 1;
}

/* M5: our identifier, key and signature, encrypted; returns the TLV length in @body */
static int pair_m5(struct pair_run *r, const struct pair_identity *me, const uint8_t K[64],
		   const uint8_t key[32], uint8_t *body, size_t cap)
{
	uint8_t info[32 + PAIR_ID_MAX + 32], sig[64], sub[256], nonce[12];
	size_t idlen = strlen(me->id), ilen = 32 + idlen + 32;
	struct tlv8_writer w;

	if (idlen == 0 || idlen >= PAIR_ID_MAX ||
	    pair_hkdf(K, 64, "Pair-Setup-Controller-Sign-Salt", "Pair-Setup-Controller-Sign-Info",
		      info) < 0) {
		pair_err(r, "pair-setup: our identity is unusable (id '%s')", me->id);
		return -EINVAL;
	}
	memcpy(info + 32, me->id, idlen);
	memcpy(info + 32 + idlen, me->pk, 32);
	if (aead_ed25519_sign(me->sk, info, ilen, sig) < 0) {
		return -EIO;
	}
	tlv8_writer_init(&w, sub, sizeof(sub) - AEAD_TAG_LEN);
	tlv8_put(&w, TLV8_IDENTIFIER, me->id, idlen);
	tlv8_put(&w, TLV8_PUBLIC_KEY, me->pk, 32);
	tlv8_put(&w, TLV8_SIGNATURE, sig, 64);
	aead_nonce_label(nonce, "PS-Msg05");
	if (w.err || aead_seal(key, nonce, NULL, 0, sub, w.len, sub) < 0) {
		return -EIO;
	}
	size_t slen = w.len + AEAD_TAG_LEN;

	tlv8_writer_init(&w, body, cap);
	tlv8_put_u8(&w, TLV8_STATE, 5);
	tlv8_put(&w, TLV8_ENCRYPTED_DATA, sub, slen);
	return w.err ? w.err : (int)w.len;
}

/* M6: the accessory's identifier and key, its signature checked */
static int pair_m6(struct pair_run *r, const uint8_t K[64], const uint8_t key[32], struct pair_peer *peer)
{
	uint8_t enc[512], info[32 + PAIR_ID_MAX + 32], sig[64], nonce[12], id[PAIR_ID_MAX];
	int n, idlen;

	n = pair_item(r, TLV8_ENCRYPTED_DATA, enc, sizeof(enc), 0, "encrypted data");
	aead_nonce_label(nonce, "PS-Msg06");
	if (n < 0 || aead_open(key, nonce, NULL, 0, enc, (size_t)n, enc) < 0) {
		pair_err(r, "%s sent a pair-setup M6 that does not decrypt", pair_name(r));
		return -EPROTO;
	}
	n -= AEAD_TAG_LEN;
	idlen = tlv8_get(enc, (size_t)n, TLV8_IDENTIFIER, id, sizeof(id));
	if (!pair_id_ok(id, idlen) || tlv8_get(enc, (size_t)n, TLV8_PUBLIC_KEY, peer->pk, 32) != 32 ||
	    tlv8_get(enc, (size_t)n, TLV8_SIGNATURE, sig, 64) != 64) {
		pair_err(r, "%s sent a pair-setup M6 without a valid identifier, key and signature",
			 pair_name(r));
		return -EPROTO;
	}
	memcpy(peer->id, id, (size_t)idlen);
	peer->id[idlen] = '\0';
	if (pair_hkdf(K, 64, "Pair-Setup-Accessory-Sign-Salt", "Pair-Setup-Accessory-Sign-Info",
		      info) < 0) {
		return -EIO;
	}
	memcpy(info + 32, id, (size_t)idlen);
	memcpy(info + 32 + idlen, peer->pk, 32);
	if (aead_ed25519_verify(peer->pk, info, 32 + (size_t)idlen + 32, sig) < 0) {
		pair_err(r, "%s signed pair-setup M6 wrongly: not the receiver it claims to be",
			 pair_name(r));
		return -EACCES;
	}
	return 0;
}

int pair_setup_pin(const struct pair_transport *t, const struct pair_identity *me, const char *pin,
		   struct pair_peer *peer, char *err, size_t errlen)
{
	struct pair_run r = { .t = t, .what = "pair-setup", .err = err, .errlen = errlen };
	uint8_t K[64], key[32], body[PAIR_BODY_MAX];
	int rc, len;

	memset(peer, 0, sizeof(*peer));
	rc = pair_srp(&r, pin, 0, K);
	if (rc < 0) {
		return rc;
	}
	rc = -EIO;
	if (pair_hkdf(K, 64, "Pair-Setup-Encrypt-Salt", "Pair-Setup-Encrypt-Info", key) < 0) {
		pair_err(&r, "pair-setup: HKDF-SHA512 failed (OpenSSL)");
		goto out;
	}
	len = pair_m5(&r, me, K, key, body, sizeof(body));
	if (len < 0) {
		rc = len;
		goto out;
	}
	rc = pair_exchange(&r, "/pair-setup", body, (size_t)len, 6);
	if (rc == 0) {
		rc = pair_m6(&r, K, key, peer);
	}
	if (rc == 0) {
		pr_info("paired with %s (its identifier %s)", pair_name(&r), peer->id);
	}
out:
	aead_wipe(K, sizeof(K));
	aead_wipe(key, sizeof(key));
	return rc;
}

/* verify M2: the accessory's ephemeral key, its identifier and signature (under the stored key) */
static int pair_verify_m2(struct pair_run *r, const struct pair_peer *peer, const uint8_t our_pk[32],
			  const uint8_t acc_pk[32], const uint8_t key[32])
{
	uint8_t enc[512], id[PAIR_ID_MAX], sig[64], info[32 + PAIR_ID_MAX + 32], nonce[12];
	int n, idlen;

	n = pair_item(r, TLV8_ENCRYPTED_DATA, enc, sizeof(enc), 0, "encrypted data");
	aead_nonce_label(nonce, "PV-Msg02");
	if (n < 0 || aead_open(key, nonce, NULL, 0, enc, (size_t)n, enc) < 0) {
		pair_err(r, "%s sent a pair-verify M2 that does not decrypt", pair_name(r));
		return -EPROTO;
	}
	n -= AEAD_TAG_LEN;
	idlen = tlv8_get(enc, (size_t)n, TLV8_IDENTIFIER, id, sizeof(id));
	if (!pair_id_ok(id, idlen) || tlv8_get(enc, (size_t)n, TLV8_SIGNATURE, sig, 64) != 64) {
		pair_err(r, "%s sent a pair-verify M2 without a valid identifier and signature",
			 pair_name(r));
		return -EPROTO;
	}
	if ((size_t)idlen != strlen(peer->id) || memcmp(id, peer->id, (size_t)idlen) != 0) {
		pair_err(r, "%s presents identifier %.*s, not %s it was paired as: pair again with "
			 "`txpace pair %s`", pair_name(r), idlen, (const char *)id, peer->id, pair_name(r));
		return -EACCES;
	}
	memcpy(info, acc_pk, 32);
	memcpy(info + 32, id, (size_t)idlen);
	memcpy(info + 32 + idlen, our_pk, 32);
	if (aead_ed25519_verify(peer->pk, info, 32 + (size_t)idlen + 32, sig) < 0) {
		pair_err(r, "%s's pair-verify signature is not from the key it was paired with: pair "
			 "again with `txpace pair %s`", pair_name(r), pair_name(r));
		return -EACCES;
	}
	return 0;
}

/* verify M3: our identifier and signature, encrypted */
static int pair_verify_m3(const struct pair_identity *me, const uint8_t our_pk[32],
			  const uint8_t acc_pk[32], const uint8_t key[32], uint8_t *body, size_t cap)
{
	uint8_t info[32 + PAIR_ID_MAX + 32], sig[64], sub[256], nonce[12];
	size_t idlen = strlen(me->id), slen;
	struct tlv8_writer w;

	if (idlen == 0 || idlen >= PAIR_ID_MAX) {
		return -EINVAL;
	}
	memcpy(info, our_pk, 32);
	memcpy(info + 32, me->id, idlen);
	memcpy(info + 32 + idlen, acc_pk, 32);
	if (aead_ed25519_sign(me->sk, info, 64 + idlen, sig) < 0) {
		return -EIO;
	}
	tlv8_writer_init(&w, sub, sizeof(sub) - AEAD_TAG_LEN);
	tlv8_put(&w, TLV8_IDENTIFIER, me->id, idlen);
	tlv8_put(&w, TLV8_SIGNATURE, sig, 64);
	aead_nonce_label(nonce, "PV-Msg03");
	if (w.err || aead_seal(key, nonce, NULL, 0, sub, w.len, sub) < 0) {
		return -EIO;
	}
	slen = w.len + AEAD_TAG_LEN;
	tlv8_writer_init(&w, body, cap);
	tlv8_put_u8(&w, TLV8_STATE, 3);
	tlv8_put(&w, TLV8_ENCRYPTED_DATA, sub, slen);
	return w.err ? w.err : (int)w.len;
}

int pair_verify(const struct pair_transport *t, const struct pair_identity *me,
		const struct pair_peer *peer, uint8_t secret[32], char *err, size_t errlen)
{
	struct pair_run r = { .t = t, .what = "pair-verify", .err = err, .errlen = errlen };
	uint8_t pk[32], sk[32], acc_pk[32], shared[32], key[32], body[PAIR_BODY_MAX];
	struct tlv8_writer w;
	int rc, len;

	if (aead_x25519_keypair(pk, sk) < 0) {
		pair_err(&r, "pair-verify: libsodium failed");
		return -EIO;
	}
	tlv8_writer_init(&w, body, sizeof(body));
	tlv8_put_u8(&w, TLV8_STATE, 1);
	tlv8_put(&w, TLV8_PUBLIC_KEY, pk, 32);
	rc = pair_exchange(&r, "/pair-verify", body, w.len, 2);
	if (rc < 0) {
		goto out;
	}
	rc = pair_item(&r, TLV8_PUBLIC_KEY, acc_pk, 32, 1, "public key");
	if (rc < 0) {
		goto out;
	}
	if (aead_x25519(shared, sk, acc_pk) < 0) {
		pair_err(&r, "%s sent a pair-verify key of low order (a broken or hostile peer)",
			 pair_name(&r));
		rc = -EPROTO;
		goto out;
	}
	rc = -EIO;
	if (pair_hkdf(shared, 32, "Pair-Verify-Encrypt-Salt", "Pair-Verify-Encrypt-Info", key) < 0) {
		pair_err(&r, "pair-verify: HKDF-SHA512 failed (OpenSSL)");
		goto out;
	}
	rc = pair_verify_m2(&r, peer, pk, acc_pk, key);
	if (rc < 0) {
		goto out;
	}
	len = pair_verify_m3(me, pk, acc_pk, key, body, sizeof(body));
	if (len < 0) {
		pair_err(&r, "pair-verify: our identity is unusable (id '%s')", me->id);
		rc = len;
		goto out;
	}
	rc = pair_exchange(&r, "/pair-verify", body, (size_t)len, 4);
	if (rc == 0) {
		memcpy(secret, shared, 32);
		pr_debug("pair-verify: %s verified", pair_name(&r));
	}
out:
	aead_wipe(sk, sizeof(sk));
	aead_wipe(shared, sizeof(shared));
	aead_wipe(key, sizeof(key));
	return rc;
}
