// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for what reaches an AirPlay sender's control and timing ports: who sent it
 * (only the receiver's address is served), what it asks for, and which part of a resend
 * request the history can serve. Input: u16 packets held, u16 newest seq held, a flags byte
 * (bit 0: the source is IPv6, bit 1: the receiver is), 16 address bytes (IPv4: the first 4),
 * u16 source port, then the datagram.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "txpace/net.h"
#include "txpace/raop.h"

#define HDR 23

static uint16_t seqs[65536];

static void receiver(int v6, struct net_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (v6) {
		struct sockaddr_in6 *s = (void *)&a->ss;

		s->sin6_family = AF_INET6;
		inet_pton(AF_INET6, "fd00:67::1e", &s->sin6_addr);
		s->sin6_port = htons(5000);
		a->len = sizeof(*s);
	} else {
		struct sockaddr_in *s = (void *)&a->ss;

		s->sin_family = AF_INET;
		inet_pton(AF_INET, "192.168.1.30", &s->sin_addr);
		s->sin_port = htons(5000);
		a->len = sizeof(*s);
	}
}

/* the source check: the family and address decide, never the port */
static void check_source(const uint8_t *data)
{
	struct sockaddr_storage from = { 0 };
	struct net_addr rx;
	socklen_t fl;
	int want;

	receiver(data[4] & 2, &rx);
	if (data[4] & 1) {
		struct sockaddr_in6 *s = (void *)&from;

		s->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, data + 5, 16);
		s->sin6_port = (uint16_t)(data[21] << 8 | data[22]);
		fl = sizeof(*s);
		want = (data[4] & 2) &&
		       !memcmp(data + 5, &((struct sockaddr_in6 *)&rx.ss)->sin6_addr, 16);
	} else {
		struct sockaddr_in *s = (void *)&from;

		s->sin_family = AF_INET;
		memcpy(&s->sin_addr, data + 5, 4);
		s->sin_port = (uint16_t)(data[21] << 8 | data[22]);
		fl = sizeof(*s);
		want = !(data[4] & 2) &&
		       !memcmp(data + 5, &((struct sockaddr_in *)&rx.ss)->sin_addr, 4);
	}
	if (net_same_host(&rx, (struct sockaddr *)&from, fl) != want ||
	    net_same_host(&rx, (struct sockaddr *)&from, 1)) {
		abort();
	}
}

/* the clamp: exactly the requested numbers among the held ones, oldest first, each once */
static void check_clamp(const struct raop_resend *rq, uint16_t newest, size_t held)
{
	size_t n = raop_resend_clamp(rq, newest, held, seqs), want = 0;

	for (uint32_t j = 0; j < rq->count; j++) {
		want += (uint16_t)(newest - (uint16_t)(rq->first + j)) < held;
	}
	if (n != want || n > rq->count || n > held) {
		abort();
	}
	for (size_t i = 0; i < n; i++) {
		uint16_t age = (uint16_t)(newest - seqs[i]);

		if (age >= held || (uint16_t)(seqs[i] - rq->first) >= rq->count ||
		    (i && age >= (uint16_t)(newest - seqs[i - 1]))) {
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct raop_resend r;
	const uint8_t *b;
	uint64_t tx;
	size_t n;

	if (size < HDR) {
		return 0;
	}
	check_source(data);
	b = data + HDR;
	n = size - HDR;
	if (raop_parse_resend(b, n, &r) == 0) {
		if (n < 8 || r.count == 0 || r.first != (b[4] << 8 | b[5]) ||
		    r.count != (b[6] << 8 | b[7])) {
			abort();
		}
		check_clamp(&r, (uint16_t)(data[2] << 8 | data[3]),
			    (size_t)(data[0] << 8 | data[1]));
	}
	if (raop_parse_timing(b, n, &tx) == 0 && n < 32) {
		abort();
	}
	return 0;
}
