/* SPDX-License-Identifier: GPL-2.0-only */
/* Audio sources: files (through FFmpeg's libraries), raw PCM on stdin, built-in signals. */
#ifndef TXPACE_SOURCE_H
#define TXPACE_SOURCE_H

#include <stddef.h>
#include <stdint.h>

/* What the stream wants: every source is decoded, converted and resampled to this. */
struct source_fmt {
	uint32_t rate;
	uint32_t channels;
	uint32_t bits;		/* 16 or 24: the significant bits of each sample */
};

struct source;

/**
 * Open @spec: "tone:HZ", "sweep", "ramp", "-" (raw PCM on stdin, described by @input_format
 * "s16le|s24le|s32le|f32le:RATE:CHANNELS") or a file any libavformat demuxer reads.
 * @return the source or NULL with errno set; @err (if given) receives a one-line reason
 */
struct source *source_open(const char *spec, const char *input_format, const struct source_fmt *fmt,
			   char *err, size_t errlen);
void source_free(struct source *s);
/**
 * Read up to @frames frames, interleaved, each sample a signed value left-justified in 32 bits
 * (the top @fmt->bits bits significant, the rest zero).
 * @return frames read (fewer only at the end), 0 at the end, or a negative errno
 */
long source_read(struct source *s, int32_t *buf, size_t frames);
/**
 * Let blocking reads (stdin, a network URL) give up when @cb returns non-zero; source_read()
 * then returns -EINTR.
 */
void source_set_interrupt(struct source *s, int (*cb)(void *arg), void *arg);
/**
 * Move the read position by @delta_frames (clamped to the start); files seek with libavformat
 * (to the nearest point the format allows), generators jump exactly, stdin cannot seek.
 * @return the new position in frames, or -ESPIPE / a negative errno
 */
int64_t source_seek(struct source *s, int64_t delta_frames);
/** @return total frames at the stream rate if known, else -1 */
int64_t source_total_frames(const struct source *s);
/** @return packets the decoder could not decode (their samples are missing from the stream) */
uint64_t source_decode_errors(const struct source *s);
/** @return a short description ("tone 1000 Hz", "file x.wav (pcm_s16le 44100 Hz 2 ch)") */
const char *source_describe(const struct source *s);

#endif
