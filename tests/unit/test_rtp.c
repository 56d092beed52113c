// SPDX-License-Identifier: GPL-2.0-only
/* RTP packing and parsing, L16/L24 payloads, SDP text, histogram percentiles. */
#include <errno.h>
#include <string.h>

#include "txpace/hist.h"
#include "txpace/rtp.h"
#include "txpace/sdp.h"
#include "unit.h"

static void test_header(void)
{
	uint8_t b[64];
	struct rtp_hdr h;

	rtp_write_hdr(b, 96, 1, 0xabcd, 0x01020304, 0xdeadbeef);
	static const uint8_t want[12] = { 0x80, 0xe0, 0xab, 0xcd, 1, 2, 3, 4, 0xde, 0xad, 0xbe, 0xef };

	CHECK(memcmp(b, want, 12) == 0);
	memset(b + 12, 0x55, 20);
	CHECK_EQ(rtp_parse(b, 32, &h), 0);
	CHECK_EQ(h.pt, 96);
	CHECK_EQ(h.marker, 1);
	CHECK_EQ(h.seq, 0xabcd);
	CHECK_EQ(h.ts, 0x01020304);
	CHECK_EQ(h.ssrc, 0xdeadbeef);
	CHECK_EQ(h.payload_off, 12);
	CHECK_EQ(h.payload_len, 20);
}

static void test_parse_variants(void)
{
	uint8_t b[64] = { 0 };
	struct rtp_hdr h;

	rtp_write_hdr(b, 10, 0, 1, 2, 3);
	/* two CSRCs and a one-word extension, then 8 bytes payload, 4 of them padding */
	b[0] = 0x80 | 0x20 | 0x10 | 2;
	b[20] = 0xbe;
	b[21] = 0xde;
	b[23] = 1;
	b[35] = 4;
	CHECK_EQ(rtp_parse(b, 36, &h), 0);
	CHECK_EQ(h.payload_off, 28);
	CHECK_EQ(h.payload_len, 4);
	/* malformed: short, wrong version, CSRCs past the end, extension past the end, bad padding */
	CHECK_EQ(rtp_parse(b, 11, &h), -EINVAL);
	b[0] = 0x40;
	CHECK_EQ(rtp_parse(b, 36, &h), -EINVAL);
	b[0] = 0x8f;
	CHECK_EQ(rtp_parse(b, 20, &h), -EINVAL);
	b[0] = 0x90;
	b[15] = 200;
	CHECK_EQ(rtp_parse(b, 16, &h), -EINVAL);
	b[0] = 0xa0;
	b[15] = 0;
	CHECK_EQ(rtp_parse(b, 16, &h), -EINVAL);
	b[15] = 5;
	CHECK_EQ(rtp_parse(b, 16, &h), -EINVAL);
	/* RTCP sender report on the same port */
	b[0] = 0x80;
	b[1] = 200;
	CHECK_EQ(rtp_parse(b, 28, &h), -EINVAL);
}

static void test_pcm(void)
{
	int32_t s[3] = { (int32_t)0x12345600, (int32_t)0xfedcba00, 0x7fffff00 };
	uint8_t d[9];

	CHECK_EQ(pcm_pack_be(d, s, 3, 24), 9);
	static const uint8_t w24[9] = { 0x12, 0x34, 0x56, 0xfe, 0xdc, 0xba, 0x7f, 0xff, 0xff };

	CHECK(memcmp(d, w24, 9) == 0);
	CHECK_EQ(pcm_pack_be(d, s, 3, 16), 6);
	static const uint8_t w16[6] = { 0x12, 0x34, 0xfe, 0xdc, 0x7f, 0xff };

	CHECK(memcmp(d, w16, 6) == 0);
}

static void test_sdp(void)
{
	struct sdp_stream s = { .name = "txpace", .ttl = 16, .pt = 97, .encoding = "L24",
				.rate = 48000, .channels = 2, .ptime_ns = 1000000, .session_id = 42 };
	char buf[1024];

	net_parse("192.168.67.1:40000", 0, &s.origin);
	net_parse("239.69.1.2:5004", 0, &s.dest);
	CHECK(sdp_format(&s, buf, sizeof(buf)) > 0);
	CHECK(strstr(buf, "v=0\r\no=- 42 0 IN IP4 192.168.67.1\r\ns=txpace\r\n") == buf);
	CHECK(strstr(buf, "c=IN IP4 239.69.1.2/16\r\n") != NULL);
	CHECK(strstr(buf, "m=audio 5004 RTP/AVP 97\r\n") != NULL);
	CHECK(strstr(buf, "a=rtpmap:97 L24/48000/2\r\n") != NULL);
	CHECK(strstr(buf, "a=ptime:1\r\n") != NULL);
	s.ptime_ns = 125000;
	net_parse("[fd00::2]:6000", 0, &s.dest);
	net_parse("[fd00::1]:1", 0, &s.origin);
	CHECK(sdp_format(&s, buf, sizeof(buf)) > 0);
	CHECK(strstr(buf, "a=ptime:0.125\r\n") != NULL);
	CHECK(strstr(buf, "c=IN IP6 fd00::2\r\n") != NULL);
	CHECK(strstr(buf, "o=- 42 0 IN IP6 fd00::1\r\n") != NULL);
	s.ptime_ns = 333333;
	CHECK(sdp_format(&s, buf, sizeof(buf)) > 0);
	CHECK(strstr(buf, "a=ptime:0.333333\r\n") != NULL);
	CHECK_EQ(sdp_format(&s, buf, 40), -ENOSPC);
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void test_hist(void)
{
	static struct hist h;
	static uint64_t v[100000];
	uint64_t x = 12345;

	hist_reset(&h);
	CHECK_EQ(hist_quantile(&h, 0.5), 0);
	for (size_t i = 0; i < 100000; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		/* a long-tailed mix: mostly microseconds, some milliseconds */
		v[i] = (x >> 33) % 20000 + ((i % 100) == 0 ? (x >> 20) % 5000000 : 0);
		hist_add(&h, v[i]);
	}
	qsort(v, 100000, sizeof(v[0]), cmp);
	CHECK_EQ(hist_count(&h), 100000);
	CHECK_EQ(hist_max(&h), v[99999]);
	static const double qs[] = { 0.5, 0.9, 0.99, 0.999 };

	for (size_t i = 0; i < 4; i++) {
		double exact = (double)v[(size_t)(qs[i] * 100000)], got = (double)hist_quantile(&h, qs[i]);

		CHECK(got >= exact * 0.98 - 1 && got <= exact * 1.02 + 1);
	}
	CHECK_EQ(hist_quantile(&h, 1.0), v[99999]);
	/* small exact values */
	hist_reset(&h);
	hist_add(&h, 5);
	hist_add(&h, 7);
	CHECK_EQ(hist_quantile(&h, 0.0), 5);
	CHECK_EQ(hist_quantile(&h, 0.99), 7);
}

int main(void)
{
	test_header();
	test_parse_variants();
	test_pcm();
	test_sdp();
	test_hist();
	return unit_done("test_rtp");
}
