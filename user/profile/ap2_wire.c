// SPDX-License-Identifier: GPL-2.0-only
/* AirPlay 2 wire formats: the /info and SETUP plists, the sealed audio packet. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txpace/aead.h"
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

	pl_set_uint(s, "type", AP2_TYPE_REALTIME);
	pl_set_uint(s, "ct", AP2_CT_ALAC);
	pl_set_uint(s, "audioFormat", AP2_FMT_ALAC_44100_16_2);
	pl_set_uint(s, "spf", AP2_SPF);
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
