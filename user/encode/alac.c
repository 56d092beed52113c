// SPDX-License-Identifier: GPL-2.0-only
/* ALAC module: FFmpeg's encoder through libavcodec, and the escape form written by hand. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>

#include "txpace/alac.h"
#include "avenc.h"

struct alac_enc {
	enum alac_mode mode;
	AVCodecContext *cc;
	AVFrame *frame;
	AVPacket *pkt;
};

/* MSB-first bit writer with a 64-bit accumulator (a frame is ~11300 bits). */
struct bitw {
	uint8_t *p;
	size_t n;	/* bytes written */
	uint64_t acc;
	unsigned bits;	/* pending bits in acc */
};

static void put(struct bitw *w, uint32_t v, unsigned n)
{
	w->acc = w->acc << n | (v & (uint32_t)((1ull << n) - 1));
	w->bits += n;
	while (w->bits >= 8) {
		w->bits -= 8;
		w->p[w->n++] = (uint8_t)(w->acc >> w->bits);
	}
}

static size_t finish(struct bitw *w)
{
	if (w->bits) {
		w->p[w->n++] = (uint8_t)(w->acc << (8 - w->bits));
		w->bits = 0;
	}
	return w->n;
}

size_t alac_escape_frame(const int32_t *pcm, uint32_t frames, uint8_t *out)
{
	struct bitw w = { out, 0, 0, 0 };
	int has_size = frames < ALAC_FRAMES;

	put(&w, 1, 3);		/* element: channel pair */
	put(&w, 0, 4);		/* instance */
	put(&w, 0, 12);		/* unused */
	put(&w, (uint32_t)has_size, 1);
	put(&w, 0, 2);		/* bytes shifted */
	put(&w, 1, 1);		/* escape: uncompressed */
	if (has_size) {
		put(&w, frames, 32);
	}
	for (uint32_t i = 0; i < 2 * frames; i++) {
		put(&w, (uint32_t)pcm[i] >> 16, 16);
	}
	put(&w, 7, 3);		/* end */
	return finish(&w);
}

void alac_cookie(uint8_t c[24])
{
	static const uint8_t cookie[24] = {
		0, 0, ALAC_FRAMES >> 8, ALAC_FRAMES & 0xff,	/* frame length 352 */
		0, 16, 40, 10, 14, 2,	/* version, bit depth, pb, mb, kb, channels */
		0, 255,			/* max run */
		0, 0, 0, 0,		/* max frame bytes (unknown) */
		0, 0, 0, 0,		/* average bit rate */
		0, 0, 0xac, 0x44,	/* 44100 */
	};

	memcpy(c, cookie, 24);
}

struct alac_enc *alac_enc_new(enum alac_mode mode, char *err, size_t errlen)
{
	struct alac_enc *e = calloc(1, sizeof(*e));
	const AVCodec *codec;

	if (!e) {
		return NULL;
	}
	e->mode = mode;
	if (mode == ALAC_ESCAPE) {
		return e;
	}
	codec = avcodec_find_encoder(AV_CODEC_ID_ALAC);
	e->cc = codec ? avcodec_alloc_context3(codec) : NULL;
	e->frame = av_frame_alloc();
	e->pkt = av_packet_alloc();
	if (!e->cc || !e->frame || !e->pkt) {
		snprintf(err, errlen, "FFmpeg's ALAC encoder is not available");
		goto fail;
	}
	e->cc->sample_rate = 44100;
	e->cc->sample_fmt = AV_SAMPLE_FMT_S16P;
	av_channel_layout_default(&e->cc->ch_layout, 2);
	if (avcodec_open2(e->cc, codec, NULL) < 0) {
		snprintf(err, errlen, "cannot open FFmpeg's ALAC encoder");
		goto fail;
	}
	/*
	 * The encoder fixes frame_size at 4096 but encodes any shorter frame (with the has-size
	 * field); declaring 352 lets libavcodec accept a stream of 352-sample frames.
	 */
	e->cc->frame_size = ALAC_FRAMES;
	e->frame->format = AV_SAMPLE_FMT_S16P;
	e->frame->sample_rate = 44100;
	e->frame->nb_samples = ALAC_FRAMES;
	av_channel_layout_default(&e->frame->ch_layout, 2);
	if (av_frame_get_buffer(e->frame, 0) < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	return e;
fail:
	alac_enc_free(e);
	return NULL;
}

void alac_enc_free(struct alac_enc *e)
{
	if (!e) {
		return;
	}
	av_packet_free(&e->pkt);
	av_frame_free(&e->frame);
	avcodec_free_context(&e->cc);
	free(e);
}

int alac_encode(struct alac_enc *e, const int32_t *pcm, uint32_t frames, uint8_t *out)
{
	int rc;

	if (frames == 0 || frames > ALAC_FRAMES) {
		return -EINVAL;
	}
	if (e->mode == ALAC_ESCAPE) {
		return (int)alac_escape_frame(pcm, frames, out);
	}
	rc = av_frame_make_writable(e->frame);
	if (rc < 0) {
		return rc;
	}
	int16_t *l = (int16_t *)e->frame->data[0], *r = (int16_t *)e->frame->data[1];

	for (uint32_t i = 0; i < frames; i++) {
		l[i] = (int16_t)(pcm[2 * i] >> 16);
		r[i] = (int16_t)(pcm[2 * i + 1] >> 16);
	}
	e->frame->nb_samples = (int)frames;
	rc = avcodec_send_frame(e->cc, e->frame);
	e->frame->nb_samples = ALAC_FRAMES;
	if (rc < 0) {
		return rc;
	}
	return avenc_take(e->cc, e->pkt, out, ALAC_MAX_BYTES);
}
