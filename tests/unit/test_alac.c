// SPDX-License-Identifier: GPL-2.0-only
/*
 * ALAC frames checked without a receiver: encode, wrap in CAF (desc, kuki, pakt, data), decode
 * with FFmpeg, compare with the input; for both the FFmpeg encoder and the escape form, with a
 * short last frame (has-size), and on noise (which does not compress: the escape fallback).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "txpace/alac.h"
#include "unit.h"

#define NFRAMES 100

static void be(FILE *f, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		fputc((int)(v >> (8 * i)) & 0xff, f);
	}
}

static void write_caf(const char *path, uint8_t (*pk)[ALAC_MAX_BYTES], const int *len, int n,
		      uint64_t total_frames)
{
	FILE *f = fopen(path, "wb");
	uint8_t cookie[24], pakt[NFRAMES * 3];
	size_t pl = 0, dl = 0;
	double rate = 44100;
	uint64_t rbits;

	for (int i = 0; i < n; i++) {
		/* packet sizes as variable-length integers (7 bits a byte, high bit = more) */
		if (len[i] >= 128) {
			pakt[pl++] = (uint8_t)(0x80 | (len[i] >> 7));
		}
		pakt[pl++] = (uint8_t)(len[i] & 0x7f);
		dl += (size_t)len[i];
	}
	fwrite("caff", 1, 4, f);
	be(f, 1, 2);
	be(f, 0, 2);
	fwrite("desc", 1, 4, f);
	be(f, 32, 8);
	memcpy(&rbits, &rate, 8);
	be(f, rbits, 8);
	fwrite("alac", 1, 4, f);
	be(f, 0, 4);
	be(f, 0, 4);
	be(f, ALAC_FRAMES, 4);
	be(f, 2, 4);
	be(f, 16, 4);
	alac_cookie(cookie);
	fwrite("kuki", 1, 4, f);
	be(f, 24, 8);
	fwrite(cookie, 1, 24, f);
	fwrite("pakt", 1, 4, f);
	be(f, 24 + pl, 8);
	be(f, (uint64_t)n, 8);
	be(f, total_frames, 8);
	be(f, 0, 4);
	be(f, (uint64_t)n * ALAC_FRAMES - total_frames, 4);
	fwrite(pakt, 1, pl, f);
	fwrite("data", 1, 4, f);
	be(f, 4 + dl, 8);
	be(f, 0, 4);
	for (int i = 0; i < n; i++) {
		fwrite(pk[i], 1, (size_t)len[i], f);
	}
	fclose(f);
}

static void roundtrip(enum alac_mode mode, int noise, const char *name)
{
	static int32_t pcm[NFRAMES * ALAC_FRAMES * 2];
	static uint8_t pk[NFRAMES][ALAC_MAX_BYTES];
	static int16_t dec[NFRAMES * ALAC_FRAMES * 2 + 64];
	int len[NFRAMES];
	uint32_t last = 111, x = 1;
	uint64_t total = (uint64_t)(NFRAMES - 1) * ALAC_FRAMES + last, bytes = 0;
	char err[128], caf[] = "/tmp/txpace-alac-XXXXXX.caf", cmd[256];
	struct alac_enc *e = alac_enc_new(mode, err, sizeof(err));
	FILE *p;
	size_t got;

	CHECK(e != NULL);
	if (!e) {
		return;
	}
	for (size_t i = 0; i < total * 2; i++) {
		x = x * 1664525u + 1013904223u;
		int16_t v = noise ? (int16_t)(x >> 16)
				  : (int16_t)(8000 * __builtin_sin((double)(i / 2) * 0.0627) +
					      (i & 1) * 100);

		pcm[i] = (int32_t)((uint32_t)(uint16_t)v << 16);
	}
	for (int i = 0; i < NFRAMES; i++) {
		uint32_t fr = i == NFRAMES - 1 ? last : ALAC_FRAMES;

		len[i] = alac_encode(e, pcm + (size_t)i * ALAC_FRAMES * 2, fr, pk[i]);
		CHECK(len[i] > 0 && len[i] <= ALAC_MAX_BYTES);
		bytes += (uint64_t)len[i];
	}
	alac_enc_free(e);
	close(mkstemps(caf, 4));
	write_caf(caf, pk, len, NFRAMES, total);
	snprintf(cmd, sizeof(cmd), "ffmpeg -v error -i %s -f s16le -", caf);
	p = popen(cmd, "r");
	got = fread(dec, 2, sizeof(dec) / 2, p);
	CHECK(pclose(p) == 0);
	unlink(caf);
	CHECK_EQ(got, total * 2);
	int bad = 0;

	for (size_t i = 0; i < total * 2 && i < got; i++) {
		bad += dec[i] != (int16_t)(pcm[i] >> 16);
	}
	CHECK_EQ(bad, 0);
	printf("%s: %d frames, %.1f bytes per full frame on average (escape frame: %d)\n", name,
	       NFRAMES, (double)bytes / NFRAMES, 7 + ALAC_FRAMES * 4);
}

int main(void)
{
	int32_t pcm[4] = { 0x12340000, (int32_t)0xabcd0000, 0x00010000, (int32_t)0xffff0000 };
	uint8_t out[32];

	/* the escape frame by hand: 2 samples, has-size set */
	CHECK_EQ(alac_escape_frame(pcm, 2, out), 16);
	/* tag 1, has-size, escape; count 2; 0x1234 0xabcd 0x0001 0xffff; end tag 7 (bits 0..126) */
	static const uint8_t want[16] = { 0x20, 0x00, 0x12, 0x00, 0x00, 0x00, 0x04, 0x24,
					  0x69, 0x57, 0x9a, 0x00, 0x03, 0xff, 0xff, 0xc0 };

	CHECK(memcmp(out, want, 16) == 0);
	roundtrip(ALAC_COMPRESSED, 0, "ffmpeg encoder, tone");
	roundtrip(ALAC_COMPRESSED, 1, "ffmpeg encoder, noise");
	roundtrip(ALAC_ESCAPE, 0, "escape frames, tone");
	return unit_done("test_alac");
}
