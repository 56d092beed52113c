// SPDX-License-Identifier: GPL-2.0-only
/* SAP module: the announcement packet around an SDP. */
#include <errno.h>
#include <string.h>

#include "txpace/sap.h"

int sap_build(uint8_t *b, size_t cap, int deletion, uint16_t msg_hash, struct in_addr origin,
	      const char *sdp)
{
	static const char type[] = "application/sdp";
	size_t sl = strlen(sdp), n = 8 + sizeof(type) + sl;

	if (n > cap) {
		return -ENOSPC;
	}
	b[0] = (uint8_t)(0x20 | (deletion ? 0x04 : 0));	/* version 1, IPv4, announce/delete */
	b[1] = 0;					/* no authentication data */
	b[2] = (uint8_t)(msg_hash >> 8);
	b[3] = (uint8_t)msg_hash;
	memcpy(b + 4, &origin, 4);
	memcpy(b + 8, type, sizeof(type));		/* with its NUL */
	memcpy(b + 8 + sizeof(type), sdp, sl);
	return (int)n;
}

int sap_parse(const uint8_t *b, size_t len, struct sap_msg *m)
{
	size_t off;

	if (len < 8 || (b[0] >> 5) != 1 || (b[0] & 0x03)) {
		return -EINVAL;	/* version 1, not encrypted or compressed */
	}
	off = 4 + ((b[0] & 0x10) ? 16 : 4) + 4u * b[1];
	if (off >= len) {
		return -EINVAL;
	}
	m->deletion = (b[0] & 0x04) != 0;
	m->hash = (uint16_t)(b[2] << 8 | b[3]);
	/* an optional payload type ("application/sdp\0"); SDP itself starts with "v=" */
	if (len - off < 2 || b[off] != 'v' || b[off + 1] != '=') {
		const uint8_t *z = memchr(b + off, 0, len - off);

		if (!z) {
			return -EINVAL;
		}
		off = (size_t)(z - b) + 1;
	}
	m->sdp = (const char *)b + off;
	m->sdp_len = len - off;
	return 0;
}
