// SPDX-License-Identifier: GPL-2.0-only
/*
 * AirPlay 2's PTP messages and control packets, byte for byte: the expected bytes are written
 * here from IEEE 1588-2008's field definitions (13.3 header, 13.5 Announce, 13.6 Sync, 13.7
 * Follow_Up, 5.3.3 Timestamp, 7.5.2.2.2 EUI-64; 802.1AS 11.4.4.3 Follow_Up TLV) and from
 * PROTOCOLS.md's control-port layout, not from the builders.
 */
#include <errno.h>
#include <string.h>

#include "txpace/ap2ctl.h"
#include "txpace/aptp.h"
#include "unit.h"

static const uint8_t ID[8] = { 0x00, 0x1b, 0x21, 0xff, 0xfe, 0xaa, 0xbb, 0xcc };

/* 13.3.1 Table 18: transportSpecific|messageType, versionPTP, messageLength, domainNumber,
 * reserved, flagField, correctionField, reserved(4), sourcePortIdentity(10), sequenceId,
 * controlField, logMessageInterval */
static void expect_hdr(uint8_t *e, uint8_t type, uint16_t len, uint16_t flags, uint8_t control,
		       int8_t logi)
{
	static const uint8_t corr[8] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08 };

	memset(e, 0, 34);
	e[0] = (uint8_t)(0x10 | type);
	e[1] = 0x02;
	e[2] = (uint8_t)(len >> 8);
	e[3] = (uint8_t)len;
	e[4] = 0x00;
	e[6] = (uint8_t)(flags >> 8);
	e[7] = (uint8_t)flags;
	memcpy(e + 8, corr, 8);
	memcpy(e + 20, ID, 8);
	e[28] = 0x00;
	e[29] = 0x01;
	e[30] = 0xab;
	e[31] = 0xcd;
	e[32] = control;
	e[33] = (uint8_t)logi;
}

static struct aptp_hdr hdr(uint16_t flags, int8_t logi)
{
	struct aptp_hdr h = { .transport = 1, .flags = flags, .correction = 0x0102030405060708LL,
			      .port = 1, .seq = 0xabcd, .log_interval = logi };

	memcpy(h.clock_id, ID, 8);
	return h;
}

/* 1234567890 s = 0x499602D2, 123456789 ns = 0x075BCD15 */
#define T1 (1234567890LL * 1000000000LL + 123456789LL)
static const uint8_t T1_BYTES[10] = { 0x00, 0x00, 0x49, 0x96, 0x02, 0xd2, 0x07, 0x5b, 0xcd, 0x15 };

static void test_sync_follow_up(void)
{
	uint8_t b[128], e[128];
	struct aptp_hdr h = hdr(APTP_FLAG_UNICAST | APTP_FLAG_TWO_STEP, -3);

	CHECK_EQ(aptp_build_sync(b, &h, T1), 44);
	expect_hdr(e, 0x0, 44, 0x0600, 0x00, -3);
	memcpy(e + 34, T1_BYTES, 10);
	CHECK(!memcmp(b, e, 44));

	h = hdr(APTP_FLAG_UNICAST, -3);
	CHECK_EQ(aptp_build_follow_up(b, &h, T1), 76);
	expect_hdr(e, 0x8, 76, 0x0400, 0x02, -3);
	memcpy(e + 34, T1_BYTES, 10);
	/* tlvType ORGANIZATION_EXTENSION 3, lengthField 28, OUI 00-80-C2, subtype 00-00-01,
	 * cumulativeScaledRateOffset, gmTimeBaseIndicator, lastGmPhaseChange(12), scaledLastGmFreqChange */
	static const uint8_t tlv[10] = { 0x00, 0x03, 0x00, 0x1c, 0x00, 0x80, 0xc2, 0x00, 0x00, 0x01 };
	memcpy(e + 44, tlv, 10);
	memset(e + 54, 0, 22);
	CHECK(!memcmp(b, e, 76));
}

static void test_announce(void)
{
	uint8_t b[128], e[128];
	struct aptp_hdr h = hdr(APTP_FLAG_UNICAST | APTP_FLAG_PTP_TIMESCALE | APTP_FLAG_UTC_VALID, 0);
	struct aptp_announce an = { .utc_offset = 37, .priority1 = 248, .priority2 = 249,
				    .clock_class = 248, .clock_accuracy = 0xfe, .variance = 0x436a,
				    .steps_removed = 0, .time_source = 0xa0 }, back;
	struct aptp_hdr hb;

	memcpy(an.gm_id, ID, 8);
	CHECK_EQ(aptp_build_announce(b, &h, &an), 64);
	expect_hdr(e, 0xb, 64, 0x040c, 0x05, 0);
	/* 13.5.1 Table 25: originTimestamp(10), currentUtcOffset, reserved, grandmasterPriority1,
	 * grandmasterClockQuality(class, accuracy, offsetScaledLogVariance), grandmasterPriority2,
	 * grandmasterIdentity(8), stepsRemoved, timeSource */
	memset(e + 34, 0, 10);
	e[44] = 0x00;
	e[45] = 37;
	e[46] = 0;
	e[47] = 248;
	e[48] = 248;
	e[49] = 0xfe;
	e[50] = 0x43;
	e[51] = 0x6a;
	e[52] = 249;
	memcpy(e + 53, ID, 8);
	e[61] = 0;
	e[62] = 0;
	e[63] = 0xa0;
	CHECK(!memcmp(b, e, 64));

	CHECK_EQ(aptp_parse(b, 64, &hb, &back), 0);
	CHECK_EQ(hb.type, APTP_ANNOUNCE);
	CHECK_EQ(hb.seq, 0xabcd);
	CHECK_EQ(hb.log_interval, 0);
	CHECK_EQ(hb.correction, 0x0102030405060708LL);
	CHECK_EQ(back.priority2, 249);
	CHECK_EQ(back.variance, 0x436a);
	CHECK_EQ(back.utc_offset, 37);
	CHECK(!memcmp(back.gm_id, ID, 8));
	/* a short Announce, a longer messageLength than the datagram, PTPv1, a runt */
	CHECK_EQ(aptp_parse(b, 63, &hb, &back), -EINVAL);
	CHECK_EQ(aptp_parse(b, 33, &hb, NULL), -EINVAL);
	b[1] = 0x01;
	CHECK_EQ(aptp_parse(b, 64, &hb, NULL), -EINVAL);
	b[1] = 0x02;
	b[3] = 33;
	CHECK_EQ(aptp_parse(b, 64, &hb, NULL), -EINVAL);
	b[3] = 40;	/* header-only view of the first 40 bytes: fine without @an, not as Announce */
	CHECK_EQ(aptp_parse(b, 64, &hb, NULL), 0);
	CHECK_EQ(aptp_parse(b, 64, &hb, &back), -EINVAL);
}

static void test_timestamps(void)
{
	uint8_t b[10];
	/* (2^32 + 5) s + 7 ns: the 48-bit seconds field's high 16 bits in use */
	int64_t t = (4294967296LL + 5) * 1000000000LL + 7;
	static const uint8_t e[10] = { 0x00, 0x01, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x07 };

	aptp_put_ts(b, t);
	CHECK(!memcmp(b, e, 10));
	CHECK_EQ(aptp_get_ts(b), t);
	aptp_put_ts(b, T1);
	CHECK(!memcmp(b, T1_BYTES, 10));
	CHECK_EQ(aptp_get_ts(T1_BYTES), T1);
	aptp_put_ts(b, -5);	/* never negative on the wire */
	CHECK_EQ(aptp_get_ts(b), 0);
	memset(b, 0xff, 10);
	CHECK_EQ(aptp_get_ts(b), INT64_MAX);
}

static void test_eui64(void)
{
	static const uint8_t mac[6] = { 0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc };
	static const uint8_t mac2[6] = { 0x02, 0x42, 0xac, 0x11, 0x00, 0x02 };
	static const uint8_t id2[8] = { 0x02, 0x42, 0xac, 0xff, 0xfe, 0x11, 0x00, 0x02 };
	uint8_t id[8];

	aptp_eui64(mac, id);
	CHECK(!memcmp(id, ID, 8));
	aptp_eui64(mac2, id);	/* the U/L bit stays as it is (not IPv6's modified EUI-64) */
	CHECK(!memcmp(id, id2, 8));
}

static void test_anchor(void)
{
	uint8_t b[AP2CTL_ANCHOR_LEN];
	struct ap2ctl_anchor an = { .first = 1, .rtp = 0xfffffff0, .ptp_ns = 0x0102030405060708ULL },
			     back;
	/* 0-1: 90 D7 (first), 4-7 f1, 8-15 PTP ns, 16-19 f2 = f1 + 77175 (mod 2^32), 20-27 clock */
	static const uint8_t e[28] = { 0x90, 0xd7, 0x00, 0x07, 0xff, 0xff, 0xff, 0xf0,
				       0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
				       0x00, 0x01, 0x2d, 0x67,
				       0x00, 0x1b, 0x21, 0xff, 0xfe, 0xaa, 0xbb, 0xcc };

	memcpy(an.clock_id, ID, 8);
	CHECK_EQ(ap2ctl_build_anchor(b, &an), 28);
	CHECK(!memcmp(b, e, 28));
	an.first = 0;
	ap2ctl_build_anchor(b, &an);
	CHECK_EQ(b[0], 0x80);
	CHECK(!memcmp(b + 1, e + 1, 27));
	CHECK_EQ(ap2ctl_parse_anchor(e, 28, &back), 0);
	CHECK_EQ(back.first, 1);
	CHECK_EQ(back.rtp, 0xfffffff0u);
	CHECK_EQ(back.latency, 77175);
	CHECK(back.ptp_ns == 0x0102030405060708ULL);
	CHECK_EQ(ap2ctl_parse_anchor(e, 27, &back), -EINVAL);
}

static void test_resend(void)
{
	struct ap2ctl_rx_counts c = { 0 };
	struct ap2ctl_resend rq;
	uint8_t ok[8] = { 0x80, 0xd5, 0x00, 0x01, 0xff, 0xfe, 0x00, 0x03 };
	uint8_t b[9];

	CHECK_EQ(ap2ctl_parse_resend(ok, 8, &rq, &c), 0);
	CHECK_EQ(rq.first, 0xfffe);
	CHECK_EQ(rq.count, 3);
	CHECK_EQ(ap2ctl_parse_resend(ok, 7, &rq, &c), -EINVAL);	/* short */
	memcpy(b, ok, 8);
	b[8] = 0;
	CHECK_EQ(ap2ctl_parse_resend(b, 9, &rq, &c), -EINVAL);	/* long */
	b[0] = 0x90;
	CHECK_EQ(ap2ctl_parse_resend(b, 8, &rq, &c), -EINVAL);	/* not 0x80 */
	b[0] = 0x80;
	b[6] = b[7] = 0;
	CHECK_EQ(ap2ctl_parse_resend(b, 8, &rq, &c), -EINVAL);	/* zero packets */
	b[1] = 0xd4;
	b[7] = 1;
	CHECK_EQ(ap2ctl_parse_resend(b, 8, &rq, &c), -EINVAL);	/* another type */
	CHECK_EQ(ap2ctl_parse_resend(b, 1, &rq, &c), -EINVAL);
	CHECK_EQ(ap2ctl_parse_resend(b, 0, &rq, NULL), -EINVAL);
	b[1] = 0xd5;
	b[2] = 0x12;	/* the receiver's own request counter: any value */
	CHECK_EQ(ap2ctl_parse_resend(b, 8, &rq, &c), 0);
	CHECK_EQ(c.resend_reqs, 2);
	CHECK_EQ(c.bad_length, 2);
	CHECK_EQ(c.bad_header, 1);
	CHECK_EQ(c.zero_count, 1);
	CHECK_EQ(c.other_type, 2);
}

static void test_resend_reply(void)
{
	uint8_t pkt[40], out[64];

	for (int i = 0; i < 40; i++) {
		pkt[i] = (uint8_t)(i * 7);
	}
	CHECK_EQ(ap2ctl_build_resend_reply(out, sizeof(out), 0x1234, pkt, 40), 44);
	CHECK_EQ(out[0], 0x80);
	CHECK_EQ(out[1], 0xd6);
	CHECK_EQ(out[2], 0x12);
	CHECK_EQ(out[3], 0x34);
	CHECK(!memcmp(out + 4, pkt, 40));
	CHECK_EQ(ap2ctl_build_resend_reply(out, 43, 1, pkt, 40), -ENOSPC);
	CHECK_EQ(ap2ctl_build_resend_reply(out, 3, 1, pkt, 0), -ENOSPC);
	CHECK_EQ(ap2ctl_build_resend_reply(out, 4, 1, pkt, 0), 4);
}

int main(void)
{
	test_sync_follow_up();
	test_announce();
	test_timestamps();
	test_eui64();
	test_anchor();
	test_resend();
	test_resend_reply();
	return unit_done("aptp");
}
