// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test driver for test_pair.sh: txpace's pairing code (libtxpace.a) against independent peers.
 *   pair_driver srp SALT B APRIV PIN [M2]   SRP-6a 3072/SHA-512 client with a fixed a: prints A,
 *                                           M1 and K in hex; with M2, exits 0 only if it verifies
 *   pair_driver hkdf IKM SALT INFO LEN      HKDF-SHA512, hex in, hex out
 *   pair_driver pair HOST PORT PIN DIR      PIN pair-setup M1-M6 over HTTP (HomeKit), the
 *                                           accessory stored in DIR under the key "acc"
 *   pair_driver verify HOST PORT DIR PATH   pair-verify, then GET PATH on the encrypted session;
 *                                           prints the status line and the body
 * Errors: the library's one line on stderr, exit 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "txpace/aead.h"
#include "txpace/hapsec.h"
#include "txpace/pair.h"
#include "txpace/srp.h"

#define BUF_MAX 65536

/* an HTTP connection, plain or (after pair-verify) through a hapsec channel */
struct conn {
	int fd;
	const char *host;
	struct hapsec *sec;
	uint8_t in[BUF_MAX + 2048];	/* bytes read but not consumed (plaintext) */
	size_t have;
};

static size_t unhex(const char *h, uint8_t *out, size_t cap)
{
	size_t i, n = strlen(h) / 2;

	for (i = 0; i < n && i < cap; i++) {
		sscanf(h + 2 * i, "%2hhx", &out[i]);
	}
	return i;
}

static void hex(const char *label, const uint8_t *v, size_t n)
{
	size_t i;

	printf("%s ", label);
	for (i = 0; i < n; i++) {
		printf("%02x", v[i]);
	}
	printf("\n");
}

static int conn_send(struct conn *c, const void *buf, size_t len)
{
	static uint8_t wire[2 * BUF_MAX];
	const uint8_t *p = buf;
	long n = (long)len;

	if (c->sec) {
		n = hapsec_seal(c->sec, buf, len, wire, sizeof(wire));
		if (n < 0) {
			return (int)n;
		}
		p = wire;
	}
	return send(c->fd, p, (size_t)n, MSG_NOSIGNAL) == n ? 0 : -errno;
}

/* more plaintext into c->in */
static int conn_fill(struct conn *c)
{
	uint8_t raw[4096];
	char err[200];
	ssize_t n;
	long r;

	if (c->have + sizeof(raw) + HAPSEC_BLOCK > sizeof(c->in)) {
		return -EMSGSIZE;
	}
	n = recv(c->fd, raw, sizeof(raw), 0);
	if (n <= 0) {
		return n == 0 ? -ECONNRESET : -errno;
	}
	if (!c->sec) {
		memcpy(c->in + c->have, raw, (size_t)n);
		c->have += (size_t)n;
		return 0;
	}
	r = hapsec_feed(c->sec, raw, (size_t)n, c->in + c->have, sizeof(c->in) - c->have, err,
			sizeof(err));
	if (r < 0) {
		fprintf(stderr, "%s\n", err);
		return (int)r;
	}
	c->have += (size_t)r;
	return 0;
}

/* wait until c->in holds @n bytes */
static int conn_need(struct conn *c, size_t n)
{
	int rc;

	while (c->have < n) {
		if ((rc = conn_fill(c)) < 0) {
			return rc;
		}
	}
	return 0;
}

static void conn_eat(struct conn *c, size_t n)
{
	memmove(c->in, c->in + n, c->have - n);
	c->have -= n;
}

/* the end of a line (CRLF) from offset 0, filling as needed; its length without CRLF */
static long conn_line(struct conn *c)
{
	for (;;) {
		uint8_t *e = c->have ? memmem(c->in, c->have, "\r\n", 2) : NULL;
		int rc;

		if (e) {
			return e - c->in;
		}
		if ((rc = conn_fill(c)) < 0) {
			return rc;
		}
	}
}

/* a chunked body (HAP-NodeJS's replies) into @body */
static long http_chunked(struct conn *c, uint8_t *body, size_t cap)
{
	size_t got = 0;

	for (;;) {
		long l = conn_line(c);
		unsigned long n;

		if (l < 0) {
			return l;
		}
		n = strtoul((char *)c->in, NULL, 16);
		conn_eat(c, (size_t)l + 2);
		if (n == 0) {
			l = conn_line(c);	/* the empty trailer line */
			if (l < 0) {
				return l;
			}
			conn_eat(c, (size_t)l + 2);
			return (long)got;
		}
		if (n > cap - got || conn_need(c, n + 2) < 0) {
			return -EMSGSIZE;
		}
		memcpy(body + got, c->in, n);
		got += n;
		conn_eat(c, n + 2);
	}
}

/* one HTTP response: @status, its first line in @line, the body in @body. @return body length */
static long http_response(struct conn *c, int *status, char *line, size_t lcap, uint8_t *body, size_t cap)
{
	long l, clen = -1;
	int chunked = 0, first = 1;

	for (;;) {
		l = conn_line(c);
		if (l < 0) {
			return l;
		}
		if (l == 0) {
			conn_eat(c, 2);
			break;
		}
		c->in[l] = '\0';
		if (first) {
			snprintf(line, lcap, "%.*s", (int)(lcap - 1), (char *)c->in);
			if (sscanf((char *)c->in, "HTTP/1.%*d %d", status) != 1) {
				return -EPROTO;
			}
			first = 0;
		} else if (strncasecmp((char *)c->in, "Content-Length:", 15) == 0) {
			clen = strtol((char *)c->in + 15, NULL, 10);
		} else if (strncasecmp((char *)c->in, "Transfer-Encoding:", 18) == 0 &&
			   strcasestr((char *)c->in, "chunked")) {
			chunked = 1;
		}
		conn_eat(c, (size_t)l + 2);
	}
	if (chunked) {
		return http_chunked(c, body, cap);
	}
	if (clen < 0 || (size_t)clen > cap || conn_need(c, (size_t)clen) < 0) {
		return clen < 0 ? 0 : -EMSGSIZE;
	}
	memcpy(body, c->in, (size_t)clen);
	conn_eat(c, (size_t)clen);
	return clen;
}

/* pair_post_fn: HomeKit's pairing as HTTP POST with application/pairing+tlv8 */
static int http_post(void *ctx, const char *path, const uint8_t *body, size_t len, uint8_t *resp,
		     size_t cap, size_t *resp_len, int *status)
{
	struct conn *c = ctx;
	char head[512], line[256];
	int n = snprintf(head, sizeof(head),
			 "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/pairing+tlv8\r\n"
			 "Content-Length: %zu\r\n\r\n", path, c->host, len);
	long r;

	if (conn_send(c, head, (size_t)n) < 0 || conn_send(c, body, len) < 0) {
		return -EIO;
	}
	r = http_response(c, status, line, sizeof(line), resp, cap);
	if (r < 0) {
		return (int)r;
	}
	*resp_len = (size_t)r;
	return 0;
}

static int conn_open(struct conn *c, const char *host, const char *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
	struct timeval tv = { .tv_sec = 10 };

	memset(c, 0, sizeof(*c));
	c->host = host;
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (c->fd < 0 || inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
	    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "cannot connect to %s:%s: %s\n", host, port, strerror(errno));
		return -1;
	}
	return 0;
}

static int cmd_srp(int argc, char **argv)
{
	uint8_t salt[64], B[SRP_MAX_N], a[64], v[SRP_MAX_N], m2[64];
	size_t sl = unhex(argv[2], salt, sizeof(salt)), bl = unhex(argv[3], B, sizeof(B));
	size_t al = unhex(argv[4], a, sizeof(a));
	char err[200];
	struct srp_client *c = srp_client_new(SRP_GROUP_3072, SRP_SHA512, "Pair-Setup", argv[5], err,
					      sizeof(err));
	int n, rc = 1;

	if (!c || srp_client_set_private(c, a, al) < 0 ||
	    srp_client_start(c, salt, sl, B, bl, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		goto out;
	}
	if (argc > 6) {
		n = (int)unhex(argv[6], m2, sizeof(m2));
		rc = srp_client_verify(c, m2, (size_t)n, err, sizeof(err)) == 0 ? 0 : 1;
		if (rc) {
			fprintf(stderr, "%s\n", err);
		}
		goto out;
	}
	n = srp_client_value(c, SRP_VAL_A, v, sizeof(v));
	hex("A", v, (size_t)n);
	n = srp_client_value(c, SRP_VAL_M1, v, sizeof(v));
	hex("M1", v, (size_t)n);
	n = srp_client_value(c, SRP_VAL_K, v, sizeof(v));
	hex("K", v, (size_t)n);
	rc = 0;
out:
	srp_client_free(c);
	return rc;
}

static int cmd_hkdf(char **argv)
{
	static uint8_t ikm[4096], salt[4096], info[4096], out[16320];
	size_t il = unhex(argv[2], ikm, sizeof(ikm)), sl = unhex(argv[3], salt, sizeof(salt));
	size_t nl = unhex(argv[4], info, sizeof(info)), ol = (size_t)atol(argv[5]);

	if (ol > sizeof(out) || aead_hkdf_sha512(ikm, il, salt, sl, info, nl, out, ol) < 0) {
		fprintf(stderr, "hkdf failed\n");
		return 1;
	}
	hex("OKM", out, ol);
	return 0;
}

static int cmd_pair(char **argv)
{
	static struct conn c;
	struct pair_transport t = { .post = http_post, .ctx = &c, .name = "acc" };
	struct pair_identity me;
	struct pair_peer peer;
	char err[300];

	if (pair_identity_load(argv[5], &me, err, sizeof(err)) < 0 ||
	    conn_open(&c, argv[2], argv[3]) < 0 ||
	    pair_setup_pin(&t, &me, argv[4], &peer, err, sizeof(err)) < 0 ||
	    pair_store_peer(argv[5], "acc", &peer, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("paired %s as %s\n", peer.id, me.id);
	close(c.fd);
	return 0;
}

static int cmd_verify(char **argv)
{
	static struct conn c;
	static uint8_t body[BUF_MAX];
	struct pair_transport t = { .post = http_post, .ctx = &c, .name = "acc" };
	struct pair_identity me;
	struct pair_peer peer;
	uint8_t secret[32];
	char err[300], req[512], line[256];
	int status = 0, n;
	long len;

	if (pair_identity_load(argv[4], &me, err, sizeof(err)) < 0 ||
	    pair_find_peer(argv[4], "acc", &peer, err, sizeof(err)) < 0 ||
	    conn_open(&c, argv[2], argv[3]) < 0 ||
	    pair_verify(&t, &me, &peer, secret, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	c.sec = hapsec_new(secret, sizeof(secret), HAPSEC_CONTROL, HAPSEC_CONTROLLER, err, sizeof(err));
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", argv[5], argv[2]);
	if (!c.sec || conn_send(&c, req, (size_t)n) < 0 ||
	    (len = http_response(&c, &status, line, sizeof(line), body, sizeof(body))) < 0) {
		fprintf(stderr, "the encrypted request failed\n");
		return 1;
	}
	printf("%s\n%.*s\n", line, (int)len, (char *)body);
	printf("frames sent %llu received %llu\n", (unsigned long long)hapsec_sent(c.sec),
	       (unsigned long long)hapsec_received(c.sec));
	hapsec_free(c.sec);
	close(c.fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 6 && strcmp(argv[1], "srp") == 0) {
		return cmd_srp(argc, argv);
	}
	if (argc == 6 && strcmp(argv[1], "hkdf") == 0) {
		return cmd_hkdf(argv);
	}
	if (argc == 6 && strcmp(argv[1], "pair") == 0) {
		return cmd_pair(argv);
	}
	if (argc == 6 && strcmp(argv[1], "verify") == 0) {
		return cmd_verify(argv);
	}
	fprintf(stderr, "usage: pair_driver srp|hkdf|pair|verify ... (see the source)\n");
	return 2;
}
