// SPDX-License-Identifier: GPL-2.0-only
/*
 * Source module, stdin: raw interleaved PCM (s16le, s24le, s32le, f32le at a given rate and
 * channel count), read as it arrives (a live pipe never waits for a full chunk), converted to the
 * stream format.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "txpace/log.h"
#include "source_priv.h"

static int parse_input_format(struct source *s, const char *f, char *err, size_t errlen)
{
	char name[16];
	unsigned rate, ch;
	char tail;

	if (!f || sscanf(f, "%15[a-z0-9]:%u:%u%c", name, &rate, &ch, &tail) != 3) {
		source_set_err(err, errlen,
			       "stdin needs --input-format FMT:RATE:CHANNELS, e.g. s16le:48000:2");
		return -EINVAL;
	}
	if (!strcmp(name, "s16le")) {
		s->raw = RAW_S16;
	} else if (!strcmp(name, "s24le")) {
		s->raw = RAW_S24;
	} else if (!strcmp(name, "s32le")) {
		s->raw = RAW_S32;
	} else if (!strcmp(name, "f32le")) {
		s->raw = RAW_F32;
	} else {
		source_set_err(err, errlen,
			       "unsupported input format '%s' (s16le, s24le, s32le, f32le)", name);
		return -EINVAL;
	}
	if (rate < 8000 || rate > 384000 || ch < 1 || ch > 8) {
		source_set_err(err, errlen, "input format %s: rate 8000-384000 and 1-8 channels",
			       f);
		return -EINVAL;
	}
	s->in_rate = rate;
	s->in_ch = ch;
	return 0;
}

static unsigned raw_bytes(enum raw_fmt f)
{
	return f == RAW_S16 ? 2 : f == RAW_S24 ? 3 : 4;
}

#define RAW_CHUNK 1024	/* frames per read from stdin */

int source_stdin_fill(struct source *s)
{
	size_t fsz = raw_bytes(s->raw) * s->in_ch, want = RAW_CHUNK * fsz;

	while (s->buf_frames == s->buf_off && !s->flushed) {
		if (s->stdin_eof) {
			int rc = source_convert(s, NULL, 0);

			if (rc < 0) {
				return rc;
			}
			if (rc == 0) {
				s->flushed = 1;
			}
			continue;
		}
		struct pollfd pfd = { STDIN_FILENO, POLLIN, 0 };

		if (source_interrupted(s)) {
			return -EINTR;
		}
		if (poll(&pfd, 1, 100) == 0) {
			continue;
		}
		ssize_t n = read(STDIN_FILENO, s->raw_buf + s->raw_fill, want - s->raw_fill);

		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				continue;
			}
			return -errno;
		}
		if (n == 0) {
			s->stdin_eof = 1;
			if (s->raw_fill % fsz) {
				pr_warn("stdin ended inside a frame: %zu trailing bytes dropped",
					s->raw_fill % fsz);
			}
		}
		s->raw_fill += (size_t)n;
		size_t frames = s->raw_fill / fsz;

		/* convert whatever whole frames have arrived: a live pipe must not wait for more */
		if (frames == 0) {
			continue;
		}
		const uint8_t *in = s->raw_buf;
		int32_t tmp[RAW_CHUNK * 8];

		if (s->raw == RAW_S24) {
			/* swr has no packed 24-bit format: widen to S32 first */
			for (size_t i = 0; i < frames * s->in_ch; i++) {
				const uint8_t *p = s->raw_buf + 3 * i;

				tmp[i] = (int32_t)((uint32_t)p[0] << 8 | (uint32_t)p[1] << 16 |
						   (uint32_t)p[2] << 24);
			}
			in = (const uint8_t *)tmp;
		}
		int rc = source_convert(s, &in, (int)frames);

		if (rc < 0) {
			return rc;
		}
		memmove(s->raw_buf, s->raw_buf + frames * fsz, s->raw_fill - frames * fsz);
		s->raw_fill -= frames * fsz;
	}
	return 0;
}

int source_stdin_open(struct source *s, const char *input_format, char *err, size_t errlen)
{
	static const enum AVSampleFormat map[] = { AV_SAMPLE_FMT_S16, AV_SAMPLE_FMT_S32,
						   AV_SAMPLE_FMT_S32, AV_SAMPLE_FMT_FLT };
	AVChannelLayout layout;
	int rc;

	rc = parse_input_format(s, input_format, err, errlen);
	if (rc) {
		return rc;
	}
	av_channel_layout_default(&layout, (int)s->in_ch);
	rc = source_swr_setup(s, &layout, map[s->raw], (int)s->in_rate);
	av_channel_layout_uninit(&layout);
	if (rc < 0) {
		source_set_err(err, errlen, "cannot convert %s to the stream format", input_format);
		return rc;
	}
	s->raw_buf = malloc(RAW_CHUNK * 4 * s->in_ch);
	if (!s->raw_buf) {
		return -ENOMEM;
	}
	snprintf(s->desc, sizeof(s->desc), "stdin (%s)", input_format);
	return 0;
}
