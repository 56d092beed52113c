// SPDX-License-Identifier: GPL-2.0-only
/*
 * AirPlay 2 wire formats: TXT features, one record per device from _raop and _airplay services,
 * the SETUP plists (read back with the plist reader), refusals by empty body, and the sealed
 * audio packet (round trip, a resend byte-identical, the AAD and the tag guarding it).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "txpace/airplay2.h"
#include "txpace/discover.h"
#include "txpace/plist.h"
#include "txpace/rtp.h"
#include "unit.h"

static void test_features(void)
{
	uint64_t f = 0;
	char s[160];

	CHECK_EQ(airplay_parse_features("0x5A7FFFF7,0x1E", &f), 0);
	CHECK(f == 0x1E5A7FFFF7ULL);
	CHECK_EQ(airplay_parse_features("0x445F8A00,0x1C340", &f), 0);
	CHECK(f & AP_FEAT_PTP);
	CHECK(f & AP_FEAT_BUFFERED_AUDIO);
	CHECK(f & AP_FEAT_TRANSIENT_PAIRING);
	CHECK_EQ(airplay_parse_features("12345", &f), 0);
	CHECK(f == 12345);
	CHECK_EQ(airplay_parse_features("0x1,0x100000000", &f), -EINVAL);
	CHECK_EQ(airplay_parse_features("x,1", &f), -EINVAL);
	CHECK_EQ(airplay_parse_features("", &f), -EINVAL);
	CHECK_EQ(airplay_parse_features("-1", &f), -EINVAL);
	airplay_features_str(AP_FEAT_PTP | AP_FEAT_TRANSIENT_PAIRING, s, sizeof(s));
	CHECK(!strcmp(s, "PTP,TransientPairing"));
	airplay_features_str(0, s, sizeof(s));
	CHECK(!strcmp(s, ""));
}

static void test_merge(void)
{
	struct airplay_rx list[4], raop = { .has_raop = 1 }, ap2 = { .has_ap2 = 1 },
			  other = { .has_raop = 1 };
	size_t n = 0;

	snprintf(raop.name, sizeof(raop.name), "Kitchen");
	snprintf(raop.raop_service, sizeof(raop.raop_service), "AABBCCDDEEFF@Kitchen");
	snprintf(raop.deviceid, sizeof(raop.deviceid), "AABBCCDDEEFF");
	net_parse("[fd00::5]:5000", 0, &raop.raop_addr);
	snprintf(ap2.name, sizeof(ap2.name), "Kitchen Speaker");
	snprintf(ap2.deviceid, sizeof(ap2.deviceid), "aa:bb:cc:dd:ee:ff");
	net_parse("192.168.1.5:7000", 0, &ap2.ap2_addr);
	ap2.features = AP_FEAT_PTP;
	ap2.features_known = 1;
	snprintf(other.name, sizeof(other.name), "Hall");
	CHECK_EQ(airplay_rx_merge(list, &n, 4, &raop), 0);
	CHECK_EQ(strcmp(airplay_rx_profile(&list[0]), "raop"), 0);
	/* the same device id, spelt differently, under another name: one record */
	CHECK_EQ(airplay_rx_merge(list, &n, 4, &ap2), 0);
	CHECK_EQ(n, 1);
	CHECK(list[0].has_raop && list[0].has_ap2);
	CHECK_EQ(strcmp(list[0].name, "Kitchen Speaker"), 0);
	CHECK_EQ(strcmp(list[0].raop_service, "AABBCCDDEEFF@Kitchen"), 0);
	CHECK_EQ(strcmp(airplay_rx_profile(&list[0]), "airplay2"), 0);
	/* an IPv4 RAOP address replaces the IPv6 one, not the other way round */
	net_parse("192.168.1.5:5000", 0, &raop.raop_addr);
	CHECK_EQ(airplay_rx_merge(list, &n, 4, &raop), 0);
	CHECK_EQ(list[0].raop_addr.ss.ss_family, AF_INET);
	net_parse("[fd00::5]:5000", 0, &raop.raop_addr);
	airplay_rx_merge(list, &n, 4, &raop);
	CHECK_EQ(list[0].raop_addr.ss.ss_family, AF_INET);
	CHECK_EQ(airplay_rx_merge(list, &n, 4, &other), 1);
	CHECK_EQ(n, 2);
	/* AirPlay 2 without PTP is played as RAOP */
	list[0].features = AP_FEAT_BUFFERED_AUDIO;
	CHECK_EQ(strcmp(airplay_rx_profile(&list[0]), "raop"), 0);
	/* no room: refused, nothing overwritten */
	CHECK_EQ(airplay_rx_merge(list, &n, 2, &(struct airplay_rx){ .name = "New" }), -1);
	CHECK_EQ(n, 2);
}

static void test_setup_bodies(void)
{
	struct ap2_session_req q = { "txpace", "192.168.1.2", "02:11:22:33:44:55", "G", "S" };
	struct ap2_stream_req sq = { .control_port = 6001, .latency_min = 88200,
				     .latency_max = 88200 };
	uint8_t *body = NULL;
	size_t len = 0, dlen = 0;
	struct pl *root, *s;
	uint64_t v = 0;

	CHECK_EQ(ap2_session_body(&q, &body, &len), 0);
	root = pl_parse(body, len);
	CHECK(root != NULL);
	CHECK(pl_get_str(pl_get(root, "timingProtocol")) &&
	      !strcmp(pl_get_str(pl_get(root, "timingProtocol")), "PTP"));
	CHECK(pl_get_str(pl_array_at(pl_get(pl_get(root, "timingPeerInfo"), "Addresses"), 0)) &&
	      !strcmp(pl_get_str(pl_array_at(pl_get(pl_get(root, "timingPeerInfo"), "Addresses"),
					     0)), "192.168.1.2"));
	CHECK(pl_get_str(pl_get(root, "groupUUID")) != NULL);
	pl_free(root);
	free(body);
	for (int i = 0; i < 32; i++) {
		sq.shk[i] = (uint8_t)(i * 7 + 1);
	}
	CHECK_EQ(ap2_stream_body(&sq, &body, &len), 0);
	root = pl_parse(body, len);
	s = pl_array_at(pl_get(root, "streams"), 0);
	CHECK(s != NULL);
	CHECK(pl_get_uint(pl_get(s, "type"), &v) == 0 && v == 96);
	CHECK(pl_get_uint(pl_get(s, "ct"), &v) == 0 && v == 2);
	CHECK(pl_get_uint(pl_get(s, "spf"), &v) == 0 && v == 352);
	CHECK(pl_get_uint(pl_get(s, "controlPort"), &v) == 0 && v == 6001);
	CHECK(pl_get_data(pl_get(s, "shk"), &dlen) && dlen == 32 &&
	      !memcmp(pl_get_data(pl_get(s, "shk"), &dlen), sq.shk, 32));
	/* the wrong type is an error, not a value */
	CHECK_EQ(pl_get_uint(pl_get(s, "shk"), &v), -EINVAL);
	CHECK_EQ(pl_get_uint(pl_get(s, "nonesuch"), &v), -ENOENT);
	pl_free(root);
	free(body);
}

static void test_replies(void)
{
	struct ap2_session_reply sr;
	struct ap2_stream_reply st;
	struct pl *d = pl_dict(), *arr = pl_array(), *s = pl_dict();
	uint8_t *body = NULL;
	size_t len = 0;
	char err[256];

	/* shairport-sync 5's refusal: 200 with an empty body */
	CHECK_EQ(ap2_session_reply_parse(NULL, 0, &sr, err, sizeof(err)), -EPROTO);
	CHECK(strstr(err, "refused") != NULL);
	CHECK_EQ(ap2_session_reply_parse((const uint8_t *)"garbage!", 8, &sr, err, sizeof(err)),
		 -EPROTO);
	pl_set_uint(d, "eventPort", 50001);
	pl_set_uint(d, "timingPort", 0);
	pl_to_bin(d, &body, &len);
	CHECK_EQ(ap2_session_reply_parse(body, len, &sr, err, sizeof(err)), 0);
	CHECK_EQ(sr.event_port, 50001);
	free(body);
	pl_set_uint(d, "eventPort", 70000);	/* no port */
	pl_to_bin(d, &body, &len);
	CHECK_EQ(ap2_session_reply_parse(body, len, &sr, err, sizeof(err)), -EPROTO);
	free(body);
	pl_free(d);
	pl_set_uint(s, "type", 96);
	pl_set_uint(s, "dataPort", 6002);
	pl_set_uint(s, "controlPort", 6003);
	pl_append(arr, s);
	d = pl_dict();
	pl_set(d, "streams", arr);
	pl_to_bin(d, &body, &len);
	CHECK_EQ(ap2_stream_reply_parse(body, len, &st, err, sizeof(err)), 0);
	CHECK_EQ(st.data_port, 6002);
	CHECK_EQ(st.control_port, 6003);
	free(body);
	pl_free(d);
	CHECK_EQ(ap2_stream_reply_parse(NULL, 0, &st, err, sizeof(err)), -EPROTO);
}

static void test_audio(void)
{
	uint8_t shk[32], a[64 + AP2_TRAILER], b[64 + AP2_TRAILER], clear[64];

	for (int i = 0; i < 32; i++) {
		shk[i] = (uint8_t)(0xa0 + i);
	}
	rtp_write_hdr(clear, 96, 0, 0x1234, 0x89abcdef, 0x01020304);
	for (int i = RTP_HDR_LEN; i < 64; i++) {
		clear[i] = (uint8_t)i;
	}
	memcpy(a, clear, 64);
	CHECK_EQ(ap2_seal_audio(shk, a, 64, 77), 64 + AP2_TRAILER);
	/* the header stays clear, the payload does not, the nonce is the packet number (LE) */
	CHECK(!memcmp(a, clear, RTP_HDR_LEN));
	CHECK(memcmp(a + RTP_HDR_LEN, clear + RTP_HDR_LEN, 64 - RTP_HDR_LEN) != 0);
	CHECK_EQ(a[64 + AP2_TAG_LEN], 77);
	CHECK_EQ(a[64 + AP2_TAG_LEN + 1], 0);
	/* a resend of the same packet is byte-identical */
	memcpy(b, clear, 64);
	ap2_seal_audio(shk, b, 64, 77);
	CHECK(!memcmp(a, b, sizeof(a)));
	CHECK_EQ(ap2_open_audio(shk, b, sizeof(b)), 64 - RTP_HDR_LEN);
	CHECK(!memcmp(b + RTP_HDR_LEN, clear + RTP_HDR_LEN, 64 - RTP_HDR_LEN));
	/* the timestamp and SSRC (bytes 4..11) are authenticated, as is the payload */
	memcpy(b, a, sizeof(a));
	b[5] ^= 1;
	CHECK_EQ(ap2_open_audio(shk, b, sizeof(b)), -EBADMSG);
	memcpy(b, a, sizeof(a));
	b[RTP_HDR_LEN + 3] ^= 0x40;
	CHECK_EQ(ap2_open_audio(shk, b, sizeof(b)), -EBADMSG);
	memcpy(b, a, sizeof(a));
	b[sizeof(b) - 1] ^= 1;	/* another nonce */
	CHECK_EQ(ap2_open_audio(shk, b, sizeof(b)), -EBADMSG);
	CHECK_EQ(ap2_open_audio(shk, b, RTP_HDR_LEN + AP2_TRAILER - 1), -EBADMSG);
}

int main(void)
{
	test_features();
	test_merge();
	test_setup_bodies();
	test_replies();
	test_audio();
	return unit_done("test_airplay2");
}
