/* SPDX-License-Identifier: GPL-2.0-only */
/* ALAC frames for RAOP: 44.1 kHz 16-bit stereo, 352 samples per frame. */
#ifndef TXPACE_ALAC_H
#define TXPACE_ALAC_H

#include <stddef.h>
#include <stdint.h>

#define ALAC_FRAMES 352
#define ALAC_MAX_BYTES (7 + ALAC_FRAMES * 4 + 1)	/* an escape frame with the size field */

enum alac_mode {
	ALAC_COMPRESSED,	/* FFmpeg's alac encoder (it falls back to escape when that is smaller) */
	ALAC_ESCAPE,		/* uncompressed escape frames only */
};

struct alac_enc;

/** @return an encoder or NULL with a reason in @err */
struct alac_enc *alac_enc_new(enum alac_mode mode, char *err, size_t errlen);
void alac_enc_free(struct alac_enc *e);
/**
 * Encode @frames (1..352) stereo frames of left-justified 32-bit samples (top 16 bits used).
 * Fewer than 352 frames use the has-size form (a short last packet).
 * @return bytes written to @out (at most ALAC_MAX_BYTES), or a negative errno
 */
int alac_encode(struct alac_enc *e, const int32_t *pcm, uint32_t frames, uint8_t *out);
/** The escape (uncompressed) form, exposed for tests. */
size_t alac_escape_frame(const int32_t *pcm, uint32_t frames, uint8_t *out);
/** The 24-byte magic cookie (the SDP fmtp fields, big-endian) for a CAF or MP4 wrapper. */
void alac_cookie(uint8_t out[24]);

#endif
