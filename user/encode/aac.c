// SPDX-License-Identifier: GPL-2.0-only
/*
 * AAC module: AAC-LC through FFmpeg's native aac encoder (libavcodec), 44.1 kHz stereo, 1024
 * samples a frame, raw access units (a receiver adds the ADTS header itself). The encoder holds
 * one frame back; a frame of silence goes in at creation, so every later call returns one packet.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>

#include "txpace/aac.h"
#include "avenc.h"

struct aac_enc {
	AVCodecContext *cc;
	AVFrame *frame;
	AVPacket *pkt;
};

static int send_pcm(struct aac_enc *e, const int32_t *pcm, uint32_t frames)
{
	float *l, *r;
	int rc = av_frame_make_writable(e->frame);

	if (rc < 0) {
		return rc;
	}
	l = (float *)e->frame->data[0];
	r = (float *)e->frame->data[1];
	for (uint32_t i = 0; i < AAC_FRAMES; i++) {
		l[i] = i < frames && pcm ? (float)pcm[2 * i] / 2147483648.0f : 0.0f;
		r[i] = i < frames && pcm ? (float)pcm[2 * i + 1] / 2147483648.0f : 0.0f;
	}
	return avcodec_send_frame(e->cc, e->frame);
}

struct aac_enc *aac_enc_new(long bitrate, char *err, size_t errlen)
{
	struct aac_enc *e = calloc(1, sizeof(*e));
	const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_AAC);

	if (!e) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	e->cc = codec ? avcodec_alloc_context3(codec) : NULL;
	e->frame = av_frame_alloc();
	e->pkt = av_packet_alloc();
	if (!e->cc || !e->frame || !e->pkt) {
		snprintf(err, errlen, "FFmpeg's AAC encoder is not available");
		goto fail;
	}
	e->cc->sample_rate = 44100;
	e->cc->sample_fmt = AV_SAMPLE_FMT_FLTP;
	e->cc->bit_rate = bitrate > 0 ? bitrate : 256000;
	e->cc->profile = FF_PROFILE_AAC_LOW;
	av_channel_layout_default(&e->cc->ch_layout, 2);
	if (avcodec_open2(e->cc, codec, NULL) < 0 || e->cc->frame_size != AAC_FRAMES) {
		snprintf(err, errlen, "cannot open FFmpeg's AAC-LC encoder (44100 Hz stereo)");
		goto fail;
	}
	e->frame->format = AV_SAMPLE_FMT_FLTP;
	e->frame->sample_rate = 44100;
	e->frame->nb_samples = AAC_FRAMES;
	av_channel_layout_default(&e->frame->ch_layout, 2);
	if (av_frame_get_buffer(e->frame, 0) < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	/* the priming frame: the encoder answers it with no packet */
	if (send_pcm(e, NULL, 0) < 0 || avcodec_receive_packet(e->cc, e->pkt) != AVERROR(EAGAIN)) {
		snprintf(err, errlen, "FFmpeg's AAC encoder does not hold one frame back as "
			 "expected");
		goto fail;
	}
	return e;
fail:
	aac_enc_free(e);
	return NULL;
}

void aac_enc_free(struct aac_enc *e)
{
	if (!e) {
		return;
	}
	/* drain what it holds back (else it warns of frames left in its queue) */
	if (e->cc && avcodec_is_open(e->cc) && e->pkt && !avcodec_send_frame(e->cc, NULL)) {
		while (!avcodec_receive_packet(e->cc, e->pkt)) {
			av_packet_unref(e->pkt);
		}
	}
	av_packet_free(&e->pkt);
	av_frame_free(&e->frame);
	avcodec_free_context(&e->cc);
	free(e);
}

int aac_encode(struct aac_enc *e, const int32_t *pcm, uint32_t frames, uint8_t *out)
{
	int rc;

	if (frames == 0 || frames > AAC_FRAMES) {
		return -EINVAL;
	}
	rc = send_pcm(e, pcm, frames);
	if (rc < 0) {
		return rc;
	}
	return avenc_take(e->cc, e->pkt, out, AAC_MAX_BYTES);
}
