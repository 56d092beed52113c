// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target for ptp4l's management responses (parsed by the aes67 profile). */
#include <stdint.h>
#include <stdlib.h>

#include "txpace/ptp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* as a reply on domain 0 (the default) and on domain 1 (Livewire, AES67 seed installs) */
	for (uint8_t domain = 0; domain <= 1; domain++) {
		struct ptp_status st = { 0 };
		int id = ptp_parse_response(data, size, domain, &st);

		/* accepted: long enough for a management TLV, and from the domain asked about */
		if (id > 0 && (size < 54 || data[4] != domain)) {
			abort();
		}
	}
	return 0;
}
