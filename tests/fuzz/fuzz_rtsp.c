// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the RTSP response parser (what an AirPlay receiver sends back): messages
 * back to back as the client takes them from its buffer, each one's CSeq read as it is matched;
 * then the same bytes as requests (what a receiver sends on AirPlay 2's event connection).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "txpace/rtsp.h"

static void messages(const uint8_t *data, size_t size, int (*parse)(char *, size_t, struct rtsp_resp *))
{
	struct rtsp_resp r;
	char *buf;
	size_t off = 0;
	int n;

	buf = malloc(size + 1);
	memcpy(buf, data, size);
	buf[size] = 0;
	/* each message fed in growing prefixes, as the client does while bytes arrive */
	for (int msgs = 0; msgs < 8 && off < size; msgs++) {
		char *m = buf + off;
		size_t left = size - off, len;
		unsigned cseq;

		n = 0;
		for (len = left > 64 ? left - 64 : 0; len <= left; len++) {
			n = parse(m, len, &r);
			if (n != 0) {
				break;
			}
		}
		if (n <= 0) {
			break;
		}
		if ((size_t)n > len || r.body + r.body_len > (const uint8_t *)m + len ||
		    strnlen(r.method, sizeof(r.method)) == sizeof(r.method) ||
		    strnlen(r.uri, sizeof(r.uri)) == sizeof(r.uri) ||
		    (parse == rtsp_parse_request && (!r.method[0] || !r.uri[0] || r.status))) {
			abort();
		}
		for (size_t i = 0; i < r.nhdr; i++) {
			if (strlen(r.hdr[i].name) + (size_t)(r.hdr[i].name - m) > len ||
			    strlen(r.hdr[i].value) + (size_t)(r.hdr[i].value - m) > len) {
				abort();
			}
		}
		off += (size_t)n;
		n = rtsp_resp_cseq(&r, &cseq);
		if (n != 0 && n != -ENOENT && n != -EINVAL) {
			abort();
		}
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > RTSP_MAX_MSG) {
		return 0;
	}
	messages(data, size, rtsp_parse);
	messages(data, size, rtsp_parse_request);
	return 0;
}
