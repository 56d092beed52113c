// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the encrypted channel's reader (encrypted RTSP from a receiver). The
 * first byte picks the piece size the input is fed in; the rest is read as frames under fixed
 * keys (the seeds are frames sealed under them), and then sealed as plaintext and read back
 * through a second channel, which must give it back whole.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "txpace/hapsec.h"

static uint8_t out[1 << 17], wire[1 << 17];

/* feed @len bytes in pieces of @step; the plaintext length or a negative errno */
static long feed(struct hapsec *h, const uint8_t *in, size_t len, size_t step)
{
	char err[160];
	size_t off = 0, o = 0;

	while (off < len) {
		size_t k = len - off < step ? len - off : step;
		long r = hapsec_feed(h, in + off, k, out + o, sizeof(out) - o, err, sizeof(err));

		if (r < 0) {
			if (!memchr(err, 0, sizeof(err)) || (r != -EBADMSG && r != -EPIPE)) {
				abort();
			}
			return r;
		}
		o += (size_t)r;
		off += k;
	}
	return (long)o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t a[32], b[32];
	struct hapsec *rx, *tx, *back;
	size_t step;
	long n;

	if (size < 1 || size > 60000) {
		return 0;
	}
	step = data[0] ? data[0] : 4096;
	data++, size--;
	memset(a, 0x11, sizeof(a));
	memset(b, 0x22, sizeof(b));
	rx = hapsec_new_keys(b, a);	/* reads what a peer wrote with key a */
	n = feed(rx, data, size, step);
	if (n > (long)size) {
		abort();
	}
	hapsec_free(rx);

	tx = hapsec_new_keys(a, b);
	back = hapsec_new_keys(b, a);
	n = hapsec_seal(tx, data, size, wire, sizeof(wire));
	if (n != (long)hapsec_sealed_len(size) || feed(back, wire, (size_t)n, step) != (long)size ||
	    memcmp(out, data, size) != 0 || hapsec_pending(back) != 0) {
		abort();
	}
	hapsec_free(tx);
	hapsec_free(back);
	return 0;
}
