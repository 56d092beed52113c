// SPDX-License-Identifier: GPL-2.0-only
/* Sources: built-in signals, WAV decoding bit-exactness, resampling length, bad files. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "txpace/source.h"
#include "unit.h"

static void put_le(FILE *f, uint32_t v, int n)
{
	for (int i = 0; i < n; i++) {
		fputc((int)(v >> (8 * i)) & 0xff, f);
	}
}

/* A canonical 16-bit PCM WAV with a known pattern, written by the test itself. */
static void write_wav(const char *path, uint32_t rate, uint16_t ch, uint32_t frames)
{
	FILE *f = fopen(path, "wb");
	uint32_t bytes = frames * ch * 2;

	fwrite("RIFF", 1, 4, f);
	put_le(f, 36 + bytes, 4);
	fwrite("WAVEfmt ", 1, 8, f);
	put_le(f, 16, 4);
	put_le(f, 1, 2);
	put_le(f, ch, 2);
	put_le(f, rate, 4);
	put_le(f, rate * ch * 2, 4);
	put_le(f, ch * 2u, 2);
	put_le(f, 16, 2);
	fwrite("data", 1, 4, f);
	put_le(f, bytes, 4);
	for (uint32_t i = 0; i < frames * ch; i++) {
		put_le(f, (uint16_t)(i * 7919u), 2);
	}
	fclose(f);
}

static void test_ramp(void)
{
	struct source_fmt fmt = { 48000, 2, 24 };
	struct source *s = source_open("ramp", NULL, &fmt, NULL, 0);
	int32_t buf[200];

	CHECK(s != NULL);
	CHECK_EQ(source_read(s, buf, 100), 100);
	for (int i = 0; i < 200; i++) {
		CHECK_EQ(buf[i], (int32_t)((uint32_t)i << 8));
	}
	CHECK_EQ(source_read(s, buf, 1), 1);
	CHECK_EQ(buf[0], 200 << 8);
	CHECK_EQ(source_total_frames(s), -1);
	source_free(s);
}

static void test_tone(void)
{
	struct source_fmt fmt = { 48000, 1, 16 };
	char err[128];
	struct source *s = source_open("tone:1000", NULL, &fmt, err, sizeof(err));
	static int32_t buf[48000];
	int crossings = 0;
	int32_t peak = 0;

	CHECK(s != NULL);
	CHECK_EQ(source_read(s, buf, 48000), 48000);
	for (int i = 1; i < 48000; i++) {
		crossings += (buf[i - 1] < 0) != (buf[i] < 0);
		peak = buf[i] > peak ? buf[i] : peak;
		CHECK_EQ(buf[i] & 0xffff, 0);	/* only the top 16 bits carry signal */
	}
	CHECK(crossings >= 1998 && crossings <= 2001);	/* 1000 Hz for one second */
	CHECK(peak >= (int32_t)(0.499 * 2147483648.0) && peak <= (int32_t)(0.501 * 2147483648.0));
	source_free(s);
	CHECK(source_open("tone:30000", NULL, &fmt, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "tone frequency") != NULL);
	CHECK(source_open("tone:abc", NULL, &fmt, err, sizeof(err)) == NULL);
}

static void test_wav_exact(void)
{
	char path[] = "/tmp/txpace-unit-XXXXXX.wav";
	int fd = mkstemps(path, 4);
	struct source_fmt fmt = { 48000, 2, 24 };
	static int32_t buf[2 * 5000];
	struct source *s;
	long n, total = 0;
	int bad = 0;

	close(fd);
	write_wav(path, 48000, 2, 4800);
	s = source_open(path, NULL, &fmt, NULL, 0);
	CHECK(s != NULL);
	if (!s) {
		unlink(path);
		return;
	}
	CHECK_EQ(source_total_frames(s), 4800);
	while ((n = source_read(s, buf, 1000)) > 0) {
		for (long i = 0; i < n * 2; i++) {
			uint32_t idx = (uint32_t)(total * 2 + i);
			int32_t want = (int32_t)((uint32_t)(uint16_t)(idx * 7919u) << 16);

			bad += buf[i] != want;
		}
		total += n;
	}
	CHECK_EQ(n, 0);
	CHECK_EQ(total, 4800);
	CHECK_EQ(bad, 0);
	CHECK_EQ(source_decode_errors(s), 0);
	source_free(s);

	/* the same file resampled to 44.1 kHz mono L16: the right length (+- resampler delay) */
	struct source_fmt f2 = { 44100, 1, 16 };

	s = source_open(path, NULL, &f2, NULL, 0);
	CHECK(s != NULL);
	total = 0;
	while (s && (n = source_read(s, buf, 1000)) > 0) {
		for (long i = 0; i < n; i++) {
			bad += (buf[i] & 0xffff) != 0;
		}
		total += n;
	}
	CHECK(labs(total - 4410) <= 2);
	CHECK_EQ(bad, 0);
	source_free(s);
	unlink(path);
}

static void test_bad_files(void)
{
	struct source_fmt fmt = { 48000, 2, 24 };
	char err[256] = "", path[] = "/tmp/txpace-unit-XXXXXX";
	int fd = mkstemp(path);
	static const char junk[] = "this is not audio at all, just some text\n";

	CHECK(source_open("/nonexistent/file.wav", NULL, &fmt, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "No such file") != NULL);
	CHECK(write(fd, junk, sizeof(junk)) == sizeof(junk));
	close(fd);
	err[0] = 0;
	CHECK(source_open(path, NULL, &fmt, err, sizeof(err)) == NULL);
	CHECK(err[0] != 0 && strchr(err, '\n') == NULL);
	unlink(path);
	CHECK(source_open("-", NULL, &fmt, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "--input-format") != NULL);
	CHECK(source_open("-", "s16le:48000", &fmt, err, sizeof(err)) == NULL);
	CHECK(source_open("-", "u8:48000:2", &fmt, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "unsupported input format") != NULL);
	CHECK(source_open("-", "s16le:48000:9", &fmt, err, sizeof(err)) == NULL);
}

int main(void)
{
	test_ramp();
	test_tone();
	test_wav_exact();
	test_bad_files();
	return unit_done("test_source");
}
