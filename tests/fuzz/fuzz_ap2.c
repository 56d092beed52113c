// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for what an AirPlay 2 receiver answers: the binary plists of GET /info and of
 * both SETUPs (through libplist, audioBufferSize of a buffered one included), a TXT features
 * value, a sealed audio packet (a resend a receiver-side peer might echo), and a buffered record
 * of the TCP data channel. None may crash; a refusal is -EPROTO / -EBADMSG.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "txpace/airplay2.h"
#include "txpace/discover.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t shk[32] = { 1, 2, 3 };
	struct ap2_info info;
	struct ap2_session_reply sr;
	struct ap2_stream_reply st;
	char err[256], txt[64];
	uint64_t f;
	uint8_t *pkt;

	ap2_info_parse(data, size, &info, err, sizeof(err));
	ap2_session_reply_parse(data, size, &sr, err, sizeof(err));
	ap2_stream_reply_parse(data, size, &st, err, sizeof(err));
	if (size < sizeof(txt)) {
		memcpy(txt, data, size);
		txt[size] = '\0';
		airplay_parse_features(txt, &f);
	}
	pkt = malloc(size ? size : 1);
	if (pkt) {
		memcpy(pkt, data, size);
		ap2_open_audio(shk, pkt, size);
		memcpy(pkt, data, size);
		{
			struct ap2_buffered_pkt bp;

			ap2_buffered_open(shk, pkt, size, &bp);
		}
		free(pkt);
	}
	return 0;
}
