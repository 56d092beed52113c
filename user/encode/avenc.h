/* SPDX-License-Identifier: GPL-2.0-only */
/* What the FFmpeg encoders (alac.c, aac.c) share: taking one packet out. */
#ifndef TXPACE_AVENC_H
#define TXPACE_AVENC_H

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <libavcodec/avcodec.h>

/*
 * The packet the encoder has for the frame just sent, copied to @out (at most @max bytes).
 * @return its length, -EOVERFLOW when longer, or FFmpeg's negative error
 */
static inline int avenc_take(AVCodecContext *cc, AVPacket *pkt, uint8_t *out, int max)
{
	int rc = avcodec_receive_packet(cc, pkt);

	if (rc < 0) {
		return rc;
	}
	if (pkt->size > max) {
		av_packet_unref(pkt);
		return -EOVERFLOW;
	}
	memcpy(out, pkt->data, (size_t)pkt->size);
	rc = pkt->size;
	av_packet_unref(pkt);
	return rc;
}

#endif
