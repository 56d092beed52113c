// SPDX-License-Identifier: GPL-2.0-only
/*
 * AirPlay 2's event connection. SETUP (session)'s answer names an eventPort; the sender connects
 * there and the receiver sends RTSP *requests* on it (shairport-sync: "POST /command" with an
 * updateInfo plist, at once; HomePods: remote-control commands), encrypted as the RTSP channel
 * is (hapsec.h) with the Events-Salt keys, and waits for each answer. txpace answers every
 * request 200 (its CSeq echoed when it has one) and counts them. The connection is optional: a
 * receiver that does not listen, or closes it, costs a warning at most, never the stream; bytes
 * that do not decrypt or do not parse end it with one warning.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "txpace/log.h"
#include "txpace/plist.h"
#include "ap2_priv.h"

#define EV_CONNECT_MS 2000

int ap2_events_keys(struct ap2 *a, const uint8_t *secret, size_t len, char *err, size_t errlen)
{
	hapsec_free(a->ev.sec);
	a->ev.sec = hapsec_new(secret, len, HAPSEC_EVENTS, HAPSEC_CONTROLLER, err, errlen);
	return a->ev.sec ? 0 : -EIO;
}

static void end(struct ap2 *a, int warn, const char *fmt, const char *detail)
{
	snprintf(a->ev.ended, sizeof(a->ev.ended), fmt, detail);
	if (warn) {
		pr_warn("airplay2: %s's event connection: %s; the stream goes on without it", a->rname,
			a->ev.ended);
	}
	if (a->ev.fd >= 0) {
		close(a->ev.fd);
		a->ev.fd = -1;
	}
}

void ap2_events_open(struct ap2 *a, uint16_t port)
{
	struct net_addr to = a->peer;
	char why[64];
	int fd;

	a->ev.port = port;
	if (!port || !a->ev.sec || a->ev.fd >= 0) {
		return;
	}
	net_set_port(&to, port);
	fd = net_tcp_connect(&to, EV_CONNECT_MS, NULL, NULL, 1);
	if (fd < 0) {
		snprintf(why, sizeof(why), "%u: %s", port, strerror(-fd));
		end(a, 1, "cannot connect to its port %s", why);
		return;
	}
	a->ev.fd = fd;
	a->ev.connected = 1;
}

/* "POST /command updateInfo": the method, the path and the body's "type" when it has one */
static void describe(struct ap2 *a, const struct rtsp_resp *q)
{
	struct pl *root = q->body_len ? pl_parse(q->body, q->body_len) : NULL;
	const char *type = root ? pl_get_str(pl_get(root, "type")) : NULL;

	snprintf(a->ev.last, sizeof(a->ev.last), "%.15s %.40s%s%.38s", q->method, q->uri,
		 type ? " " : "", type ? type : "");
	pl_free(root);
}

static int answer(struct ap2 *a, const struct rtsp_resp *q)
{
	const char *cseq = rtsp_header(q, "CSeq");
	char msg[160];
	uint8_t out[256];
	int n = snprintf(msg, sizeof(msg), "RTSP/1.0 200 OK\r\nContent-Length: 0\r\n%s%.20s%s"
			 "Server: txpace\r\n\r\n", cseq ? "CSeq: " : "", cseq ? cseq : "",
			 cseq ? "\r\n" : "");
	long len = hapsec_seal(a->ev.sec, (const uint8_t *)msg, (size_t)n, out, sizeof(out));

	/* (an answer this small always fits an idle connection's send buffer) */
	if (len < 0 || send(a->ev.fd, out, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT) != len) {
		end(a, 1, "cannot answer it: %s", len < 0 ? strerror((int)-len) : strerror(errno));
		return -EPIPE;
	}
	a->ev.answered++;
	return 0;
}

/* Every whole request in the buffer, in order. */
static void requests(struct ap2 *a)
{
	while (a->ev.len && a->ev.fd >= 0) {
		struct rtsp_resp q;
		/* (the parser splits the header lines in place only of a whole request: consumed) */
		int n = rtsp_parse_request((char *)a->ev.in, a->ev.len, &q);

		if (n == 0) {
			return;
		}
		if (n < 0) {
			end(a, 1, "%s", n == -E2BIG ? "a request too long" : "what came is no RTSP "
			    "request");
			return;
		}
		a->ev.requests++;
		describe(a, &q);
		if (answer(a, &q)) {
			return;
		}
		memmove(a->ev.in, a->ev.in + n, a->ev.len - (size_t)n);
		a->ev.len -= (size_t)n;
	}
}

void ap2_events_service(struct ap2 *a)
{
	while (a->ev.fd >= 0) {
		uint8_t raw[4096];
		size_t room = sizeof(a->ev.in) - a->ev.len, want;
		char err[160];
		ssize_t r;
		long n;

		if (room <= HAPSEC_BLOCK + 1) {
			end(a, 1, "%s", "a request over 16 KiB");
			return;
		}
		want = room - HAPSEC_BLOCK < sizeof(raw) ? room - HAPSEC_BLOCK : sizeof(raw);
		r = recv(a->ev.fd, raw, want, MSG_DONTWAIT);
		if (r == 0) {
			end(a, 0, "%s", "the receiver closed it");
			return;
		}
		if (r < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				end(a, 1, "%s", strerror(errno));
			}
			return;
		}
		n = hapsec_feed(a->ev.sec, raw, (size_t)r, a->ev.in + a->ev.len, room, err,
				sizeof(err));
		if (n < 0) {
			end(a, 1, "%s", err);
			return;
		}
		a->ev.len += (size_t)n;
		requests(a);
	}
}

void ap2_events_close(struct ap2 *a)
{
	if (a->ev.fd >= 0) {
		close(a->ev.fd);
		a->ev.fd = -1;
	}
	hapsec_free(a->ev.sec);
	a->ev.sec = NULL;
}

void ap2_events_report(const struct ap2 *a, struct json *j)
{
	json_obj(j, "events");
	json_uint(j, "port", a->ev.port);
	json_bool(j, "connected", a->ev.connected);
	json_uint(j, "requests", a->ev.requests);
	json_uint(j, "answered", a->ev.answered);
	json_str(j, "last", a->ev.last);
	json_str(j, "ended", a->ev.ended);
	json_end(j, '}');
}
