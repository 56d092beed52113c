// SPDX-License-Identifier: GPL-2.0-only
/*
 * AirPlay 2 buffered audio (type 103): the TCP record (length, 23-bit sequence number, encoding
 * in the SSRC field, the seal) round trip and its refusals; SETRATEANCHORTIME's plist, its
 * networkTimeFrac read back the way shairport-sync 5.2.1 reads it (top 32 bits, floored to ns);
 * FLUSHBUFFERED's; the type 103 SETUP and audioBufferSize; the AAC-LC encoder (one packet per
 * call after its priming frame, decoded back by FFmpeg's AAC decoder at the source's level).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>

#include "txpace/aac.h"
#include "txpace/airplay2.h"
#include "txpace/plist.h"
#include "unit.h"

static uint64_t uint_of(const struct pl *d, const char *key)
{
	uint64_t v = ~0ull;

	pl_get_uint(pl_get(d, key), &v);
	return v;
}

static void test_record(void)
{
	uint8_t shk[32] = { 7, 7, 7 }, rec[AP2_BUF_OVERHEAD + 100], copy[sizeof(rec)];
	struct ap2_buffered_pkt p;

	ap2_buffered_header(rec, 0x1234567, 0xdeadbeef, AP2_SSRC_AAC_44100_2);
	for (int i = 0; i < 100; i++) {
		rec[14 + i] = (uint8_t)i;
	}
	CHECK_EQ(ap2_buffered_seal(shk, rec, 100, 9), sizeof(rec));
	CHECK_EQ(rec[0] << 8 | rec[1], sizeof(rec));
	/* 0x80 (RTP version 2), then the number's 23 bits: 0x1234567 & 0x7fffff */
	CHECK_EQ(rec[2], 0x80);
	CHECK_EQ(rec[3], 0x23);
	CHECK_EQ(rec[4], 0x45);
	CHECK_EQ(rec[5], 0x67);
	memcpy(copy, rec, sizeof(rec));
	CHECK_EQ(ap2_buffered_open(shk, copy, 1, &p), 0);
	CHECK_EQ(ap2_buffered_open(shk, copy, sizeof(rec) - 1, &p), 0);
	CHECK_EQ(ap2_buffered_open(shk, copy, sizeof(rec), &p), 1);
	CHECK_EQ(p.seq, 0x1234567 & 0x7fffff);
	CHECK_EQ(p.ts, 0xdeadbeef);
	CHECK_EQ(p.ssrc, AP2_SSRC_AAC_44100_2);
	CHECK_EQ(p.payload_len, 100);
	CHECK_EQ(p.record_len, sizeof(rec));
	CHECK(p.payload && p.payload[0] == 0 && p.payload[99] == 99);
	/* the seal covers header bytes 4..11 (time, encoding) and the payload */
	memcpy(copy, rec, sizeof(rec));
	copy[12] ^= 1;
	CHECK_EQ(ap2_buffered_open(shk, copy, sizeof(rec), &p), -EBADMSG);
	memcpy(copy, rec, sizeof(rec));
	copy[40] ^= 1;
	CHECK_EQ(ap2_buffered_open(shk, copy, sizeof(rec), &p), -EBADMSG);
	/* a length shorter than a record's least */
	memcpy(copy, rec, sizeof(rec));
	copy[0] = 0;
	copy[1] = AP2_BUF_OVERHEAD - 1;
	CHECK_EQ(ap2_buffered_open(shk, copy, sizeof(rec), &p), -EPROTO);
	CHECK_EQ(ap2_buffered_seal(shk, rec, 0x10000, 1), -E2BIG);
}

/* shairport-sync 5.2.1's reading of networkTimeSecs/Frac (rtsp.c, SETRATEANCHORTIME) */
static uint64_t their_ns(uint64_t secs, uint64_t frac)
{
	frac >>= 32;
	frac *= 1000000000u;
	frac >>= 32;
	return secs * 1000000000u + frac;
}

static void test_anchor(void)
{
	static const uint64_t times[] = { 0, 1, 999999999, 1000000000, 123456789012345678ull,
					  5000000000ull + 500000000, 86400000000123ull };
	struct ap2_rate_anchor an = { 1, 0xfffffff0u, 0, 0x0011223344556677ull };
	uint8_t *body;
	size_t len;
	struct pl *d;

	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		an.ptp_ns = times[i];
		CHECK_EQ(ap2_rate_anchor_body(&an, &body, &len), 0);
		d = pl_parse(body, len);
		CHECK(d != NULL);
		CHECK_EQ(uint_of(d, "rate"), 1);
		CHECK_EQ(uint_of(d, "rtpTime"), 0xfffffff0u);
		CHECK_EQ(uint_of(d, "networkTimeTimelineID"), 0x0011223344556677ull);
		CHECK_EQ(uint_of(d, "networkTimeSecs"), times[i] / 1000000000u);
		CHECK_EQ(their_ns(uint_of(d, "networkTimeSecs"), uint_of(d, "networkTimeFrac")),
			 times[i]);
		pl_free(d);
		free(body);
	}
	an = (struct ap2_rate_anchor){ 0 };
	CHECK_EQ(ap2_rate_anchor_body(&an, &body, &len), 0);
	d = pl_parse(body, len);
	CHECK_EQ(uint_of(d, "rate"), 0);
	CHECK(pl_get(d, "rtpTime") == NULL && pl_get(d, "networkTimeSecs") == NULL);
	pl_free(d);
	free(body);
	CHECK_EQ(ap2_flush_buffered_body(0x00abcdef | 0x800000, 4242, &body, &len), 0);
	d = pl_parse(body, len);
	CHECK_EQ(uint_of(d, "flushUntilSeq"), 0x2bcdef);
	CHECK_EQ(uint_of(d, "flushUntilTS"), 4242);
	CHECK(pl_get(d, "flushFromSeq") == NULL);	/* immediate */
	pl_free(d);
	free(body);
}

static void test_setup(void)
{
	struct ap2_stream_req q = { .type = AP2_TYPE_BUFFERED, .ct = AP2_CT_AAC,
				    .audio_format = AP2_FMT_AAC_LC_44100_2, .spf = AP2_AAC_SPF,
				    .control_port = 6001 };
	struct pl *d, *s, *streams;
	struct ap2_stream_reply st;
	uint8_t *body;
	size_t len;
	char err[256];

	CHECK_EQ(ap2_stream_body(&q, &body, &len), 0);
	d = pl_parse(body, len);
	s = pl_array_at(pl_get(d, "streams"), 0);
	CHECK_EQ(uint_of(s, "type"), 103);
	CHECK_EQ(uint_of(s, "ct"), 4);
	CHECK_EQ(uint_of(s, "audioFormat"), 0x400000);
	CHECK_EQ(uint_of(s, "spf"), 1024);
	pl_free(d);
	free(body);
	/* the receiver's answer: dataPort (TCP), controlPort, audioBufferSize */
	d = pl_dict();
	streams = pl_array();
	s = pl_dict();
	pl_set_uint(s, "type", 103);
	pl_set_uint(s, "dataPort", 40001);
	pl_set_uint(s, "controlPort", 40002);
	pl_set_uint(s, "audioBufferSize", 8388608);
	pl_append(streams, s);
	pl_set(d, "streams", streams);
	CHECK_EQ(pl_to_bin(d, &body, &len), 0);
	pl_free(d);
	CHECK_EQ(ap2_stream_reply_parse(body, len, &st, err, sizeof(err)), 0);
	CHECK_EQ(st.data_port, 40001);
	CHECK_EQ(st.buffer_size, 8388608);
	free(body);
}

/* FFmpeg's AAC decoder on raw frames (AudioSpecificConfig: LC, 44100, stereo) */
static double decoded_rms(uint8_t (*pk)[AAC_MAX_BYTES], const int *len, int n, int from)
{
	const AVCodec *c = avcodec_find_decoder(AV_CODEC_ID_AAC);
	AVCodecContext *cc = avcodec_alloc_context3(c);
	AVPacket *p = av_packet_alloc();
	AVFrame *f = av_frame_alloc();
	double sum = 0;
	long cnt = 0;

	cc->extradata = av_mallocz(2 + AV_INPUT_BUFFER_PADDING_SIZE);
	cc->extradata[0] = 0x12;
	cc->extradata[1] = 0x10;
	cc->extradata_size = 2;
	if (avcodec_open2(cc, c, NULL) < 0) {
		return -1;
	}
	for (int i = 0; i < n; i++) {
		av_new_packet(p, len[i]);
		memcpy(p->data, pk[i], (size_t)len[i]);
		if (avcodec_send_packet(cc, p) == 0 && avcodec_receive_frame(cc, f) == 0 && i >= from) {
			const float *l = (const float *)f->data[0];

			for (int j = 0; j < f->nb_samples; j++, cnt++) {
				sum += (double)l[j] * l[j];
			}
		}
		av_packet_unref(p);
	}
	av_frame_free(&f);
	av_packet_free(&p);
	avcodec_free_context(&cc);
	return cnt ? sqrt(sum / (double)cnt) : -1;
}

static void test_aac(void)
{
	static uint8_t pk[40][AAC_MAX_BYTES];
	static int32_t pcm[AAC_FRAMES * 2];
	int len[40];
	char err[256];
	struct aac_enc *e = aac_enc_new(0, err, sizeof(err));
	double rms;

	CHECK(e != NULL);
	if (!e) {
		return;
	}
	for (int i = 0; i < 40; i++) {
		for (int j = 0; j < AAC_FRAMES; j++) {
			double t = (double)(i * AAC_FRAMES + j) / 44100.0;
			int32_t v = (int32_t)(0.5 * sin(2 * M_PI * 1000 * t) * 2147483647.0);

			pcm[2 * j] = pcm[2 * j + 1] = v;
		}
		len[i] = aac_encode(e, pcm, i == 39 ? 100 : AAC_FRAMES, pk[i]);
		CHECK(len[i] > 0 && len[i] <= AAC_MAX_BYTES);
	}
	CHECK_EQ(aac_encode(e, pcm, 0, pk[0]), -EINVAL);
	CHECK_EQ(aac_encode(e, pcm, AAC_FRAMES + 1, pk[0]), -EINVAL);
	aac_enc_free(e);
	/* a 0.5 sine: RMS 0.354, away from the edges (priming, the short last frame) */
	rms = decoded_rms(pk, len, 36, 4);
	CHECK(fabs(rms - 0.5 / sqrt(2)) < 0.02);
}

int main(void)
{
	av_log_set_level(AV_LOG_QUIET);
	test_record();
	test_anchor();
	test_setup();
	test_aac();
	return unit_done("test_ap2_buffered");
}
