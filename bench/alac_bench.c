// SPDX-License-Identifier: GPL-2.0-only
/*
 * CPU per RAOP packet for encode + packetize: ALAC (FFmpeg's encoder or escape frames) and
 * optional AES, on pink-ish noise and on a tone. Prints bytes per packet and the median and
 * p99 time per packet; run it under `valgrind --tool=callgrind` for instruction counts
 * (repeatable on a shared machine); "none" generates the signal only, the baseline to subtract.
 * usage: alac_bench compressed|escape|none [aes|plain] [PACKETS]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txpace/alac.h"
#include "txpace/clock.h"
#include "txpace/crypto.h"

static int cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	enum alac_mode mode = argc > 1 && !strcmp(argv[1], "escape") ? ALAC_ESCAPE : ALAC_COMPRESSED;
	int none = argc > 1 && !strcmp(argv[1], "none");
	int aes = argc > 2 && !strcmp(argv[2], "aes");
	long n = argc > 3 ? atol(argv[3]) : 2000;
	static int32_t pcm[ALAC_FRAMES * 2];
	static uint8_t out[ALAC_MAX_BYTES];
	uint8_t key[16] = { 1 }, iv[16] = { 2 };
	struct aes_cbc *a = aes ? aes_cbc_new(key, iv) : NULL;
	char err[128];
	struct alac_enc *e = alac_enc_new(mode, err, sizeof(err));
	int64_t *t = calloc((size_t)n, sizeof(*t));
	uint64_t bytes = 0;
	uint32_t x = 1;
	double ph = 0;

	if (!e || !t) {
		fprintf(stderr, "alac_bench: %s\n", e ? "out of memory" : err);
		return 1;
	}
	for (long k = 0; k < n; k++) {
		/* half the run a 440 Hz tone (compresses well), half noise (does not) */
		for (int i = 0; i < ALAC_FRAMES; i++) {
			int16_t v;

			x = x * 1664525u + 1013904223u;
			v = k < n / 2 ? (int16_t)(10000 * sin(ph)) : (int16_t)((int32_t)(x >> 16) / 3);
			ph += 2 * M_PI * 440 / 44100;
			pcm[2 * i] = pcm[2 * i + 1] = (int32_t)((uint32_t)(uint16_t)v << 16);
		}
		int64_t t0 = mono_ns();
		int len = none ? 0 : alac_encode(e, pcm, ALAC_FRAMES, out);

		if (len > 0 && a) {
			aes_cbc_encrypt_raop(a, out, (size_t)len);
		}
		t[k] = mono_ns() - t0;
		bytes += (uint64_t)(len > 0 ? len : 0);
	}
	qsort(t, (size_t)n, sizeof(*t), cmp);
	printf("%s%s: %ld packets, %.1f bytes per packet (escape: 1411), per packet p50 %.1f us, "
	       "p99 %.1f us\n", none ? "none" : mode == ALAC_ESCAPE ? "escape" : "compressed",
	       aes ? "+aes" : "", n,
	       (double)bytes / (double)n, (double)t[n / 2] / 1e3, (double)t[n * 99 / 100] / 1e3);
	alac_enc_free(e);
	aes_cbc_free(a);
	free(t);
	return 0;
}
