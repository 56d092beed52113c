// SPDX-License-Identifier: GPL-2.0-only
/* RTSP module: request writer, incremental response parser, connect/read timeouts. */
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

struct rtsp {
	int fd;
	int timeout_ms;
	unsigned cseq;
	struct net_addr local;
	char common[512];
	char buf[RTSP_MAX_MSG + 1];
	size_t have;		/* bytes in buf */
	size_t consumed;	/* length of the last response, dropped before the next read */
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

/* Never modifies @buf unless it returns a complete message. */
int rtsp_parse(char *buf, size_t len, struct rtsp_resp *r)
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
		if (len >= 8 && strncmp(buf, "RTSP/1.", 7) != 0) {
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
	/* status line: RTSP/1.0 SP 3DIGIT SP reason */
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

const char *rtsp_header(const struct rtsp_resp *r, const char *name)
{
	for (size_t i = 0; i < r->nhdr; i++) {
		if (!strcasecmp(r->hdr[i].name, name)) {
			return r->hdr[i].value;
		}
	}
	return NULL;
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
	if (c->fd >= 0) {
		close(c->fd);
	}
	free(c);
}

int rtsp_fd(const struct rtsp *c)
{
	return c->fd;
}

const struct net_addr *rtsp_local(const struct rtsp *c)
{
	return &c->local;
}

void rtsp_set_common(struct rtsp *c, const char *headers)
{
	snprintf(c->common, sizeof(c->common), "%s", headers ? headers : "");
}

static int write_all(struct rtsp *c, const char *p, size_t n, int64_t deadline)
{
	while (n) {
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EAGAIN) {
			struct pollfd pfd = { c->fd, POLLOUT, 0 };
			int64_t left = (deadline - mono_ns()) / NSEC_PER_MSEC;

			if (left <= 0 || poll(&pfd, 1, (int)left) != 1) {
				return -ETIMEDOUT;
			}
			continue;
		}
		if (w < 0) {
			return errno == EPIPE ? -ECONNRESET : -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int rtsp_request(struct rtsp *c, const char *method, const char *uri, const char *extra,
		 const char *ctype, const void *body, size_t blen, struct rtsp_resp *r)
{
	int64_t deadline = mono_ns() + (int64_t)c->timeout_ms * NSEC_PER_MSEC;
	char head[2048];
	int n, rc;

	n = snprintf(head, sizeof(head), "%s %s RTSP/1.0\r\nCSeq: %u\r\n%s%s", method, uri, ++c->cseq,
		     c->common, extra ? extra : "");
	if (n < 0 || (size_t)n >= sizeof(head) - 64) {
		return -E2BIG;
	}
	if (body) {
		n += snprintf(head + n, sizeof(head) - (size_t)n,
			      "Content-Type: %s\r\nContent-Length: %zu\r\n", ctype, blen);
	}
	n += snprintf(head + n, sizeof(head) - (size_t)n, "\r\n");
	rc = write_all(c, head, (size_t)n, deadline);
	if (!rc && body) {
		rc = write_all(c, body, blen, deadline);
	}
	if (rc) {
		return rc;
	}
	/* drop the previous response, keep anything that followed it */
	memmove(c->buf, c->buf + c->consumed, c->have - c->consumed);
	c->have -= c->consumed;
	c->consumed = 0;
	for (;;) {
		/* the parser modifies the buffer only once the whole message is there */
		rc = rtsp_parse(c->buf, c->have, r);
		if (rc > 0) {
			c->consumed = (size_t)rc;
			return 0;
		}
		if (rc < 0) {
			return rc == -EINVAL ? -EPROTO : rc;
		}
		struct pollfd pfd = { c->fd, POLLIN, 0 };
		int64_t left = (deadline - mono_ns()) / NSEC_PER_MSEC;

		if (left <= 0 || poll(&pfd, 1, (int)left) != 1) {
			return -ETIMEDOUT;
		}
		ssize_t got = recv(c->fd, c->buf + c->have, RTSP_MAX_MSG - c->have, 0);

		if (got == 0) {
			return -ECONNRESET;
		}
		if (got < 0) {
			if (errno == EAGAIN || errno == EINTR) {
				continue;
			}
			return -errno;
		}
		c->have += (size_t)got;
	}
}
