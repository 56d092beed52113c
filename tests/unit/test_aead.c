// SPDX-License-Identifier: GPL-2.0-only
/*
 * The AirPlay 2 primitives: ChaCha20-Poly1305 against RFC 8439 2.8.2 (seal, open, in place, a
 * flipped bit, a wrong AAD), Ed25519 against RFC 8032 7.1 test 1, X25519 against RFC 7748 6.1,
 * and HKDF-SHA512 against RFC 5869's extract-then-expand built here from OpenSSL's HMAC (the
 * known answers from Python's hmac/hashlib are in tests/integration/test_pair.sh).
 */
#include <errno.h>
#include <openssl/hmac.h>
#include <string.h>

#include "txpace/aead.h"
#include "unit.h"

static const char PLAIN[] = "Ladies and Gentlemen of the class of '99: If I could offer you only one "
			    "tip for the future, sunscreen would be it.";
static const char CIPHER[] =
	"d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da"
	"92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585"
	"808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116";
static const char TAG[] = "1ae10b594f09e26a7e902ecbd0600691";

static size_t unhex(const char *h, uint8_t *out)
{
	size_t i, n = strlen(h) / 2;

	for (i = 0; i < n; i++) {
		sscanf(h + 2 * i, "%2hhx", &out[i]);
	}
	return n;
}

static void test_chacha(void)
{
	uint8_t key[32], nonce[12], aad[12], want[200], buf[200], out[200];
	size_t i, n = strlen(PLAIN), m;

	for (i = 0; i < 32; i++) {
		key[i] = (uint8_t)(0x80 + i);
	}
	unhex("070000004041424344454647", nonce);
	unhex("50515253c0c1c2c3c4c5c6c7", aad);
	m = unhex(CIPHER, want);
	unhex(TAG, want + m);
	CHECK_EQ(m, n);
	CHECK_EQ(aead_seal(key, nonce, aad, 12, (const uint8_t *)PLAIN, n, out), 0);
	CHECK(memcmp(out, want, n + 16) == 0);
	memcpy(buf, PLAIN, n);
	CHECK_EQ(aead_seal(key, nonce, aad, 12, buf, n, buf), 0);	/* in place */
	CHECK(memcmp(buf, want, n + 16) == 0);
	CHECK_EQ(aead_open(key, nonce, aad, 12, buf, n + 16, buf), 0);
	CHECK(memcmp(buf, PLAIN, n) == 0);
	memcpy(buf, want, n + 16);
	buf[5] ^= 0x10;
	CHECK_EQ(aead_open(key, nonce, aad, 12, buf, n + 16, out), -EBADMSG);
	buf[5] ^= 0x10;
	buf[n + 15] ^= 1;
	CHECK_EQ(aead_open(key, nonce, aad, 12, buf, n + 16, out), -EBADMSG);
	CHECK_EQ(aead_open(key, nonce, aad, 11, want, n + 16, out), -EBADMSG);
	CHECK_EQ(aead_open(key, nonce, aad, 12, want, 15, out), -EBADMSG);
	/* an empty message is just a tag */
	CHECK_EQ(aead_seal(key, nonce, NULL, 0, buf, 0, out), 0);
	CHECK_EQ(aead_open(key, nonce, NULL, 0, out, 16, buf), 0);
}

static void test_nonce(void)
{
	uint8_t n[12];

	aead_nonce_counter(n, 0x0102030405060708ULL);
	CHECK(memcmp(n, "\0\0\0\0\x08\x07\x06\x05\x04\x03\x02\x01", 12) == 0);
	aead_nonce_label(n, "PS-Msg05");
	CHECK(memcmp(n, "\0\0\0\0PS-Msg05", 12) == 0);
}

/* RFC 5869: PRK = HMAC(salt, IKM); T(i) = HMAC(PRK, T(i-1) | info | i) */
static void hkdf_ref(const uint8_t *ikm, size_t il, const uint8_t *salt, size_t sl,
		     const uint8_t *info, size_t nl, uint8_t *out, size_t ol)
{
	uint8_t prk[64], t[64], zero[64] = { 0 }, msg[64 + 256 + 1];
	unsigned int len = 0;
	size_t done = 0, tl = 0;
	uint8_t i = 1;

	HMAC(EVP_sha512(), sl ? salt : zero, sl ? (int)sl : 64, ikm, il, prk, &len);
	while (done < ol) {
		memcpy(msg, t, tl);
		memcpy(msg + tl, info, nl);
		msg[tl + nl] = i++;
		HMAC(EVP_sha512(), prk, 64, msg, tl + nl + 1, t, &len);
		tl = 64;
		memcpy(out + done, t, ol - done < 64 ? ol - done : 64);
		done += ol - done < 64 ? ol - done : 64;
	}
}

static void test_hkdf(void)
{
	static const size_t lens[] = { 32, 64, 65, 200 };
	uint8_t ikm[80], salt[80], info[80], got[200], want[200];
	size_t i, j;

	for (i = 0; i < sizeof(ikm); i++) {
		ikm[i] = (uint8_t)i, salt[i] = (uint8_t)(0x60 + i), info[i] = (uint8_t)(0xb0 + i);
	}
	for (i = 0; i < 4; i++) {
		for (j = 0; j < 3; j++) {	/* salt and info: empty, short, 80 bytes */
			size_t sl = j == 0 ? 0 : j == 1 ? 13 : 80;

			CHECK_EQ(aead_hkdf_sha512(ikm, 22 + j * 29, salt, sl, info, sl, got, lens[i]), 0);
			hkdf_ref(ikm, 22 + j * 29, salt, sl, info, sl, want, lens[i]);
			CHECK(memcmp(got, want, lens[i]) == 0);
		}
	}
	/* different info strings give different keys (the two directions) */
	aead_hkdf_sha512(ikm, 32, "Control-Salt", 12, "Control-Write-Encryption-Key", 28, got, 32);
	aead_hkdf_sha512(ikm, 32, "Control-Salt", 12, "Control-Read-Encryption-Key", 27, want, 32);
	CHECK(memcmp(got, want, 32) != 0);
}

static void test_curves(void)
{
	uint8_t seed[32], pk[32], sk[64], sig[64], want[64], a[32], b[32], shared[32], x[32];
	uint8_t zero[32] = { 0 };

	unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", seed);
	CHECK_EQ(aead_ed25519_from_seed(seed, pk, sk), 0);
	unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", want);
	CHECK(memcmp(pk, want, 32) == 0);
	CHECK_EQ(aead_ed25519_sign(sk, (const uint8_t *)"", 0, sig), 0);
	unhex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39"
	      "701cf9b46bd25bf5f0595bbe24655141438e7a100b", want);
	CHECK(memcmp(sig, want, 64) == 0);
	CHECK_EQ(aead_ed25519_verify(pk, (const uint8_t *)"", 0, sig), 0);
	CHECK_EQ(aead_ed25519_verify(pk, (const uint8_t *)"x", 1, sig), -EBADMSG);
	sig[0] ^= 1;
	CHECK_EQ(aead_ed25519_verify(pk, (const uint8_t *)"", 0, sig), -EBADMSG);

	unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", a);
	unhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", b);
	unhex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", want);
	CHECK_EQ(aead_x25519(shared, a, b), 0);
	CHECK(memcmp(shared, want, 32) == 0);
	CHECK_EQ(aead_x25519(shared, a, zero), -EBADMSG);	/* a low-order point */
	/* two fresh key pairs agree */
	CHECK_EQ(aead_x25519_keypair(pk, a), 0);
	CHECK_EQ(aead_x25519_keypair(x, b), 0);
	CHECK_EQ(aead_x25519(shared, a, x), 0);
	CHECK_EQ(aead_x25519(want, b, pk), 0);
	CHECK(memcmp(shared, want, 32) == 0);
	CHECK(aead_memcmp(shared, want, 32) == 0);
	want[31] ^= 1;
	CHECK(aead_memcmp(shared, want, 32) != 0);
	aead_wipe(shared, 32);
	CHECK(memcmp(shared, zero, 32) == 0);
}

int main(void)
{
	CHECK_EQ(aead_init(), 0);
	test_chacha();
	test_nonce();
	test_hkdf();
	test_curves();
	return unit_done("test_aead");
}
