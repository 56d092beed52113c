// SPDX-License-Identifier: GPL-2.0-only
/*
 * The encrypted channel: a controller and an accessory keyed from one secret talk both ways
 * (messages of 0, 1, 1024, 1025 and 5000 bytes, fed whole and byte by byte), the frame layout
 * checked by hand (u16 LE length = AAD, nonce 4 zero bytes + LE counter, via aead_open), and
 * the failures: a flipped bit kills the channel, a length over 1024, a frame replayed, keys of
 * the wrong direction, a too-small buffer.
 */
#include <errno.h>
#include <string.h>

#include "txpace/aead.h"
#include "txpace/hapsec.h"
#include "unit.h"

static uint8_t msg[5000], wire[6000], got[8000];

static void pair_of(struct hapsec **c, struct hapsec **a, enum hapsec_channel ch)
{
	static const uint8_t secret[32] = "a shared secret of 32 bytes....";
	char err[128];

	*c = hapsec_new(secret, sizeof(secret), ch, HAPSEC_CONTROLLER, err, sizeof(err));
	*a = hapsec_new(secret, sizeof(secret), ch, HAPSEC_ACCESSORY, err, sizeof(err));
	CHECK(*c && *a);
}

/* @len bytes from @tx to @rx, fed in pieces of @step; true when they arrive intact */
static int carry(struct hapsec *tx, struct hapsec *rx, size_t len, size_t step)
{
	char err[160];
	long n = hapsec_seal(tx, msg, len, wire, sizeof(wire)), r;
	size_t off = 0, o = 0;

	if (n != (long)hapsec_sealed_len(len)) {
		return 0;
	}
	while (off < (size_t)n) {
		size_t k = (size_t)n - off < step ? (size_t)n - off : step;

		r = hapsec_feed(rx, wire + off, k, got + o, sizeof(got) - o, err, sizeof(err));
		if (r < 0) {
			return 0;
		}
		o += (size_t)r;
		off += k;
	}
	return o == len && memcmp(got, msg, len) == 0 && hapsec_pending(rx) == 0;
}

static void test_both_ways(void)
{
	static const size_t lens[] = { 0, 1, 1024, 1025, 5000 };
	struct hapsec *c, *a;
	size_t i;

	pair_of(&c, &a, HAPSEC_CONTROL);
	for (i = 0; i < sizeof(msg); i++) {
		msg[i] = (uint8_t)(i * 31 + 7);
	}
	for (i = 0; i < 5; i++) {
		CHECK(carry(c, a, lens[i], 7000));
		CHECK(carry(a, c, lens[i], 1));
		CHECK(carry(c, a, lens[i], 1000));
	}
	CHECK_EQ(hapsec_sent(c), 2 * (0 + 1 + 1 + 2 + 5));
	CHECK_EQ(hapsec_received(a), hapsec_sent(c));
	CHECK_EQ(hapsec_sealed_len(1025), 1025 + 36);
	hapsec_free(c);
	hapsec_free(a);
	pair_of(&c, &a, HAPSEC_EVENTS);
	CHECK(carry(a, c, 300, 5));
	CHECK(carry(c, a, 300, 300));
	hapsec_free(c);
	hapsec_free(a);
	hapsec_free(NULL);
}

/* the second frame of a message by hand: counter 1, its length as AAD */
static void test_layout(void)
{
	uint8_t w[32], r[32], nonce[12], plain[100];
	struct hapsec *h;

	memset(w, 1, sizeof(w));
	memset(r, 2, sizeof(r));
	h = hapsec_new_keys(w, r);
	CHECK_EQ(hapsec_seal(h, msg, 1100, wire, sizeof(wire)), 1100 + 36);
	CHECK(wire[0] == 0x00 && wire[1] == 0x04);	/* 1024 LE */
	CHECK(wire[1042] == 76 && wire[1043] == 0);
	aead_nonce_counter(nonce, 1);
	CHECK_EQ(aead_open(w, nonce, wire + 1042, 2, wire + 1044, 76 + 16, plain), 0);
	CHECK(memcmp(plain, msg + 1024, 76) == 0);
	aead_nonce_counter(nonce, 0);
	CHECK_EQ(aead_open(w, nonce, wire + 1042, 2, wire + 1044, 76 + 16, plain), -EBADMSG);
	CHECK_EQ(hapsec_seal(h, msg, 100, wire, 117), -ENOSPC);
	CHECK_EQ(hapsec_sent(h), 2);	/* nothing used by the refused call */
	hapsec_free(h);
}

static void test_failures(void)
{
	struct hapsec *c, *a, *c2, *a2;
	char err[160] = "";
	long n;

	pair_of(&c, &a, HAPSEC_CONTROL);
	n = hapsec_seal(c, msg, 50, wire, sizeof(wire));
	CHECK_EQ(hapsec_feed(a, wire, (size_t)n, got, 10, err, sizeof(err)), -ENOSPC);
	wire[20] ^= 4;
	CHECK_EQ(hapsec_feed(a, wire, (size_t)n, got, sizeof(got), err, sizeof(err)), -EBADMSG);
	CHECK(strstr(err, "authenticate") != NULL);
	wire[20] ^= 4;
	CHECK_EQ(hapsec_feed(a, wire, (size_t)n, got, sizeof(got), err, sizeof(err)), -EPIPE);
	CHECK_EQ(hapsec_seal(a, msg, 5, wire, sizeof(wire)), -EPIPE);	/* dead both ways */
	hapsec_free(a);

	/* a replayed frame (counter 0 again) does not open as frame 1 */
	pair_of(&c2, &a2, HAPSEC_CONTROL);
	n = hapsec_seal(c2, msg, 50, wire, sizeof(wire));
	CHECK_EQ(hapsec_feed(a2, wire, (size_t)n, got, sizeof(got), err, sizeof(err)), 50);
	CHECK_EQ(hapsec_feed(a2, wire, (size_t)n, got, sizeof(got), err, sizeof(err)), -EBADMSG);
	hapsec_free(a2);
	hapsec_free(c2);

	/* a length over 1024, seen as soon as its two bytes are in */
	pair_of(&c2, &a2, HAPSEC_CONTROL);
	CHECK_EQ(hapsec_feed(a2, (const uint8_t *)"\x01\x04", 2, got, sizeof(got), err, sizeof(err)),
		 -EBADMSG);
	CHECK(strstr(err, "1024") != NULL);
	hapsec_free(a2);

	/* the controller cannot read its own frames (the directions have their own keys) */
	n = hapsec_seal(c, msg, 50, wire, sizeof(wire));
	CHECK_EQ(hapsec_feed(c, wire, (size_t)n, got, sizeof(got), err, sizeof(err)), -EBADMSG);
	hapsec_free(c);
	hapsec_free(c2);
}

int main(void)
{
	CHECK_EQ(aead_init(), 0);
	test_both_ways();
	test_layout();
	test_failures();
	return unit_done("test_hapsec");
}
