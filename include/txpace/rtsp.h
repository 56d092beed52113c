/* SPDX-License-Identifier: GPL-2.0-only */
/* A small RTSP/1.0 client for RAOP: requests with CSeq, a robust response parser, timeouts. */
#ifndef TXPACE_RTSP_H
#define TXPACE_RTSP_H

#include <stddef.h>
#include <stdint.h>

#include "txpace/net.h"

#define RTSP_MAX_HEADERS 32
#define RTSP_MAX_MSG 65536

struct rtsp_resp {
	int status;
	char reason[64];
	size_t nhdr;
	struct {
		const char *name, *value;	/* NUL-terminated, inside the parse buffer */
	} hdr[RTSP_MAX_HEADERS];
	const uint8_t *body;
	size_t body_len;
};

/**
 * Parse one response at the start of @buf (modified in place: header lines are NUL-terminated).
 * @return the message length when complete, 0 when more bytes are needed, -EINVAL when it is not
 *         an RTSP response, -E2BIG when it would exceed RTSP_MAX_MSG or RTSP_MAX_HEADERS
 */
int rtsp_parse(char *buf, size_t len, struct rtsp_resp *r);
/** @return the value of header @name (case-insensitive), or NULL */
const char *rtsp_header(const struct rtsp_resp *r, const char *name);

struct rtsp;

/** Connect to @a within @timeout_ms. NULL with errno set (ETIMEDOUT, ECONNREFUSED, ...). */
struct rtsp *rtsp_connect(const struct net_addr *a, int timeout_ms);
void rtsp_close(struct rtsp *c);
/** @return the TCP socket (to watch it for the receiver closing the connection) */
int rtsp_fd(const struct rtsp *c);
/** @return the socket's local address (what the receiver sees as us) */
const struct net_addr *rtsp_local(const struct rtsp *c);
/** Set headers sent with every request ("Name: value\r\n..."), e.g. Session, User-Agent. */
void rtsp_set_common(struct rtsp *c, const char *headers);
/**
 * Send a request and wait (at most the timeout) for its response.
 * @extra more header lines ("Name: value\r\n", may be NULL); @ctype with @body
 * @return 0 with @r filled (any status), or -ETIMEDOUT, -ECONNRESET (closed), -EPROTO (garbage),
 *         -E2BIG, or a socket error; the response stays valid until the next request
 */
int rtsp_request(struct rtsp *c, const char *method, const char *uri, const char *extra,
		 const char *ctype, const void *body, size_t blen, struct rtsp_resp *r);

#endif
