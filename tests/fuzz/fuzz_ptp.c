// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target for ptp4l's management responses (parsed by the aes67 profile). */
#include <stdint.h>
#include <stdlib.h>

#include "txpace/ptp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ptp_status st = { 0 };
	int id = ptp_parse_response(data, size, &st);

	if (id > 0 && size < 54) {
		abort();
	}
	return 0;
}
