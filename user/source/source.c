// SPDX-License-Identifier: GPL-2.0-only
/*
 * Source module: the public face (txpace/source.h). A spec names a built-in signal
 * (source_signal.c), raw PCM on stdin (source_stdin.c) or a file (source_file.c); files and stdin
 * are converted to the stream format (source_convert.c). Only user/source/ touches
 * libavformat/libavcodec/libswresample.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txpace/log.h"
#include "source_priv.h"

void source_set_err(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

int source_interrupted(void *arg)
{
	struct source *s = arg;

	return s->intr && s->intr(s->intr_arg);
}

void source_set_interrupt(struct source *s, int (*cb)(void *arg), void *arg)
{
	s->intr = cb;
	s->intr_arg = arg;
}

struct source *source_open(const char *spec, const char *input_format, const struct source_fmt *fmt,
			   char *err, size_t errlen)
{
	struct source *s;
	int rc = 0;

	if (!fmt->rate || fmt->channels < 1 || fmt->channels > 8 ||
	    (fmt->bits != 16 && fmt->bits != 24 && fmt->bits != 32)) {
		source_set_err(err, errlen, "invalid stream format");
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		return NULL;
	}
	s->fmt = *fmt;
	s->total = -1;
	av_log_set_level(log_level >= LOG_DEBUG ? AV_LOG_INFO : AV_LOG_QUIET);
	if (source_is_signal(spec)) {
		rc = source_signal_open(s, spec, err, errlen);
	} else if (!strcmp(spec, "-")) {
		s->kind = SRC_STDIN;
		rc = source_stdin_open(s, input_format, err, errlen);
	} else {
		s->kind = SRC_FILE;
		rc = source_file_open(s, spec, err, errlen);
	}
	if (rc) {
		source_free(s);
		errno = rc < 0 && rc > -4096 ? -rc : EINVAL;
		return NULL;
	}
	return s;
}

void source_free(struct source *s)
{
	if (!s) {
		return;
	}
	swr_free(&s->swr);
	av_channel_layout_uninit(&s->swr_layout);
	av_frame_free(&s->frame);
	av_packet_free(&s->pkt);
	avcodec_free_context(&s->cc);
	avformat_close_input(&s->fc);
	free(s->buf);
	free(s->raw_buf);
	free(s);
}

long source_read(struct source *s, int32_t *out, size_t frames)
{
	size_t done = 0;

	if (s->kind == SRC_TONE || s->kind == SRC_SWEEP || s->kind == SRC_RAMP) {
		return source_signal_read(s, out, frames);
	}
	while (done < frames) {
		int rc = s->kind == SRC_FILE ? source_file_fill(s) : source_stdin_fill(s);
		size_t avail, n;

		if (rc < 0) {
			return rc;
		}
		avail = s->buf_frames - s->buf_off;
		if (avail == 0) {
			break;
		}
		n = avail < frames - done ? avail : frames - done;
		memcpy(out + done * s->fmt.channels, s->buf + s->buf_off * s->fmt.channels,
		       n * s->fmt.channels * sizeof(int32_t));
		s->buf_off += n;
		done += n;
		if (s->buf_off == s->buf_frames) {
			s->buf_off = s->buf_frames = 0;
		}
	}
	s->pos += done;
	return (long)done;
}

int64_t source_seek(struct source *s, int64_t delta_frames)
{
	int64_t target = (int64_t)s->pos + delta_frames;
	int rc;

	if (target < 0) {
		target = 0;
	}
	if (s->kind == SRC_STDIN) {
		return -ESPIPE;
	}
	if (s->kind == SRC_FILE) {
		rc = source_file_seek(s, target);
		if (rc < 0) {
			return rc;
		}
	}
	s->pos = (uint64_t)target;
	return target;
}

int64_t source_total_frames(const struct source *s)
{
	return s->total;
}

uint64_t source_decode_errors(const struct source *s)
{
	return s->decode_errors;
}

const char *source_describe(const struct source *s)
{
	return s->desc;
}
