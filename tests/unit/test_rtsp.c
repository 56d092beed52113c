// SPDX-License-Identifier: GPL-2.0-only
/* The RTSP client against a peer on loopback: queued requests, answers by CSeq, deadlines. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "txpace/clock.h"
#include "txpace/rtsp.h"
#include "unit.h"

/* what the callbacks saw */
struct seen {
	int calls, status[8];
	char method[8][16], body[64];
	int fail_with;		/* the callback's return */
};

static int on_answer(void *arg, const char *method, const struct rtsp_resp *r)
{
	struct seen *s = arg;

	if (s->calls < 8) {
		s->status[s->calls] = r->status;
		snprintf(s->method[s->calls], sizeof(s->method[0]), "%s", method);
	}
	snprintf(s->body, sizeof(s->body), "%.*s", (int)r->body_len, (const char *)r->body);
	s->calls++;
	return s->fail_with;
}

/* A listener on 127.0.0.1 (any port), a client connected to it, and the peer's end. */
static struct rtsp *pair(int timeout_ms, int *peer)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct net_addr na = { .len = sizeof(a) };
	struct rtsp *c;

	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &al)) {
		return NULL;
	}
	memcpy(&na.ss, &a, sizeof(a));
	c = rtsp_connect(&na, timeout_ms);
	*peer = c ? accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC) : -1;
	close(l);
	return c;
}

/* What the peer has received so far (NUL-terminated in @buf), waiting up to 1 s for @want bytes */
static size_t peer_read(int peer, char *buf, size_t cap, size_t want)
{
	size_t have = 0;
	int64_t until = mono_ns() + NSEC_PER_SEC;

	while (have < want && have + 1 < cap && mono_ns() < until) {
		struct pollfd p = { peer, POLLIN, 0 };
		ssize_t n;

		poll(&p, 1, 20);
		n = recv(peer, buf + have, cap - 1 - have, 0);
		if (n > 0) {
			have += (size_t)n;
		}
	}
	buf[have] = 0;
	return have;
}

static void say(int peer, const char *s)
{
	CHECK_EQ(send(peer, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

/* rtsp_service() until the callbacks have seen @calls answers or it fails (1 s at most) */
static int serve_until(struct rtsp *c, struct seen *s, int calls)
{
	int64_t until = mono_ns() + NSEC_PER_SEC;
	int rc = 0;

	while (!rc && s->calls < calls && mono_ns() < until) {
		struct pollfd p = { rtsp_fd(c), rtsp_events(c), 0 };

		poll(&p, 1, 20);
		rc = rtsp_service(c);
	}
	return rc;
}

static void test_queue(void)
{
	struct seen s = { 0 };
	char buf[4096];
	int peer;
	struct rtsp *c = pair(2000, &peer);

	CHECK(c != NULL);
	if (!c) {
		return;
	}
	rtsp_set_common(c, "Session: 1\r\n");
	CHECK_EQ(rtsp_send(c, "OPTIONS", "*", NULL, NULL, NULL, 0, on_answer, &s), 0);
	/* written at once, and it is the one awaiting its answer, with a deadline */
	CHECK(peer_read(peer, buf, sizeof(buf), 40) > 0);
	CHECK(!strcmp(buf, "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nSession: 1\r\n\r\n"));
	CHECK(rtsp_inflight(c) && !strcmp(rtsp_inflight(c), "OPTIONS"));
	CHECK(rtsp_deadline(c) > mono_ns() + NSEC_PER_SEC);
	CHECK(rtsp_deadline(c) <= mono_ns() + 2 * NSEC_PER_SEC);
	/* the second waits for the first's answer: nothing more on the wire yet */
	CHECK_EQ(rtsp_send(c, "SET_PARAMETER", "rtsp://x/1", NULL, "text/parameters",
			   "volume: -3\r\n", 12, on_answer, &s), 0);
	CHECK_EQ(rtsp_pending(c), 2);
	CHECK_EQ(rtsp_service(c), 0);
	CHECK_EQ(recv(peer, buf, sizeof(buf), 0), -1);
	/* an answer to a CSeq nobody sent is dropped; then the real one, in two pieces */
	say(peer, "RTSP/1.0 200 OK\r\nCSeq: 7\r\n\r\nRTSP/1.0 200 OK\r\nCSe");
	CHECK_EQ(rtsp_service(c), 0);
	CHECK_EQ(s.calls, 0);
	say(peer, "q: 1\r\nPublic: ANNOUNCE\r\n\r\n");
	CHECK_EQ(serve_until(c, &s, 1), 0);
	CHECK_EQ(s.calls, 1);
	CHECK(!strcmp(s.method[0], "OPTIONS"));
	/* now the second is on the wire, body and all */
	CHECK(peer_read(peer, buf, sizeof(buf), 120) > 0);
	CHECK(!strncmp(buf, "SET_PARAMETER rtsp://x/1 RTSP/1.0\r\nCSeq: 2\r\n", 44));
	CHECK(strstr(buf, "Content-Length: 12\r\n\r\nvolume: -3\r\n") != NULL);
	CHECK(rtsp_inflight(c) && !strcmp(rtsp_inflight(c), "SET_PARAMETER"));
	/* an answer without CSeq goes by order; whether a refusal fails is the callback's choice */
	say(peer, "RTSP/1.0 451 Parameter Not Understood\r\nContent-Length: 3\r\n\r\nabc");
	s.fail_with = -EPROTO;
	CHECK_EQ(serve_until(c, &s, 2), -EPROTO);
	CHECK_EQ(s.status[1], 451);
	CHECK(!strcmp(s.body, "abc"));
	CHECK_EQ(rtsp_pending(c), 0);
	CHECK(rtsp_inflight(c) == NULL);
	CHECK_EQ(rtsp_deadline(c), INT64_MAX);
	/* two answers in one segment: both callbacks in one call */
	s.fail_with = 0;
	CHECK_EQ(rtsp_send(c, "OPTIONS", "*", NULL, NULL, NULL, 0, on_answer, &s), 0);
	CHECK_EQ(rtsp_send(c, "FLUSH", "rtsp://x/1", "RTP-Info: seq=1;rtptime=2\r\n", NULL, NULL, 0,
			   on_answer, &s), 0);
	peer_read(peer, buf, sizeof(buf), 40);
	say(peer, "RTSP/1.0 200 OK\r\nCSeq: 3\r\n\r\n");
	CHECK_EQ(serve_until(c, &s, 3), 0);
	peer_read(peer, buf, sizeof(buf), 40);
	CHECK(!strncmp(buf, "FLUSH rtsp://x/1 RTSP/1.0\r\nCSeq: 4\r\n", 36));
	say(peer, "RTSP/1.0 200 OK\r\nCSeq: 4\r\n\r\n");
	CHECK_EQ(serve_until(c, &s, 4), 0);
	CHECK(!strcmp(s.method[3], "FLUSH"));
	/* the queue holds RTSP_MAX_QUEUED */
	for (int i = 0; i < RTSP_MAX_QUEUED; i++) {
		CHECK_EQ(rtsp_send(c, "OPTIONS", "*", NULL, NULL, NULL, 0, NULL, NULL), 0);
	}
	CHECK_EQ(rtsp_send(c, "OPTIONS", "*", NULL, NULL, NULL, 0, NULL, NULL), -ENOBUFS);
	/* the peer hangs up: the connection is over, for every later call too */
	close(peer);
	CHECK_EQ(serve_until(c, &s, 99), -ECONNRESET);
	CHECK_EQ(rtsp_service(c), -ECONNRESET);
	CHECK_EQ(rtsp_send(c, "TEARDOWN", "rtsp://x/1", NULL, NULL, NULL, 0, NULL, NULL),
		 -ECONNRESET);
	rtsp_close(c);
}

static void test_deadline(void)
{
	struct seen s = { 0 };
	char buf[512];
	int peer, rc = 0;
	struct rtsp *c = pair(150, &peer);
	int64_t t0, t1;

	CHECK(c != NULL);
	if (!c) {
		return;
	}
	t0 = mono_ns();
	CHECK_EQ(rtsp_send(c, "OPTIONS", "*", NULL, NULL, NULL, 0, on_answer, &s), 0);
	peer_read(peer, buf, sizeof(buf), 20);
	/* silence: nothing blocks, and the deadline passes only after the timeout */
	while (!rc && mono_ns() < t0 + 2 * NSEC_PER_SEC) {
		struct pollfd p = { rtsp_fd(c), rtsp_events(c), 0 };
		int64_t left = rtsp_deadline(c) - mono_ns();

		poll(&p, 1, left > 0 ? (int)(left / NSEC_PER_MSEC) + 1 : 0);
		rc = rtsp_service(c);
	}
	t1 = mono_ns();
	CHECK_EQ(rc, -ETIMEDOUT);
	CHECK(t1 - t0 >= 150 * NSEC_PER_MSEC);
	CHECK(rtsp_inflight(c) && !strcmp(rtsp_inflight(c), "OPTIONS"));
	CHECK_EQ(s.calls, 0);
	/* the answer comes too late: the connection stays failed */
	say(peer, "RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n");
	CHECK_EQ(rtsp_service(c), -ETIMEDOUT);
	CHECK_EQ(s.calls, 0);
	rtsp_close(c);
	close(peer);
}

static void test_sync_and_garbage(void)
{
	struct rtsp_resp r;
	char buf[512];
	int peer;
	struct rtsp *c = pair(1000, &peer);

	CHECK(c != NULL);
	if (!c) {
		return;
	}
	/* the blocking form, for setup: the answer stays readable after the call */
	say(peer, "RTSP/1.0 200 OK\r\nCSeq: 1\r\nTransport: RTP/AVP/UDP;server_port=6000\r\n"
		  "Session: 1\r\n\r\n");
	CHECK_EQ(rtsp_request(c, "SETUP", "rtsp://x/1", NULL, NULL, NULL, 0, &r), 0);
	CHECK_EQ(r.status, 200);
	CHECK(rtsp_header(&r, "Transport") &&
	      !strcmp(rtsp_header(&r, "Transport"), "RTP/AVP/UDP;server_port=6000"));
	peer_read(peer, buf, sizeof(buf), 20);
	/* not RTSP: a protocol error, naming the request it answered */
	say(peer, "HELLO, I AM NOT A RECEIVER\r\n\r\n");
	CHECK_EQ(rtsp_request(c, "OPTIONS", "*", NULL, NULL, NULL, 0, &r), -EPROTO);
	CHECK(rtsp_inflight(c) && !strcmp(rtsp_inflight(c), "OPTIONS"));
	rtsp_close(c);
	close(peer);
}

static void test_cseq(void)
{
	char ok[] = "RTSP/1.0 200 OK\r\nCSeq:  42 \r\n\r\n", none[] = "RTSP/1.0 200 OK\r\n\r\n";
	char bad[] = "RTSP/1.0 200 OK\r\nCSeq: 4x\r\n\r\n";
	char neg[] = "RTSP/1.0 200 OK\r\nCSeq: -1\r\n\r\n";
	struct rtsp_resp r;
	unsigned cseq = 0;

	CHECK(rtsp_parse(ok, strlen(ok), &r) > 0);
	CHECK_EQ(rtsp_resp_cseq(&r, &cseq), 0);
	CHECK_EQ(cseq, 42);
	CHECK(rtsp_parse(none, strlen(none), &r) > 0);
	CHECK_EQ(rtsp_resp_cseq(&r, &cseq), -ENOENT);
	CHECK(rtsp_parse(bad, strlen(bad), &r) > 0);
	CHECK_EQ(rtsp_resp_cseq(&r, &cseq), -EINVAL);
	CHECK(rtsp_parse(neg, strlen(neg), &r) > 0);
	CHECK_EQ(rtsp_resp_cseq(&r, &cseq), -EINVAL);
}

/* Requests (AirPlay 2's event connection): the request line, headers and body, and refusals. */
static void test_request(void)
{
	struct rtsp_resp r;
	char ok[] = "POST /command RTSP/1.0\r\nCSeq: 7\r\nContent-Length: 3\r\n\r\nabcGET";
	char part[] = "POST /command RTSP/1.0\r\nContent-Length: 3\r\n\r\nab";
	char resp[] = "RTSP/1.0 200 OK\r\n\r\n";
	char lower[] = "post /command RTSP/1.0\r\n\r\n";
	char nover[] = "POST /command\r\n\r\n";
	char http[] = "POST /command HTTP/1.1\r\n\r\n";
	char longm[] = "ABCDEFGHIJKLMNOPQ / RTSP/1.0\r\n\r\n";
	char nouri[] = "POST  RTSP/1.0\r\n\r\n";
	char ctluri[] = "POST /a\001b RTSP/1.0\r\n\r\n";

	int okl = (int)strlen(ok);

	/* the first message only: its header + 3 bytes of body, not the GET after it */
	CHECK_EQ(rtsp_parse_request(ok, (size_t)okl, &r), okl - 3);
	CHECK(!strcmp(r.method, "POST") && !strcmp(r.uri, "/command") && r.status == 0);
	CHECK(rtsp_header(&r, "cseq") && !strcmp(rtsp_header(&r, "CSeq"), "7"));
	CHECK_EQ(r.body_len, 3);
	CHECK(!memcmp(r.body, "abc", 3));
	CHECK_EQ(rtsp_parse_request(part, strlen(part), &r), 0);	/* body incomplete */
	CHECK_EQ(rtsp_parse_request(part, 10, &r), 0);			/* head incomplete */
	CHECK_EQ(rtsp_parse_request(resp, strlen(resp), &r), -EINVAL);	/* a response */
	CHECK_EQ(rtsp_parse_request(lower, strlen(lower), &r), -EINVAL);
	CHECK_EQ(rtsp_parse_request(nover, strlen(nover), &r), -EINVAL);
	CHECK_EQ(rtsp_parse_request(http, strlen(http), &r), -EINVAL);
	CHECK_EQ(rtsp_parse_request(longm, strlen(longm), &r), -EINVAL);	/* method > 15 */
	CHECK_EQ(rtsp_parse_request(nouri, strlen(nouri), &r), -EINVAL);
	CHECK_EQ(rtsp_parse_request(ctluri, strlen(ctluri), &r), -EINVAL);
	/* and a response is still no request's business: rtsp_parse refuses a request */
	CHECK_EQ(rtsp_parse(lower, strlen(lower), &r), -EINVAL);
}

int main(void)
{
	test_request();
	test_cseq();
	test_queue();
	test_deadline();
	test_sync_and_garbage();
	return unit_done("test_rtsp");
}
