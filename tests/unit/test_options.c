// SPDX-License-Identifier: GPL-2.0-only
/* Options and addresses: durations, numbers, HOST:PORT forms, measure analysis of known streams. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "cli.h"
#include "txpace/clock.h"
#include "txpace/measure.h"
#include "txpace/net.h"
#include "unit.h"

static const struct cli_opt none[] = { { 0 } };

static void test_durations(void)
{
	struct cli c;
	int64_t v;

	cli_init(&c, "test", "", none);
	CHECK_EQ(cli_duration(&c, "ptime", "1ms", NSEC_PER_MSEC, 0, NSEC_PER_SEC, &v), 0);
	CHECK_EQ(v, 1000000);
	CHECK_EQ(cli_duration(&c, "ptime", "125us", NSEC_PER_MSEC, 0, NSEC_PER_SEC, &v), 0);
	CHECK_EQ(v, 125000);
	CHECK_EQ(cli_duration(&c, "ptime", "0.25", NSEC_PER_MSEC, 0, NSEC_PER_SEC, &v), 0);
	CHECK_EQ(v, 250000);
	CHECK_EQ(cli_duration(&c, "ptime", "2s", NSEC_PER_MSEC, 0, 3 * NSEC_PER_SEC, &v), 0);
	CHECK_EQ(v, 2 * NSEC_PER_SEC);
	fprintf(stderr, "(the next four usage errors are expected)\n");
	CHECK_EQ(cli_duration(&c, "ptime", "abc", NSEC_PER_MSEC, 0, NSEC_PER_SEC, &v), -EINVAL);
	CHECK_EQ(cli_duration(&c, "ptime", "5min", NSEC_PER_MSEC, 0, NSEC_PER_SEC, &v), -EINVAL);
	CHECK_EQ(cli_duration(&c, "ptime", "21ms", NSEC_PER_MSEC, 0, 20 * NSEC_PER_MSEC, &v), -EINVAL);
	CHECK_EQ(cli_duration(&c, "ptime", "-1ms", NSEC_PER_MSEC, 0, NSEC_PER_SEC, &v), -EINVAL);
}

static void test_numbers(void)
{
	struct cli c;
	int64_t w;
	long v;

	cli_init(&c, "test", "", none);
	CHECK_EQ(cli_long(&c, "rate", "48000", 8000, 192000, &v), 0);
	CHECK_EQ(v, 48000);
	/* 32-bit values past LONG_MAX on armhf (--ssrc, --mediaclk-offset): through cli_i64 */
	CHECK_EQ(cli_i64(&c, "ssrc", "0xdeadbeef", 0, UINT32_MAX, &w), 0);
	CHECK_EQ(w, 0xdeadbeefLL);
	fprintf(stderr, "(the next usage errors are expected)\n");
	CHECK_EQ(cli_i64(&c, "ssrc", "0x100000000", 0, UINT32_MAX, &w), -EINVAL);
	CHECK_EQ(cli_long(&c, "rate", "7999", 8000, 192000, &v), -EINVAL);
	CHECK_EQ(cli_long(&c, "rate", "48k", 8000, 192000, &v), -EINVAL);
	CHECK_EQ(cli_long(&c, "rate", "", 8000, 192000, &v), -EINVAL);
}

static void test_addresses(void)
{
	struct net_addr a;
	char b[80];

	CHECK_EQ(net_parse("192.168.67.2:5004", 0, &a), 0);
	CHECK(strcmp(net_fmt(&a, b, sizeof(b)), "192.168.67.2:5004") == 0);
	CHECK(!net_is_multicast(&a));
	CHECK_EQ(net_parse("239.69.0.1", 5004, &a), 0);
	CHECK(strcmp(net_fmt(&a, b, sizeof(b)), "239.69.0.1:5004") == 0);
	CHECK(net_is_multicast(&a));
	CHECK_EQ(net_parse("[fd00::2]:6000", 0, &a), 0);
	CHECK(strcmp(net_fmt(&a, b, sizeof(b)), "[fd00::2]:6000") == 0);
	CHECK_EQ(net_parse("ff15::1", 5004, &a), 0);
	CHECK(net_is_multicast(&a));
	CHECK_EQ(net_parse("localhost:9", 0, &a), 0);
	CHECK_EQ(net_parse("192.168.67.2", 0, &a), -EINVAL);	/* port required */
	CHECK_EQ(net_parse("192.168.67.2:0", 0, &a), -EINVAL);
	CHECK_EQ(net_parse("192.168.67.2:65536", 0, &a), -EINVAL);
	CHECK_EQ(net_parse("192.168.67.2:50x", 0, &a), -EINVAL);
	CHECK_EQ(net_parse("[fd00::2", 0, &a), -EINVAL);
	CHECK_EQ(net_parse("", 5004, &a), -EINVAL);
	CHECK_EQ(net_parse("no-such-host.invalid:5004", 0, &a), -ENOENT);
}

/* A perfect 1 ms stream at 48 kHz, offset and with 100 ppm drift: the fit removes both. */
static void test_analysis(void)
{
	static struct measure_rec r[2000];
	struct measure_report rep = { 0 };
	size_t n = 0;

	for (uint64_t k = 0; k < 1000; k++) {
		r[n++] = (struct measure_rec){ .seq = 100000 + k, .ts = (uint32_t)(0xfffff000u + k * 48),
					       .arrival_ns = 5000000000LL + (int64_t)(k * 1000100) };
	}
	CHECK_EQ(measure_analyse(r, n, &rep, NULL), 1000);
	CHECK(rep.dev_max < 0.01);
	CHECK_EQ(rep.lost, 0);
	CHECK_EQ(rep.reordered, 0);
	CHECK_EQ(rep.rtp_step, 48);
	CHECK_EQ(rep.rtp_step_errors, 0);
	CHECK(fabs(rep.clock_rate - 48000 / 1.0001) < 0.01);
	CHECK(fabs(rep.int_p50 - 1000.1) < 0.01);
	CHECK_EQ(rep.burst_max, 1);

	/* now: 10 lost, 21 before 20 (20 +550 us, 21 -500 us), 30 duplicated, 40 +300 us, 50's ts wrong */
	n = 0;
	memset(&rep, 0, sizeof(rep));
	for (uint64_t k = 0; k < 1000; k++) {
		uint64_t kk = k == 20 ? 21 : k == 21 ? 20 : k;
		int64_t t = (int64_t)(kk * 1000000) + (kk == 40 ? 300000 : 0) +
			    (kk == 20 ? 550000 : 0) - (kk == 21 ? 500000 : 0);

		if (kk == 10) {
			continue;
		}
		r[n++] = (struct measure_rec){ .seq = kk, .ts = (uint32_t)(kk * 48 + (kk == 50)),
					       .arrival_ns = t };
		if (kk == 30) {
			r[n++] = (struct measure_rec){ .seq = kk, .ts = (uint32_t)(kk * 48),
						       .arrival_ns = t + 10 };
		}
	}
	CHECK_EQ(measure_analyse(r, n, &rep, NULL), 999);
	CHECK_EQ(rep.packets, 1000);
	CHECK_EQ(rep.lost, 1);
	CHECK_EQ(rep.reordered, 1);
	CHECK_EQ(rep.duplicates, 1);
	CHECK_EQ(rep.rtp_step_errors, 2);	/* 49->50 and 50->51 */
	CHECK(rep.dev_max > 530 && rep.dev_max < 570);
	CHECK(rep.dev_p50 < 5);
	CHECK(rep.int_min < 1);
	CHECK_EQ(rep.burst_max, 2);	/* the duplicate, 10 ns after the original */
}

int main(void)
{
	test_durations();
	test_numbers();
	test_addresses();
	test_analysis();
	return unit_done("test_options");
}
