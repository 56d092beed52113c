// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target for what an AirPlay receiver sends on the control and timing ports. */
#include <stdint.h>
#include <stdlib.h>

#include "txpace/raop.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct raop_resend r;
	uint64_t tx;

	if (raop_parse_resend(data, size, &r) == 0 && (size < 8 || r.count == 0)) {
		abort();
	}
	if (raop_parse_timing(data, size, &tx) == 0 && size < 32) {
		abort();
	}
	return 0;
}
