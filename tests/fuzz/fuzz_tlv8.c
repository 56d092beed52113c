// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the TLV8 reader (pairing replies from a receiver): every type looked up
 * with a small and a large output buffer; a value found is written back with the writer and
 * must read back identical.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "txpace/tlv8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[70000], again[70000], enc[80000];
	int ok = tlv8_check(data, size) == 0, t;

	for (t = 0; t < 256; t++) {
		uint8_t small[16];
		int n = tlv8_get(data, size, (uint8_t)t, out, sizeof(out));
		int m = tlv8_get(data, size, (uint8_t)t, small, sizeof(small));
		struct tlv8_writer w;

		if (!ok && n != -EBADMSG) {
			abort();
		}
		if (n < 0) {
			continue;
		}
		if ((size_t)n > size || (n <= 16 && (m != n || memcmp(small, out, (size_t)n))) ||
		    (n > 16 && m != -ENOSPC)) {
			abort();
		}
		tlv8_writer_init(&w, enc, sizeof(enc));
		if (tlv8_put(&w, (uint8_t)t, out, (size_t)n) < 0 || w.len != tlv8_encoded_len((size_t)n) ||
		    tlv8_get(enc, w.len, (uint8_t)t, again, sizeof(again)) != n ||
		    memcmp(again, out, (size_t)n) != 0) {
			abort();
		}
		tlv8_get_u8(data, size, (uint8_t)t);
	}
	return 0;
}
