/* SPDX-License-Identifier: GPL-2.0-only */
/* A small RTSP/1.0 client for RAOP: queued requests, answers through callbacks, deadlines. */
#ifndef TXPACE_RTSP_H
#define TXPACE_RTSP_H

#include <stddef.h>
#include <stdint.h>

#include "txpace/net.h"

#define RTSP_MAX_HEADERS 32
#define RTSP_MAX_MSG 65536
#define RTSP_MAX_QUEUED 8

struct rtsp_resp {
	int status;		/* a request (rtsp_parse_request): 0 */
	char reason[64];
	char method[16], uri[128];	/* a request's; "" in a response */
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
/**
 * Parse one request at the start of @buf, as rtsp_parse() a response: "METHOD SP URI SP
 * RTSP/1.x" (what a receiver sends on AirPlay 2's event connection). The same returns.
 */
int rtsp_parse_request(char *buf, size_t len, struct rtsp_resp *r);
/** @return the value of header @name (case-insensitive), or NULL */
const char *rtsp_header(const struct rtsp_resp *r, const char *name);

/**
 * The sequence number a response answers (its CSeq header).
 * @return 0 with @cseq set, -ENOENT without a CSeq header, -EINVAL when it is not a number
 */
int rtsp_resp_cseq(const struct rtsp_resp *r, unsigned *cseq);

struct rtsp;

/**
 * Called from rtsp_service() with the answer to a request (any status; @r is valid only during
 * the call). @return 0, or a negative errno that rtsp_service() then returns
 */
typedef int (*rtsp_reply_fn)(void *arg, const char *method, const struct rtsp_resp *r);

/** Connect to @a within @timeout_ms. NULL with errno set (ETIMEDOUT, ECONNREFUSED, ...). */
struct rtsp *rtsp_connect(const struct net_addr *a, int timeout_ms);
void rtsp_close(struct rtsp *c);
/** @return the TCP socket, to poll() for rtsp_events() */
int rtsp_fd(const struct rtsp *c);
/** @return the poll() events the client waits for: POLLIN, and POLLOUT while a request is unsent */
short rtsp_events(const struct rtsp *c);
/** @return the socket's local address (what the receiver sees as us) */
const struct net_addr *rtsp_local(const struct rtsp *c);
/*
 * An encrypted connection (AirPlay 2 after pairing): every request queued from then on is sealed
 * whole by @seal, and every byte read is opened by @open before the response parser sees it.
 * @seal writes the sealed form of @len bytes to @out (at most @cap). @return its length, or -errno
 * @open takes @len received bytes (keeping a partial block for the next call) and writes the
 *       plaintext to @out (at most @cap, which is at least @len). @return its length (0: only a
 *       partial block so far), or -EBADMSG (forged or corrupt: the connection ends)
 * @overhead the most bytes sealing adds to @len bytes
 */
struct rtsp_cipher {
	long (*seal)(void *ctx, const uint8_t *in, size_t len, uint8_t *out, size_t cap);
	long (*open)(void *ctx, const uint8_t *in, size_t len, uint8_t *out, size_t cap);
	size_t (*overhead)(void *ctx, size_t len);
	void *ctx;
};

/** From the next request on, everything goes through @ci (NULL: clear again). @ci is copied. */
void rtsp_set_cipher(struct rtsp *c, const struct rtsp_cipher *ci);

/** Set headers sent with every request ("Name: value\r\n..."), e.g. Session, User-Agent. */
void rtsp_set_common(struct rtsp *c, const char *headers);
/**
 * Queue a request; it is written at once unless another one awaits its answer (one at a time:
 * receivers serve RTSP in order), and @cb gets the answer from rtsp_service(). Never blocks.
 * @extra more header lines ("Name: value\r\n", may be NULL); @ctype with @body
 * @return 0, -E2BIG (too long), -ENOBUFS (RTSP_MAX_QUEUED requests unanswered), or the error
 *         that ended the connection
 */
int rtsp_send(struct rtsp *c, const char *method, const char *uri, const char *extra,
	      const char *ctype, const void *body, size_t blen, rtsp_reply_fn cb, void *arg);
/**
 * Without blocking: write what is pending, read what arrived, hand each answer to its
 * callback, and check the deadline of the request awaiting its answer (sent + the timeout).
 * @return 0, a callback's error, or -ETIMEDOUT (no answer in time: rtsp_inflight() names the
 *         request), -ECONNRESET (closed), -EPROTO (not RTSP), -E2BIG, or a socket error; any of
 *         these but a callback's ends the connection (later calls return the same)
 */
int rtsp_service(struct rtsp *c);
/** @return the method of the request awaiting its answer, or NULL */
const char *rtsp_inflight(const struct rtsp *c);
/** @return requests sent or queued and not yet answered */
unsigned rtsp_pending(const struct rtsp *c);
/** The CSeq the next request gets (its head: "METHOD URI RTSP/1.0", CSeq, the common headers). */
unsigned rtsp_next_cseq(const struct rtsp *c);
/** @return when the request in flight times out (CLOCK_MONOTONIC ns), or INT64_MAX */
int64_t rtsp_deadline(const struct rtsp *c);
/**
 * Send a request and wait (at most the timeout, serving nothing else) for its answer: for the
 * session's setup, before any stream runs. Answers to earlier rtsp_send()s go to their callbacks.
 * @return 0 with @r filled (any status), or an error as rtsp_service(); the response stays
 *         valid until the next call into the client
 */
int rtsp_request(struct rtsp *c, const char *method, const char *uri, const char *extra,
		 const char *ctype, const void *body, size_t blen, struct rtsp_resp *r);

#endif
