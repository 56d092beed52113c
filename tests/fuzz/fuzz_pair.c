// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the pairing steps' handling of a receiver's replies: the first byte
 * picks transient pair-setup, PIN pair-setup or pair-verify; the rest is a sequence of replies,
 * each one byte of status (0: 200, 1: 470, else 400), a u16 LE length and the body. Every
 * failure must leave a one-line error.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "txpace/pair.h"

struct replies {
	const uint8_t *p;
	size_t left;
};

static int fake_post(void *ctx, const char *path, const uint8_t *body, size_t len, uint8_t *resp,
		     size_t cap, size_t *resp_len, int *status)
{
	struct replies *r = ctx;
	size_t n;

	if (r->left < 3) {
		return -ECONNRESET;
	}
	*status = r->p[0] == 0 ? 200 : r->p[0] == 1 ? 470 : 400;
	n = r->p[1] | (size_t)r->p[2] << 8;
	r->p += 3, r->left -= 3;
	if (n > r->left) {
		n = r->left;
	}
	if (n > cap) {
		n = cap;
	}
	memcpy(resp, r->p, n);
	*resp_len = n;
	r->p += n, r->left -= n;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct replies r = { data + 1, size ? size - 1 : 0 };
	struct pair_transport t = { .post = fake_post, .ctx = &r, .name = "fuzz" };
	struct pair_identity me = { .id = "11111111-2222-3333-4444-555555555555" };
	struct pair_peer peer = { .id = "AA:BB:CC:DD:EE:FF" }, got;
	uint8_t key[64];
	char err[256] = "";
	int rc;

	if (size < 1 || size > 8192) {
		return 0;
	}
	memset(me.sk, 7, sizeof(me.sk));
	switch (data[0] % 3) {
	case 0:
		rc = pair_setup_transient(&t, key, err, sizeof(err));
		break;
	case 1:
		rc = pair_setup_pin(&t, &me, "031-45-154", &got, err, sizeof(err));
		break;
	default:
		rc = pair_verify(&t, &me, &peer, key, err, sizeof(err));
		break;
	}
	if (rc < 0 && (!err[0] || !memchr(err, 0, sizeof(err)) || strchr(err, '\n'))) {
		abort();
	}
	return 0;
}
