/* SPDX-License-Identifier: GPL-2.0-only */
/* AAC-LC frames (44.1 kHz stereo, 1024 samples each), raw (no ADTS), by FFmpeg's aac encoder. */
#ifndef TXPACE_AAC_H
#define TXPACE_AAC_H

#include <stddef.h>
#include <stdint.h>

#define AAC_FRAMES	1024
#define AAC_MAX_BYTES	6144	/* 6144 bits per channel is the format's bound: 1536 bytes for two */

struct aac_enc;

/** @bitrate bits per second (0: 256000). @return an encoder, or NULL with a reason in @err */
struct aac_enc *aac_enc_new(long bitrate, char *err, size_t errlen);
void aac_enc_free(struct aac_enc *e);
/**
 * Encode @frames (1..1024; fewer are padded with silence) stereo frames of left-justified 32-bit
 * samples. The encoder delays by one frame (its priming frame went in at aac_enc_new), so the
 * packet returned holds the audio of the call before: AAC's usual 1024-sample lead.
 * @return bytes written to @out (at most AAC_MAX_BYTES), or a negative errno
 */
int aac_encode(struct aac_enc *e, const int32_t *pcm, uint32_t frames, uint8_t *out);

#endif
