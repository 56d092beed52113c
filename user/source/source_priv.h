/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Source module, inside: struct source and the calls between its files. source.c is the public
 * face (open, read, seek, the accessors); source_signal.c the built-in signals; source_file.c
 * files through libavformat/libavcodec; source_stdin.c raw PCM on stdin; source_convert.c the
 * conversion of both to the stream format (libswresample). Only user/source/ includes libav*.
 */
#ifndef TXPACE_SOURCE_PRIV_H
#define TXPACE_SOURCE_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libswresample/swresample.h>

#include "txpace/source.h"

enum src_kind { SRC_FILE, SRC_STDIN, SRC_TONE, SRC_SWEEP, SRC_RAMP };
enum raw_fmt { RAW_S16, RAW_S24, RAW_S32, RAW_F32 };

struct source {
	enum src_kind kind;
	struct source_fmt fmt;
	char desc[160];
	int64_t total;
	uint64_t pos;		/* frames produced */
	uint64_t decode_errors;
	/* generators */
	double freq, phase, sweep_f0, sweep_f1, sweep_secs;
	/* libav path */
	AVFormatContext *fc;
	AVCodecContext *cc;
	AVPacket *pkt;
	AVFrame *frame;
	int stream;
	int eof_demux, eof_decode, flushed;
	/* conversion to the stream format (files and stdin) */
	SwrContext *swr;
	enum AVSampleFormat out_sfmt;
	int32_t *buf;		/* converted frames not yet handed out */
	size_t buf_frames, buf_off, buf_cap;
	/* the decoder's output as swr was set up for it (a change mid-stream reconfigures) */
	int swr_rate, swr_fmt;
	AVChannelLayout swr_layout;
	int consecutive_errors;
	int (*intr)(void *);
	void *intr_arg;
	/* stdin */
	enum raw_fmt raw;
	uint32_t in_rate, in_ch;
	uint8_t *raw_buf;
	size_t raw_fill;
	int stdin_eof;
};

/* source.c */

/** The one-line reason into @err (which may be NULL). */
void source_set_err(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/** @return non-zero once the caller's interrupt callback asks blocking reads to give up */
int source_interrupted(void *arg);

/* source_signal.c: "tone:HZ", "sweep", "ramp" */

/** @return 1 when @spec names a built-in signal */
int source_is_signal(const char *spec);
int source_signal_open(struct source *s, const char *spec, char *err, size_t errlen);
long source_signal_read(struct source *s, int32_t *out, size_t frames);

/* source_convert.c: libswresample to s->fmt, into s->buf */

/** (Re)create the resampler from @in_layout, @in_fmt, @in_rate to the stream format. */
int source_swr_setup(struct source *s, AVChannelLayout *in_layout, enum AVSampleFormat in_fmt,
		     int in_rate);
/** Convert @in_frames and append to s->buf; @in == NULL flushes. @return frames, or AVERROR */
int source_convert(struct source *s, const uint8_t **in, int in_frames);

/* source_file.c: any file (or URL) libavformat demuxes */

int source_file_open(struct source *s, const char *path, char *err, size_t errlen);
/** Decode until at least one converted frame is buffered or the file ends. */
int source_file_fill(struct source *s);
/** Seek to frame @target; what is buffered is dropped. @return 0 or an AVERROR */
int source_file_seek(struct source *s, int64_t target);

/* source_stdin.c: raw PCM, described by --input-format */

int source_stdin_open(struct source *s, const char *input_format, char *err, size_t errlen);
int source_stdin_fill(struct source *s);

#endif
