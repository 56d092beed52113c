// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the RTP input path of `txpace measure`: the input is a series of
 * datagrams (u16 big-endian length + bytes + u32 arrival delta in us); each goes through
 * rtp_parse(), the accepted ones through the same analysis measure runs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "txpace/measure.h"
#include "txpace/rtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct measure_rec recs[512];
	struct measure_report rep;
	size_t n = 0, off = 0;
	int64_t t = 0;
	uint64_t ext = 1ull << 32;
	uint16_t last = 0;

	while (off + 2 <= size && n < 512) {
		size_t len = (size_t)data[off] << 8 | data[off + 1];
		struct rtp_hdr h;

		off += 2;
		if (len > size - off) {
			len = size - off;
		}
		if (rtp_parse(data + off, len, &h) == 0) {
			/* what parse accepted must lie inside the datagram */
			if (h.payload_off + h.payload_len > len) {
				abort();
			}
			ext = n ? ext + (uint64_t)(int64_t)(int16_t)(h.seq - last) : ext + h.seq;
			last = h.seq;
			recs[n++] = (struct measure_rec){ .seq = ext, .ts = h.ts, .arrival_ns = t };
		}
		off += len;
		if (off + 4 <= size) {
			uint32_t d;

			memcpy(&d, data + off, 4);
			t += (int64_t)(d % 100000000u);
			off += 4;
		}
	}
	memset(&rep, 0, sizeof(rep));
	double *res = NULL;

	if (measure_analyse(recs, n, &rep, &res) < 0) {
		return 0;
	}
	free(res);
	return 0;
}
