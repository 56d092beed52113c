// SPDX-License-Identifier: GPL-2.0-only
/* AirPlay 2 wire formats: the /info and SETUP plists, the sealed audio packet. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txpace/aead.h"
#include "txpace/muldiv.h"
#include "txpace/airplay2.h"
#include "txpace/plist.h"
#include "txpace/rtp.h"

static void copy_str(const struct pl *n, char *out, size_t cap)
{
	const char *s = pl_get_str(n);

	snprintf(out, cap, "%s", s ? s : "");
}

int ap2_info_parse(const uint8_t *buf, size_t len, struct ap2_info *out, char *err, size_t errlen)
{
	struct pl *root = pl_parse(buf, len);
	const uint8_t *pk;
	size_t pklen = 0;
	uint64_t v;

	*out = (struct ap2_info){ 0 };
	if (!root || !pl_dict_len(root)) {
		pl_free(root);
		snprintf(err, errlen, "GET /info: the answer is no binary plist dictionary");
		return -EPROTO;
	}
	out->features_known = pl_get_uint(pl_get(root, "features"), &out->features) == 0;
	if (pl_get_uint(pl_get(root, "statusFlags"), &v) == 0) {
		out->status_flags = (uint32_t)v;
	}
	copy_str(pl_get(root, "deviceID"), out->device_id, sizeof(out->device_id));
	copy_str(pl_get(root, "name"), out->name, sizeof(out->name));
	copy_str(pl_get(root, "model"), out->model, sizeof(out->model));
	copy_str(pl_get(root, "sourceVersion"), out->source_version, sizeof(out->source_version));
	pk = pl_get_data(pl_get(root, "pk"), &pklen);
	if (pk && pklen == 32) {
		memcpy(out->pk, pk, 32);
		out->have_pk = 1;
	}
	pl_free(root);
	return 0;
}

int ap2_session_body(const struct ap2_session_req *r, uint8_t **out, size_t *len)
{
	struct pl *d = pl_dict(), *peer = pl_dict(), *addrs = pl_array();
	int rc;

	pl_append(addrs, pl_str(r->address));
	pl_set(peer, "Addresses", addrs);
	pl_set_str(peer, "ID", r->address);
	pl_set_bool(peer, "SupportsClockPortMatchingOverride", 0);
	pl_set_str(d, "timingProtocol", "PTP");
	pl_set(d, "timingPeerInfo", peer);
	pl_set_str(d, "name", r->name);
	pl_set_str(d, "deviceID", r->device_id);
	pl_set_str(d, "macAddress", r->device_id);
	pl_set_str(d, "sessionUUID", r->session_uuid);
	pl_set_str(d, "groupUUID", r->group_uuid);
	pl_set_bool(d, "groupContainsGroupLeader", 0);
	pl_set_bool(d, "isMultiSelectAirPlay", 1);
	pl_set_bool(d, "statsCollectionEnabled", 0);
	pl_set_str(d, "model", "txpace");
	rc = pl_to_bin(d, out, len);
	pl_free(d);
	return rc;
}

static int port_of(const struct pl *n, uint16_t *port)
{
	uint64_t v;

	if (pl_get_uint(n, &v) || v > 65535) {
		return -EPROTO;
	}
	*port = (uint16_t)v;
	return 0;
}

int ap2_session_reply_parse(const uint8_t *buf, size_t len, struct ap2_session_reply *out,
			    char *err, size_t errlen)
{
	struct pl *root;
	const struct pl *peer;
	int rc = 0;

	*out = (struct ap2_session_reply){ 0 };
	if (len == 0) {
		snprintf(err, errlen, "the receiver refused the session (SETUP answered with an "
			 "empty body: it takes no PTP-timed realtime session from us)");
		return -EPROTO;
	}
	root = pl_parse(buf, len);
	if (!root || port_of(pl_get(root, "eventPort"), &out->event_port)) {
		snprintf(err, errlen, "SETUP (session): the answer is no plist with an eventPort");
		rc = -EPROTO;
		goto out;
	}
	port_of(pl_get(root, "timingPort"), &out->timing_port);
	peer = pl_get(root, "timingPeerInfo");
	copy_str(pl_array_at(pl_get(peer, "Addresses"), 0), out->peer_addr, sizeof(out->peer_addr));
out:
	pl_free(root);
	return rc;
}

int ap2_stream_body(const struct ap2_stream_req *r, uint8_t **out, size_t *len)
{
	struct pl *d = pl_dict(), *streams = pl_array(), *s = pl_dict();
	int rc;

	pl_set_uint(s, "type", r->type ? r->type : AP2_TYPE_REALTIME);
	pl_set_uint(s, "ct", r->ct ? r->ct : AP2_CT_ALAC);
	pl_set_uint(s, "audioFormat", r->audio_format ? r->audio_format : AP2_FMT_ALAC_44100_16_2);
	pl_set_uint(s, "spf", r->spf ? r->spf : AP2_SPF);
	pl_set_uint(s, "sr", AP2_RATE);
	pl_set_data(s, "shk", r->shk, 32);
	pl_set_uint(s, "controlPort", r->control_port);
	pl_set_uint(s, "latencyMin", r->latency_min);
	pl_set_uint(s, "latencyMax", r->latency_max);
	pl_set_bool(s, "isMedia", 1);
	pl_set_str(s, "audioMode", "default");
	pl_set_uint(s, "streamConnectionID", r->connection_id);
	pl_set_bool(s, "supportsDynamicStreamID", 0);
	pl_set_uint(s, "redundantAudio", 0);
	pl_append(streams, s);
	pl_set(d, "streams", streams);
	rc = pl_to_bin(d, out, len);
	pl_free(d);
	return rc;
}

int ap2_stream_reply_parse(const uint8_t *buf, size_t len, struct ap2_stream_reply *out,
			   char *err, size_t errlen)
{
	struct pl *root = pl_parse(buf, len);
	const struct pl *s = pl_array_at(pl_get(root, "streams"), 0);
	int rc = 0;

	*out = (struct ap2_stream_reply){ 0 };
	if (!s || port_of(pl_get(s, "dataPort"), &out->data_port) || !out->data_port ||
	    port_of(pl_get(s, "controlPort"), &out->control_port)) {
		snprintf(err, errlen, "SETUP (stream): the answer has no streams[0] with dataPort "
			 "and controlPort%s", len ? "" : " (empty body: refused)");
		rc = -EPROTO;
	} else if (pl_get_uint(pl_get(s, "audioBufferSize"), &out->buffer_size)) {
		out->buffer_size = 0;
	}
	pl_free(root);
	return rc;
}

static void nonce_of(uint8_t nonce[12], const uint8_t tail[8])
{
	memset(nonce, 0, 4);
	memcpy(nonce + 4, tail, 8);
}

int ap2_seal_audio(const uint8_t shk[32], uint8_t *pkt, size_t len, uint64_t n)
{
	uint8_t nonce[12], tail[8];

	if (len < RTP_HDR_LEN) {
		return -EIO;
	}
	for (int i = 0; i < 8; i++) {
		tail[i] = (uint8_t)(n >> (8 * i));
	}
	nonce_of(nonce, tail);
	if (aead_seal(shk, nonce, pkt + 4, 8, pkt + RTP_HDR_LEN, len - RTP_HDR_LEN,
		      pkt + RTP_HDR_LEN)) {
		return -EIO;
	}
	memcpy(pkt + len + AP2_TAG_LEN, tail, 8);
	return (int)(len + AP2_TRAILER);
}

int ap2_open_audio(const uint8_t shk[32], uint8_t *pkt, size_t len)
{
	uint8_t nonce[12];

	if (len < RTP_HDR_LEN + AP2_TRAILER) {
		return -EBADMSG;
	}
	nonce_of(nonce, pkt + len - AP2_NONCE_TAIL);
	if (aead_open(shk, nonce, pkt + 4, 8, pkt + RTP_HDR_LEN, len - RTP_HDR_LEN - AP2_NONCE_TAIL,
		      pkt + RTP_HDR_LEN)) {
		return -EBADMSG;
	}
	return (int)(len - RTP_HDR_LEN - AP2_TRAILER);
}

static void put_be32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

void ap2_buffered_header(uint8_t *rec, uint32_t seq, uint32_t ts, uint32_t ssrc)
{
	uint8_t *h = rec + AP2_BUF_LEN_FIELD;

	rec[0] = rec[1] = 0;
	put_be32(h, 0x80000000u | (seq & 0x7fffff));
	put_be32(h + 4, ts);
	put_be32(h + 8, ssrc);
}

int ap2_buffered_seal(const uint8_t shk[32], uint8_t *rec, size_t payload_len, uint64_t nonce)
{
	int n;

	if (payload_len + AP2_BUF_OVERHEAD > 0xffff) {
		return -E2BIG;
	}
	n = ap2_seal_audio(shk, rec + AP2_BUF_LEN_FIELD, RTP_HDR_LEN + payload_len, nonce);
	if (n < 0) {
		return n;
	}
	n += AP2_BUF_LEN_FIELD;
	rec[0] = (uint8_t)(n >> 8);
	rec[1] = (uint8_t)n;
	return n;
}

int ap2_buffered_open(const uint8_t shk[32], uint8_t *rec, size_t len, struct ap2_buffered_pkt *out)
{
	size_t n;
	int pl;

	*out = (struct ap2_buffered_pkt){ 0 };
	if (len < AP2_BUF_LEN_FIELD) {
		return 0;
	}
	n = (size_t)rec[0] << 8 | rec[1];
	if (n < AP2_BUF_OVERHEAD) {
		return -EPROTO;
	}
	if (len < n) {
		return 0;
	}
	out->record_len = n;
	out->seq = get_be32(rec + 2) & 0x7fffff;
	out->ts = get_be32(rec + 6);
	out->ssrc = get_be32(rec + 10);
	pl = ap2_open_audio(shk, rec + AP2_BUF_LEN_FIELD, n - AP2_BUF_LEN_FIELD);
	if (pl < 0) {
		return pl;
	}
	out->payload = rec + AP2_BUF_LEN_FIELD + RTP_HDR_LEN;
	out->payload_len = (size_t)pl;
	return 1;
}

int ap2_rate_anchor_body(const struct ap2_rate_anchor *r, uint8_t **out, size_t *len)
{
	struct pl *d = pl_dict();
	uint64_t rem = r->ptp_ns % 1000000000u, frac;
	int rc;

	pl_set_uint(d, "rate", r->rate ? 1 : 0);
	if (r->rate) {
		pl_set_uint(d, "rtpTime", r->rtp);
		pl_set_uint(d, "networkTimeSecs", r->ptp_ns / 1000000000u);
		/* a 64-bit binary fraction of a second; shairport-sync keeps its top 32 bits and
		 * floors them to ns, so those are rounded up: it reads back our nanoseconds */
		frac = mul_div_u64(rem, 1ull << 32, 1000000000u, &rem);
		pl_set_uint(d, "networkTimeFrac", (frac + (rem != 0)) << 32);
		pl_set_uint(d, "networkTimeTimelineID", r->clock_id);
		pl_set_uint(d, "networkTimeFlags", 0);
	}
	rc = pl_to_bin(d, out, len);
	pl_free(d);
	return rc;
}

int ap2_flush_buffered_body(uint32_t until_seq, uint32_t until_ts, uint8_t **out, size_t *len)
{
	struct pl *d = pl_dict();
	int rc;

	pl_set_uint(d, "flushUntilSeq", until_seq & 0x7fffff);
	pl_set_uint(d, "flushUntilTS", until_ts);
	rc = pl_to_bin(d, out, len);
	pl_free(d);
	return rc;
}
