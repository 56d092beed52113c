/* SPDX-License-Identifier: GPL-2.0-only */
/* SDP (RFC 8866) descriptions of the streams txpace sends. */
#ifndef TXPACE_SDP_H
#define TXPACE_SDP_H

#include <stddef.h>
#include <stdint.h>

#include "txpace/net.h"

struct sdp_stream {
	const char *name;		/* s= line */
	struct net_addr origin;		/* the sender's own address */
	struct net_addr dest;		/* where the stream goes (c= and m= port) */
	int ttl;			/* for multicast c= lines */
	uint8_t pt;
	const char *encoding;		/* "L16", "L24" */
	uint32_t rate, channels;
	int64_t ptime_ns;
	uint64_t session_id;
	/* AES67 (RFC 7273 clock signalling), when ptp is set */
	int ptp;
	char ptp_gmid[24];		/* "39-A7-94-FF-FE-07-CB-D0" */
	uint8_t ptp_domain;
	uint32_t mediaclk_offset;
};

/** Write the description into @buf. @return its length, or -ENOSPC */
int sdp_format(const struct sdp_stream *s, char *buf, size_t cap);

/* What a received SDP says about its first audio stream (the subset a relay needs). */
struct sdp_in {
	char name[128];			/* s= */
	char addr[64];			/* c= address, without /ttl */
	uint16_t port;			/* m=audio port */
	uint8_t pt;
	char encoding[16];		/* "L24", "L16" */
	uint32_t rate, channels;
	int64_t ptime_ns;		/* 0 when not given */
	char source[64];		/* source-filter incl source, or "" */
	uint32_t mediaclk_offset;
	int has_mediaclk;
};

/**
 * Parse SDP text (LF or CRLF lines, not NUL-terminated necessarily).
 * @return 0, or -EINVAL when there is no usable L16/L24 audio stream
 */
int sdp_parse(const char *text, size_t len, struct sdp_in *out);

#endif
