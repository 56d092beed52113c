// SPDX-License-Identifier: GPL-2.0-only
/*
 * Source module, conversion: files and stdin go through libswresample to the stream format, into
 * the buffer source_read() hands out (left-justified S32, the bits below fmt.bits zero).
 */
#include <errno.h>
#include <string.h>
#include <stdlib.h>

#include <libavutil/opt.h>

#include "source_priv.h"

int source_swr_setup(struct source *s, AVChannelLayout *in_layout, enum AVSampleFormat in_fmt,
		     int in_rate)
{
	AVChannelLayout out_layout;
	int rc;

	av_channel_layout_default(&out_layout, (int)s->fmt.channels);
	s->out_sfmt = s->fmt.bits == 16 ? AV_SAMPLE_FMT_S16 : AV_SAMPLE_FMT_S32;
	s->swr_rate = in_rate;
	s->swr_fmt = in_fmt;
	av_channel_layout_uninit(&s->swr_layout);
	av_channel_layout_copy(&s->swr_layout, in_layout);
	rc = swr_alloc_set_opts2(&s->swr, &out_layout, s->out_sfmt, (int)s->fmt.rate, in_layout,
				 in_fmt, in_rate, 0, NULL);
	av_channel_layout_uninit(&out_layout);
	if (rc < 0) {
		return rc;
	}
	return swr_init(s->swr);
}

/* Grow the output buffer (the producer thread only; it settles after the first frames). */
static int reserve(struct source *s, size_t frames)
{
	size_t need = s->buf_frames + frames;

	if (need <= s->buf_cap) {
		return 0;
	}
	if (s->buf_off) {
		memmove(s->buf, s->buf + s->buf_off * s->fmt.channels,
			(s->buf_frames - s->buf_off) * s->fmt.channels * sizeof(int32_t));
		s->buf_frames -= s->buf_off;
		s->buf_off = 0;
		need = s->buf_frames + frames;
		if (need <= s->buf_cap) {
			return 0;
		}
	}
	int32_t *nb = realloc(s->buf, need * 2 * s->fmt.channels * sizeof(int32_t));

	if (!nb) {
		return -ENOMEM;
	}
	s->buf = nb;
	s->buf_cap = need * 2;
	return 0;
}

/* Convert through swr and append to buf; in == NULL flushes the resampler. */
int source_convert(struct source *s, const uint8_t **in, int in_frames)
{
	int max_out = swr_get_out_samples(s->swr, in_frames);
	uint8_t *out;
	int n;

	if (max_out < 0) {
		return max_out;
	}
	if (reserve(s, (size_t)max_out + 16)) {
		return -ENOMEM;
	}
	out = (uint8_t *)(s->buf + s->buf_frames * s->fmt.channels);
	n = swr_convert(s->swr, &out, max_out + 16, in, in_frames);
	if (n < 0) {
		return n;
	}
	if (s->out_sfmt == AV_SAMPLE_FMT_S16) {
		/* widen in place, back to front: S16 -> left-justified S32 */
		int16_t *p16 = (int16_t *)out;
		size_t cnt = (size_t)n * s->fmt.channels;

		for (size_t i = cnt; i-- > 0;) {
			((int32_t *)out)[i] = (int32_t)((uint32_t)(uint16_t)p16[i] << 16);
		}
	} else if (s->fmt.bits < 32) {
		uint32_t mask = ~((1u << (32 - s->fmt.bits)) - 1);
		size_t cnt = (size_t)n * s->fmt.channels;

		for (size_t i = 0; i < cnt; i++) {
			((int32_t *)out)[i] = (int32_t)((uint32_t)((int32_t *)out)[i] & mask);
		}
	}
	s->buf_frames += (size_t)n;
	return n;
}
