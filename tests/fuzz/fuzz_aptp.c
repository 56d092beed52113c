// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target for PTP messages a receiver sends to our 319/320 (nqptp's wake-up Announces). */
#include <stdint.h>
#include <stdlib.h>

#include "txpace/aptp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aptp_hdr h;
	struct aptp_announce an;

	if (aptp_parse(data, size, &h, NULL) == 0 &&
	    (size < APTP_HDR_LEN || h.length > size || h.length < APTP_HDR_LEN || h.version != 2)) {
		abort();
	}
	if (aptp_parse(data, size, &h, &an) == 0 && h.type == APTP_ANNOUNCE &&
	    h.length < APTP_ANNOUNCE_LEN) {
		abort();
	}
	return 0;
}
