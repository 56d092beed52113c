// SPDX-License-Identifier: GPL-2.0-only
/* RTSP module: a request queue written and answered without blocking, the response parser. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "txpace/clock.h"
#include "txpace/rtsp.h"

/* A request from rtsp_send() until its answer has been handed to its callback. */
struct rtsp_req {
	char method[24];
	unsigned cseq;
	char *msg;		/* the whole request, formatted when queued */
	size_t len, off;	/* bytes of it, and how many are written */
	int64_t deadline;	/* once written: when it is given up */
	rtsp_reply_fn cb;
	void *arg;
};

struct rtsp {
	int fd;
	int timeout_ms;
	int err;		/* what ended the connection (sticky), or 0 */
	unsigned cseq;
	struct net_addr local;
	char common[512];
	/* a ring of requests: q[head] is the one in flight once its first byte is written */
	struct rtsp_req q[RTSP_MAX_QUEUED];
	unsigned head, count;
	int inflight;
	char buf[RTSP_MAX_MSG + 1];
	size_t have;		/* bytes in buf */
	size_t consumed;	/* answers handled, dropped at the start of the next rtsp_service() */
	struct rtsp_cipher ci;	/* .seal set: an encrypted connection */
};

static char *find_crlf(char *p, char *end)
{
	for (; p + 1 < end; p++) {
		if (p[0] == '\r' && p[1] == '\n') {
			return p;
		}
	}
	return NULL;
}

/* "METHOD SP URI SP RTSP/1.x" from @p to @eol into @r. @return 0 or -EINVAL */
static int request_line(const char *p, const char *eol, struct rtsp_resp *r)
{
	const char *sp1 = memchr(p, ' ', (size_t)(eol - p)), *sp2;

	if (!sp1 || sp1 == p || (size_t)(sp1 - p) >= sizeof(r->method)) {
		return -EINVAL;
	}
	for (const char *c = p; c < sp1; c++) {
		if (!((*c >= 'A' && *c <= 'Z') || *c == '_' || *c == '-')) {
			return -EINVAL;
		}
	}
	sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
	if (!sp2 || sp2 == sp1 + 1 || (size_t)(sp2 - sp1 - 1) >= sizeof(r->uri) ||
	    eol - sp2 - 1 != 8 || strncmp(sp2 + 1, "RTSP/1.", 7) || sp2[8] < '0' || sp2[8] > '9') {
		return -EINVAL;
	}
	for (const char *c = sp1 + 1; c < sp2; c++) {
		if ((unsigned char)*c <= ' ' || (unsigned char)*c >= 0x7f) {
			return -EINVAL;	/* a URI is printable ASCII (RFC 3986) */
		}
	}
	memcpy(r->method, p, (size_t)(sp1 - p));
	memcpy(r->uri, sp1 + 1, (size_t)(sp2 - sp1 - 1));
	return 0;
}

/* "RTSP/1.x SP 3DIGIT [SP reason]" from @p to @eol into @r. @return 0 or -EINVAL */
static int status_line(const char *p, const char *eol, struct rtsp_resp *r)
{
	if (eol - p < 12 || strncmp(p, "RTSP/1.", 7) != 0 || p[8] != ' ' || p[9] < '1' ||
	    p[9] > '5' || p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9' ||
	    (eol - p > 12 && p[12] != ' ')) {
		return -EINVAL;
	}
	r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	if (eol - p > 13) {
		size_t n = (size_t)(eol - p - 13);

		if (n >= sizeof(r->reason)) {
			n = sizeof(r->reason) - 1;
		}
		memcpy(r->reason, p + 13, n);
	}
	return 0;
}

/* A response, or (@request) a request. Never modifies @buf unless it returns a complete message. */
static int parse_msg(char *buf, size_t len, struct rtsp_resp *r, int request)
{
	char *end = buf + len, *p = buf, *eol, *hdr_end = NULL;
	long clen = 0;

	/* the header block must be complete before anything is modified */
	for (char *q = buf; q + 3 < end; q++) {
		if (q[0] == '\r' && q[1] == '\n' && q[2] == '\r' && q[3] == '\n') {
			hdr_end = q + 2;
			break;
		}
	}
	if (!hdr_end) {
		if (!request && len >= 8 && strncmp(buf, "RTSP/1.", 7) != 0) {
			return -EINVAL;
		}
		if (request && len >= 1 && (buf[0] < 'A' || buf[0] > 'Z')) {
			return -EINVAL;
		}
		return len >= RTSP_MAX_MSG ? -E2BIG : 0;
	}
	/* first pass, read-only: is the body complete? */
	for (char *q = find_crlf(buf, end) + 2; q < hdr_end; q = find_crlf(q, end) + 2) {
		if (!strncasecmp(q, "Content-Length:", 15)) {
			char *e;

			errno = 0;
			clen = strtol(q + 15, &e, 10);
			while (*e == ' ' || *e == '\t') {
				e++;
			}
			if (errno || clen < 0 || e != find_crlf(q, end) || e == q + 15) {
				return -EINVAL;
			}
			if (clen > RTSP_MAX_MSG) {
				return -E2BIG;
			}
		}
	}
	size_t hlen = (size_t)(hdr_end + 2 - buf);

	if (hlen + (size_t)clen > RTSP_MAX_MSG) {
		return -E2BIG;
	}
	if (len < hlen + (size_t)clen) {
		return 0;
	}
	/* second pass: split the header lines in place */
	memset(r, 0, sizeof(*r));
	eol = find_crlf(p, end);
	if (request ? request_line(p, eol, r) : status_line(p, eol, r)) {
		return -EINVAL;
	}
	for (p = eol + 2; p < hdr_end; p = eol + 2) {
		char *colon, *v;

		eol = find_crlf(p, end);
		colon = memchr(p, ':', (size_t)(eol - p));
		if (!colon || colon == p) {
			return -EINVAL;
		}
		if (r->nhdr == RTSP_MAX_HEADERS) {
			return -E2BIG;
		}
		*colon = '\0';
		*eol = '\0';
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++) {
		}
		for (char *t = eol - 1; t >= v && (*t == ' ' || *t == '\t'); t--) {
			*t = '\0';
		}
		r->hdr[r->nhdr].name = p;
		r->hdr[r->nhdr].value = v;
		r->nhdr++;
	}
	r->body = (const uint8_t *)buf + hlen;
	r->body_len = (size_t)clen;
	return (int)(hlen + (size_t)clen);
}

int rtsp_parse(char *buf, size_t len, struct rtsp_resp *r)
{
	return parse_msg(buf, len, r, 0);
}

int rtsp_parse_request(char *buf, size_t len, struct rtsp_resp *r)
{
	return parse_msg(buf, len, r, 1);
}

const char *rtsp_header(const struct rtsp_resp *r, const char *name)
{
	for (size_t i = 0; i < r->nhdr; i++) {
		if (!strcasecmp(r->hdr[i].name, name)) {
			return r->hdr[i].value;
		}
	}
	return NULL;
}

int rtsp_resp_cseq(const struct rtsp_resp *r, unsigned *cseq)
{
	const char *v = rtsp_header(r, "CSeq");
	unsigned long n;
	char *e;

	if (!v) {
		return -ENOENT;
	}
	if (*v < '0' || *v > '9') {
		return -EINVAL;
	}
	errno = 0;
	n = strtoul(v, &e, 10);
	if (errno || *e || n > UINT32_MAX) {
		return -EINVAL;
	}
	*cseq = (unsigned)n;
	return 0;
}

struct rtsp *rtsp_connect(const struct net_addr *a, int timeout_ms)
{
	struct rtsp *c = calloc(1, sizeof(*c));
	struct pollfd pfd;
	int err = 0;
	socklen_t el = sizeof(err);

	if (!c) {
		return NULL;
	}
	c->timeout_ms = timeout_ms;
	c->fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0) {
		err = errno;
		goto fail;
	}
	if (connect(c->fd, (const struct sockaddr *)&a->ss, a->len) && errno != EINPROGRESS) {
		err = errno;
		goto fail;
	}
	pfd = (struct pollfd){ c->fd, POLLOUT, 0 };
	if (poll(&pfd, 1, timeout_ms) != 1) {
		err = ETIMEDOUT;
		goto fail;
	}
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) || err) {
		err = err ? err : errno;
		goto fail;
	}
	c->local.len = sizeof(c->local.ss);
	getsockname(c->fd, (struct sockaddr *)&c->local.ss, &c->local.len);
	return c;
fail:
	rtsp_close(c);
	errno = err;
	return NULL;
}

void rtsp_close(struct rtsp *c)
{
	if (!c) {
		return;
	}
	for (unsigned i = 0; i < c->count; i++) {
		free(c->q[(c->head + i) % RTSP_MAX_QUEUED].msg);
	}
	if (c->fd >= 0) {
		close(c->fd);
	}
	free(c);
}

int rtsp_fd(const struct rtsp *c)
{
	return c->fd;
}

short rtsp_events(const struct rtsp *c)
{
	const struct rtsp_req *q = &c->q[c->head];

	return POLLIN | (c->count && !c->err && q->off < q->len ? POLLOUT : 0);
}

const struct net_addr *rtsp_local(const struct rtsp *c)
{
	return &c->local;
}

void rtsp_set_common(struct rtsp *c, const char *headers)
{
	snprintf(c->common, sizeof(c->common), "%s", headers ? headers : "");
}

const char *rtsp_inflight(const struct rtsp *c)
{
	return c->inflight ? c->q[c->head].method : NULL;
}

unsigned rtsp_pending(const struct rtsp *c)
{
	return c->count;
}

unsigned rtsp_next_cseq(const struct rtsp *c)
{
	return c->cseq + 1;
}

int64_t rtsp_deadline(const struct rtsp *c)
{
	return c->inflight ? c->q[c->head].deadline : INT64_MAX;
}

static int fail(struct rtsp *c, int err)
{
	c->err = err;
	return err;
}

/* Write the request at the head (the first byte starts its deadline) as far as the socket takes. */
static int write_head(struct rtsp *c)
{
	struct rtsp_req *q = &c->q[c->head];

	if (!c->count || q->off == q->len) {
		return 0;
	}
	if (!c->inflight) {
		c->inflight = 1;
		q->deadline = mono_ns() + (int64_t)c->timeout_ms * NSEC_PER_MSEC;
	}
	while (q->off < q->len) {
		ssize_t w = send(c->fd, q->msg + q->off, q->len - q->off, MSG_NOSIGNAL);

		if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			return 0;	/* the rest on POLLOUT */
		}
		if (w < 0) {
			return fail(c, errno == EPIPE ? -ECONNRESET : -errno);
		}
		q->off += (size_t)w;
	}
	return 0;
}

/* Replace @q's message by its sealed form (in the order requests are queued: one counter). */
static int seal_msg(struct rtsp *c, struct rtsp_req *q)
{
	size_t cap = q->len + c->ci.overhead(c->ci.ctx, q->len);
	uint8_t *out = malloc(cap);
	long n = out ? c->ci.seal(c->ci.ctx, (const uint8_t *)q->msg, q->len, out, cap) : -ENOMEM;

	if (n < 0 || (size_t)n > cap) {
		free(out);
		return -EIO;
	}
	free(q->msg);
	q->msg = (char *)out;
	q->len = (size_t)n;
	return 0;
}

void rtsp_set_cipher(struct rtsp *c, const struct rtsp_cipher *ci)
{
	if (ci) {
		c->ci = *ci;
	} else {
		c->ci = (struct rtsp_cipher){ 0 };
	}
}

/*
 * Read what the socket has into buf at have (at most @room bytes of plaintext), through the
 * cipher when there is one. @return bytes added (0 for a partial block), or as recv(): -1 with
 * errno, or -ECONNRESET (closed), -EBADMSG (a forged block), -E2BIG (no room)
 */
static long read_some(struct rtsp *c, size_t room)
{
	uint8_t raw[4096];
	ssize_t got;
	long n;

	if (!c->ci.open) {
		got = recv(c->fd, c->buf + c->have, room, 0);
		return got == 0 ? -ECONNRESET : got;
	}
	/*
	 * Opened blocks are shorter than sealed ones, but a partial block from the last read adds
	 * up to one block (1024 + 18 bytes): read at most @room less that.
	 */
	if (room <= 2048) {
		return -E2BIG;
	}
	room -= 2048;
	got = recv(c->fd, raw, room < sizeof(raw) ? room : sizeof(raw), 0);
	if (got <= 0) {
		return got == 0 ? -ECONNRESET : got;
	}
	n = c->ci.open(c->ci.ctx, raw, (size_t)got, (uint8_t *)c->buf + c->have, room);
	if (n < 0) {
		return -EBADMSG;
	}
	return n;
}

int rtsp_send(struct rtsp *c, const char *method, const char *uri, const char *extra,
	      const char *ctype, const void *body, size_t blen, rtsp_reply_fn cb, void *arg)
{
	struct rtsp_req *q;
	char head[2048];
	int n;

	if (c->err) {
		return c->err;
	}
	if (c->count == RTSP_MAX_QUEUED) {
		return -ENOBUFS;
	}
	n = snprintf(head, sizeof(head), "%s %s RTSP/1.0\r\nCSeq: %u\r\n%s%s", method, uri,
		     c->cseq + 1, c->common, extra ? extra : "");
	if (n < 0 || (size_t)n >= sizeof(head) - 64 || strlen(method) >= sizeof(q->method) ||
	    blen > RTSP_MAX_MSG) {
		return -E2BIG;
	}
	if (body) {
		n += snprintf(head + n, sizeof(head) - (size_t)n,
			      "Content-Type: %s\r\nContent-Length: %zu\r\n", ctype, blen);
	}
	n += snprintf(head + n, sizeof(head) - (size_t)n, "\r\n");
	q = &c->q[(c->head + c->count) % RTSP_MAX_QUEUED];
	*q = (struct rtsp_req){ .cseq = ++c->cseq, .len = (size_t)n + (body ? blen : 0), .cb = cb,
				.arg = arg };
	q->msg = malloc(q->len);
	if (!q->msg) {
		return -ENOMEM;
	}
	memcpy(q->msg, head, (size_t)n);
	if (body) {
		memcpy(q->msg + n, body, blen);
	}
	if (c->ci.seal && seal_msg(c, q)) {
		free(q->msg);
		return -EIO;
	}
	snprintf(q->method, sizeof(q->method), "%s", method);
	c->count++;
	return write_head(c);
}

/* The answer to the request in flight: retire it, then hand the answer to its callback. */
static int answered(struct rtsp *c, const struct rtsp_resp *r)
{
	struct rtsp_req q = c->q[c->head];
	unsigned cseq;
	int rc = rtsp_resp_cseq(r, &cseq);

	/*
	 * One request at a time, so an answer is the one in flight's: by its CSeq, or (a receiver
	 * that leaves CSeq out) by order. Anything else answers nothing we asked: dropped.
	 */
	if (!c->inflight || c->q[c->head].off < c->q[c->head].len || rc == -EINVAL ||
	    (!rc && cseq != q.cseq)) {
		return 0;
	}
	free(q.msg);
	c->head = (c->head + 1) % RTSP_MAX_QUEUED;
	c->count--;
	c->inflight = 0;
	/* the next request goes out before the callback, which may queue more */
	rc = write_head(c);
	if (rc) {
		return rc;
	}
	return q.cb ? q.cb(q.arg, q.method, r) : 0;
}

int rtsp_service(struct rtsp *c)
{
	int rc;

	if (c->err) {
		return c->err;
	}
	/* answers handled by earlier calls (their callbacks are done with them) */
	memmove(c->buf, c->buf + c->consumed, c->have - c->consumed);
	c->have -= c->consumed;
	c->consumed = 0;
	rc = write_head(c);
	if (rc) {
		return rc;
	}
	for (;;) {
		struct rtsp_resp r;

		/* the parser modifies the buffer only once the whole message is there */
		rc = rtsp_parse(c->buf + c->consumed, c->have - c->consumed, &r);
		if (rc > 0) {
			c->consumed += (size_t)rc;
			rc = answered(c, &r);
			if (rc) {
				return rc;
			}
			continue;
		}
		if (rc < 0) {
			return fail(c, rc == -EINVAL ? -EPROTO : rc);
		}
		if (c->have == RTSP_MAX_MSG) {
			if (!c->consumed) {
				return fail(c, -E2BIG);
			}
			break;	/* room at the next call, once the answers before it go */
		}
		long got = read_some(c, RTSP_MAX_MSG - c->have);

		if (got == -ECONNRESET || got == -EBADMSG || got == -E2BIG) {
			return fail(c, (int)got);
		}
		if (c->ci.open && got == 0) {
			continue;	/* a partial block: read on until the socket is empty */
		}
		if (got < 0 && errno == EINTR) {
			continue;
		}
		if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			break;
		}
		if (got < 0) {
			return fail(c, errno == ECONNRESET ? -ECONNRESET : -errno);
		}
		c->have += (size_t)got;
	}
	if (c->inflight && mono_ns() >= c->q[c->head].deadline) {
		return fail(c, -ETIMEDOUT);
	}
	return 0;
}

struct sync_wait {
	struct rtsp_resp *r;
	int done;
};

static int sync_reply(void *arg, const char *method, const struct rtsp_resp *r)
{
	struct sync_wait *w = arg;

	*w->r = *r;	/* points into buf, which the next rtsp_service() call compacts */
	w->done = 1;
	return 0;
}

int rtsp_request(struct rtsp *c, const char *method, const char *uri, const char *extra,
		 const char *ctype, const void *body, size_t blen, struct rtsp_resp *r)
{
	struct sync_wait w = { r, 0 };
	int rc = rtsp_send(c, method, uri, extra, ctype, body, blen, sync_reply, &w);

	while (!rc && !w.done) {
		struct pollfd pfd = { c->fd, rtsp_events(c), 0 };
		int64_t left = rtsp_deadline(c) - mono_ns();

		if (left > (int64_t)c->timeout_ms * NSEC_PER_MSEC) {
			left = (int64_t)c->timeout_ms * NSEC_PER_MSEC;
		}
		poll(&pfd, 1, left > 0 ? (int)(left / NSEC_PER_MSEC) + 1 : 0);
		rc = rtsp_service(c);
	}
	return rc;
}
