// SPDX-License-Identifier: GPL-2.0-only
/* PTP management responses: the domain they answer for, and the data sets they carry. */
#include <errno.h>
#include <string.h>

#include "txpace/ptp.h"
#include "unit.h"

/* A DEFAULT_DATA_SET response from ptp4l on @domain (header and data set say the same). */
static size_t default_ds(uint8_t *b, uint8_t domain)
{
	static const uint8_t id[8] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77 };

	memset(b, 0, 74);
	b[0] = 0x0d;		/* management */
	b[1] = 0x02;		/* PTPv2 */
	b[3] = 74;
	b[4] = domain;
	b[32] = 0x04;
	b[33] = 0x7f;
	b[46] = 0x02;		/* RESPONSE */
	b[49] = 0x01;		/* TLV MANAGEMENT */
	b[51] = 22;		/* id + 20 bytes of data set */
	b[52] = 0x20;		/* DEFAULT_DATA_SET */
	memcpy(b + 54 + 10, id, 8);
	b[54 + 18] = domain;
	return 74;
}

static void test_domains(void)
{
	uint8_t b[80];
	size_t n;

	for (unsigned d = 0; d <= PTP_DOMAIN_MAX; d += 127) {
		struct ptp_status st = { 0 };

		n = default_ds(b, (uint8_t)d);
		CHECK_EQ(ptp_parse_response(b, n, (uint8_t)d, &st), 0x2000);
		CHECK_EQ(st.domain, d);
		CHECK_EQ(st.clock_id[7], 0x77);
	}
	/* an answer for domain 1 is not one for domain 0, nor the other way round */
	struct ptp_status st = { 0 };

	n = default_ds(b, 1);
	CHECK_EQ(ptp_parse_response(b, n, 0, &st), -EXDEV);
	CHECK_EQ(ptp_parse_response(b, n, 1, &st), 0x2000);
	CHECK_EQ(st.domain, 1);
	n = default_ds(b, 0);
	CHECK_EQ(ptp_parse_response(b, n, 1, &st), -EXDEV);
	/* truncated: not a response at all, whatever the domain */
	CHECK_EQ(ptp_parse_response(b, 53, 0, &st), -EINVAL);
}

int main(void)
{
	test_domains();
	return unit_done("test_ptp");
}
