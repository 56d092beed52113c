// SPDX-License-Identifier: GPL-2.0-only
/* RAOP control packets: a resend request cut to what the history holds; whose packets count. */
#include <arpa/inet.h>
#include <string.h>

#include "txpace/net.h"
#include "txpace/raop.h"
#include "unit.h"

static void test_clamp(void)
{
	uint16_t seqs[255];
	struct raop_resend rq;
	static const uint8_t all[8] = { 0x80, 0xd5, 0x00, 0x01, 0x00, 0x00, 0xff, 0xff };

	/* a handful of recent packets: all of them, in order */
	rq = (struct raop_resend){ 0x1234, 3 };
	CHECK_EQ(raop_resend_clamp(&rq, 0x1240, 255, seqs), 3);
	CHECK_EQ(seqs[0], 0x1234);
	CHECK_EQ(seqs[2], 0x1236);
	/* the request (first 0, count 0xFFFF): everything held, once, oldest first */
	CHECK_EQ(raop_parse_resend(all, sizeof(all), &rq), 0);
	CHECK_EQ(raop_resend_clamp(&rq, 0x1300, 255, seqs), 255);
	CHECK_EQ(seqs[0], 0x1300 - 254);
	CHECK_EQ(seqs[254], 0x1300);
	/* ... unless first - 1, the one seq it leaves out, is held: two pieces around it */
	rq = (struct raop_resend){ 0x12f6, 0xffff };
	CHECK_EQ(raop_resend_clamp(&rq, 0x1300, 255, seqs), 254);
	CHECK_EQ(seqs[0], 0x1300 - 254);
	CHECK_EQ(seqs[242], 0x12f4);
	CHECK_EQ(seqs[243], 0x12f6);
	CHECK_EQ(seqs[253], 0x1300);
	/* older than the history and never sent (across the 16-bit wrap): only the held part */
	rq = (struct raop_resend){ 0xff00, 0x200 };
	CHECK_EQ(raop_resend_clamp(&rq, 0x0010, 255, seqs), 255);
	CHECK_EQ(seqs[0], (uint16_t)(0x0010 - 254));
	rq = (struct raop_resend){ 0x0011, 100 };
	CHECK_EQ(raop_resend_clamp(&rq, 0x0010, 255, seqs), 0);
	/* nothing sent yet */
	CHECK_EQ(raop_resend_clamp(&rq, 0, 0, seqs), 0);
}

static void test_same_host(void)
{
	struct net_addr rx;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(40000) };
	struct sockaddr_in6 b = { .sin6_family = AF_INET6 };

	CHECK_EQ(net_parse("192.168.1.30:5000", 0, &rx), 0);
	inet_pton(AF_INET, "192.168.1.30", &a.sin_addr);
	CHECK(net_same_host(&rx, (struct sockaddr *)&a, sizeof(a)));
	inet_pton(AF_INET, "192.168.1.31", &a.sin_addr);
	CHECK(!net_same_host(&rx, (struct sockaddr *)&a, sizeof(a)));
	inet_pton(AF_INET6, "::ffff:192.168.1.30", &b.sin6_addr);
	CHECK(!net_same_host(&rx, (struct sockaddr *)&b, sizeof(b)));
	CHECK_EQ(net_parse("[fd00:67::1e]:5000", 0, &rx), 0);
	inet_pton(AF_INET6, "fd00:67::1e", &b.sin6_addr);
	CHECK(net_same_host(&rx, (struct sockaddr *)&b, sizeof(b)));
	CHECK(!net_same_host(&rx, (struct sockaddr *)&b, sizeof(b) - 1));
}

int main(void)
{
	test_clamp();
	test_same_host();
	return unit_done("test_raop");
}
