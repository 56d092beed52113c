// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target for the RTSP response parser (what an AirPlay receiver sends back). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "txpace/rtsp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtsp_resp r;
	char *buf;
	int n;

	if (size > RTSP_MAX_MSG) {
		return 0;
	}
	buf = malloc(size + 1);
	memcpy(buf, data, size);
	buf[size] = 0;
	/* fed in growing prefixes, as the client does while bytes arrive */
	for (size_t len = size > 64 ? size - 64 : 0; len <= size; len++) {
		n = rtsp_parse(buf, len, &r);
		if (n > 0) {
			if ((size_t)n > len || r.body + r.body_len > (const uint8_t *)buf + len) {
				abort();
			}
			for (size_t i = 0; i < r.nhdr; i++) {
				if (strlen(r.hdr[i].name) + (size_t)(r.hdr[i].name - buf) > len) {
					abort();
				}
			}
			rtsp_header(&r, "CSeq");
			break;
		}
		if (n < 0) {
			break;
		}
	}
	free(buf);
	return 0;
}
