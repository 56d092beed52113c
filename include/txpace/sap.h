/* SPDX-License-Identifier: GPL-2.0-only */
/* SAP (RFC 2974) announcements of an SDP session. */
#ifndef TXPACE_SAP_H
#define TXPACE_SAP_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#define SAP_GROUP "239.255.255.255"
#define SAP_PORT 9875

/**
 * Build an announcement (or, with @deletion, a deletion) of @sdp from the IPv4 @origin.
 * @return its length, or -ENOSPC
 */
int sap_build(uint8_t *buf, size_t cap, int deletion, uint16_t msg_hash, struct in_addr origin,
	      const char *sdp);

struct sap_msg {
	int deletion;
	uint16_t hash;
	const char *sdp;	/* inside the packet, not NUL-terminated */
	size_t sdp_len;
};

/** Parse a received SAP packet (IPv4 or IPv6 origin, any auth data). @return 0 or -EINVAL */
int sap_parse(const uint8_t *b, size_t len, struct sap_msg *m);

#endif
