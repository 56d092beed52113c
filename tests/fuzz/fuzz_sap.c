// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target for SAP announcements and the SDP inside them (what `relay --from sap:` reads). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "txpace/sap.h"
#include "txpace/sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sap_msg m;
	struct sdp_in in;

	if (sap_parse(data, size, &m) == 0) {
		if (m.sdp < (const char *)data || m.sdp + m.sdp_len > (const char *)data + size) {
			abort();
		}
		if (sdp_parse(m.sdp, m.sdp_len, &in) == 0 &&
		    (!in.addr[0] || in.rate < 8000 || in.channels < 1 || !memchr(in.name, 0, sizeof(in.name)))) {
			abort();
		}
	}
	/* the whole input as a bare SDP file too */
	sdp_parse((const char *)data, size, &in);
	return 0;
}
