// SPDX-License-Identifier: GPL-2.0-only
/*
 * Profile raop, the RTSP side: finding and connecting to the receiver, the negotiation
 * (OPTIONS, ANNOUNCE, SETUP, RECORD, SET_PARAMETER) while nothing else is served yet, and the
 * answers mid-stream, each failure said in the one line a user needs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txpace/clock.h"
#include "txpace/crypto.h"
#include "txpace/discover.h"
#include "txpace/log.h"
#include "ap_rtsp.h"
#include "raop_priv.h"

static int describe(struct raop *r, const char *method, int rc, const struct rtsp_resp *resp,
		    char *err, size_t errlen)
{
	return ap_rtsp_describe(r->rname, r->sched != NULL, r->timeout_ms, method, rc, resp, err,
				errlen);
}

/* One RTSP exchange of the session's setup (nothing else to serve yet: it may block). */
static int request(struct raop *r, const char *method, const char *uri, const char *extra,
		   const char *ctype, const void *body, size_t blen, struct rtsp_resp *resp,
		   char *err, size_t errlen)
{
	int rc = rtsp_request(r->rtsp, method, uri, extra, ctype, body, blen, resp);

	return describe(r, method, rc, resp, err, errlen);
}

/* An answer mid-stream (from rtsp_service(), inside raop_service()): anything but 200 ends it. */
int raop_on_reply(void *arg, const char *method, const struct rtsp_resp *resp)
{
	struct raop *r = arg;
	int rc = describe(r, method, 0, resp, r->rerr, sizeof(r->rerr));

	if (rc) {
		return rc;
	}
	if (!strcmp(method, "OPTIONS")) {
		r->keepalives++;
	} else if (!strcmp(method, "FLUSH")) {
		r->flush_acked = 1;
	}
	return 0;
}

/* The FLUSH of an interrupted stream, just before TEARDOWN: its answer changes nothing. */
int raop_on_last_flush(void *arg, const char *method, const struct rtsp_resp *resp)
{
	if (resp->status != 200) {
		pr_debug("raop: FLUSH before TEARDOWN answered %d %s", resp->status, resp->reason);
	}
	return 0;
}

/* The client failed mid-stream (@rc from rtsp_send or rtsp_service): say why, once. */
int raop_rtsp_failed(struct raop *r, int rc, char *err, size_t errlen)
{
	if (r->rerr[0]) {
		snprintf(err, errlen, "%s", r->rerr);	/* a callback refused an answer */
	} else {
		describe(r, rtsp_inflight(r->rtsp), rc, NULL, err, errlen);
	}
	return rc;
}

static int transport_port(const char *t, const char *key)
{
	const char *p = t;
	size_t kl = strlen(key);

	while ((p = strstr(p, key))) {
		if ((p == t || p[-1] == ';') && p[kl] == '=') {
			long v = strtol(p + kl + 1, NULL, 10);

			return v > 0 && v < 65536 ? (int)v : -1;
		}
		p += kl;
	}
	return -1;
}

int raop_connect(struct raop *r, const struct profile_opts *o, char *err, size_t errlen)
{
	int rc;

	if (o->to_name) {
		rc = discover_raop(o->to_name, 5000, o->stop, &r->peer, err, errlen);
		if (rc) {
			return rc;
		}
		snprintf(r->rname, sizeof(r->rname), "%s", o->to_name);
	} else {
		rc = net_parse(o->dest_s, 5000, &r->peer);
		if (rc) {
			snprintf(err, errlen, "%s: %s", o->dest_s,
				 rc == -ENOENT ? "unknown host" : "not HOST[:PORT] or [IPV6]:PORT");
			return rc;
		}
		net_fmt(&r->peer, r->rname, sizeof(r->rname));
	}
	r->rtsp = rtsp_connect(&r->peer, (int)o->timeout_ms);
	if (!r->rtsp) {
		rc = -errno;
		snprintf(err, errlen, "cannot connect to %s: %s", r->rname, strerror(errno));
		return rc;
	}
	return 0;
}

int raop_session_ids(struct raop *r, const struct profile_opts *o, struct stream_desc *d,
		     uint32_t *sid, char *err, size_t errlen)
{
	uint8_t rnd[16];

	if (crypto_random(rnd, sizeof(rnd))) {
		snprintf(err, errlen, "no random numbers");
		return -EIO;
	}
	*sid = (uint32_t)rnd[0] << 24 | (uint32_t)rnd[1] << 16 | (uint32_t)rnd[2] << 8 | rnd[3];
	d->seq0 = (uint16_t)(rnd[4] << 8 | rnd[5]);
	d->ts0 = (uint32_t)rnd[6] << 24 | (uint32_t)rnd[7] << 16 | (uint32_t)rnd[8] << 8 | rnd[9];
	d->ssrc = o->have_ssrc ? o->ssrc : (uint32_t)rnd[10] << 24 | (uint32_t)rnd[11] << 16 |
						   (uint32_t)rnd[12] << 8 | rnd[13];
	snprintf(r->common, sizeof(r->common),
		 "User-Agent: txpace/0.1\r\nClient-Instance: %02X%02X%02X%02X%02X%02X%02X%02X\r\n",
		 rnd[8], rnd[9], rnd[10], rnd[11], rnd[12], rnd[13], rnd[14], rnd[15]);
	rtsp_set_common(r->rtsp, r->common);
	return 0;
}

int raop_options(struct raop *r, char *err, size_t errlen)
{
	struct rtsp_resp resp;

	return request(r, "OPTIONS", "*", NULL, NULL, NULL, 0, &resp, err, errlen);
}

/* With --encrypt: a fresh AES key, wrapped for the receiver, as the SDP's two lines in @keyl. */
static int aes_key_lines(struct raop *r, char *keyl, size_t keylen, char *err, size_t errlen)
{
	uint8_t key[16], iv[16], wrapped[512];
	char kb[400], ib[40];
	int wl;

	if (crypto_random(key, 16) || crypto_random(iv, 16)) {
		snprintf(err, errlen, "no random numbers for the AES key");
		return -EIO;
	}
	wl = crypto_raop_wrap_key(key, wrapped, sizeof(wrapped));
	r->aes = aes_cbc_new(key, iv);
	if (wl < 0 || !r->aes) {
		snprintf(err, errlen, "cannot set up AES encryption");
		return -EIO;
	}
	crypto_base64(wrapped, (size_t)wl, kb, sizeof(kb));
	crypto_base64(iv, 16, ib, sizeof(ib));
	snprintf(keyl, keylen, "a=rsaaeskey:%s\r\na=aesiv:%s\r\n", kb, ib);
	return 0;
}

int raop_announce(struct raop *r, const struct profile_opts *o, uint32_t sid, char *err,
		  size_t errlen)
{
	char host[INET6_ADDRSTRLEN], peer[INET6_ADDRSTRLEN], sdp[2048], keyl[600] = "";
	const struct net_addr *l = rtsp_local(r->rtsp);
	int v6 = l->ss.ss_family == AF_INET6;
	struct rtsp_resp resp;
	int rc;

	inet_ntop(l->ss.ss_family, v6 ? (const void *)&((const struct sockaddr_in6 *)&l->ss)->sin6_addr
				       : (const void *)&((const struct sockaddr_in *)&l->ss)->sin_addr,
		  host, sizeof(host));
	inet_ntop(r->peer.ss.ss_family,
		  v6 ? (const void *)&((const struct sockaddr_in6 *)&r->peer.ss)->sin6_addr
		     : (const void *)&((const struct sockaddr_in *)&r->peer.ss)->sin_addr,
		  peer, sizeof(peer));
	snprintf(r->url, sizeof(r->url), "rtsp://%s/%u", host, sid);
	if (o->encrypt) {
		rc = aes_key_lines(r, keyl, sizeof(keyl), err, errlen);
		if (rc) {
			return rc;
		}
	}
	int n = snprintf(sdp, sizeof(sdp),
			 "v=0\r\no=iTunes %u 0 IN %s %s\r\ns=iTunes\r\nc=IN %s %s\r\nt=0 0\r\n"
			 "m=audio 0 RTP/AVP 96\r\na=rtpmap:96 AppleLossless\r\n"
			 "a=fmtp:96 %d 0 16 40 10 14 2 255 0 0 %d\r\n%s",
			 sid, v6 ? "IP6" : "IP4", host, v6 ? "IP6" : "IP4", peer, ALAC_FRAMES,
			 RAOP_RATE, keyl);

	return request(r, "ANNOUNCE", r->url, NULL, "application/sdp", sdp, (size_t)n, &resp, err,
		       errlen);
}

int raop_setup(struct raop *r, char *err, size_t errlen)
{
	struct rtsp_resp resp;
	char extra[256];
	const char *t, *v;
	int rc;

	snprintf(extra, sizeof(extra),
		 "Transport: RTP/AVP/UDP;unicast;interleaved=0-1;mode=record;control_port=%u;"
		 "timing_port=%u\r\n", r->ctl_port, r->tim_port);
	rc = request(r, "SETUP", r->url, extra, NULL, NULL, 0, &resp, err, errlen);
	if (rc) {
		return rc;
	}
	t = rtsp_header(&resp, "Transport");
	r->srv_port = t ? transport_port(t, "server_port") : -1;
	if (r->srv_port < 0) {
		snprintf(err, errlen, "%s answered SETUP without a server_port", r->rname);
		return -EPROTO;
	}
	r->ctl_peer = r->peer;
	net_set_port(&r->ctl_peer, transport_port(t, "control_port") > 0
				    ? transport_port(t, "control_port") : r->srv_port);
	/*
	 * Timing replies go to the timing port the receiver named, as retransmits go to its control
	 * port, whatever port a request came from (shairport-sync asks from that very port, and
	 * reads replies only there). Without one, a reply goes back where its request came from.
	 */
	r->tim_peer = r->peer;
	r->tim_peer_known = transport_port(t, "timing_port") > 0;
	if (r->tim_peer_known) {
		net_set_port(&r->tim_peer, transport_port(t, "timing_port"));
	}
	snprintf(r->transport, sizeof(r->transport), "%s", t);
	v = rtsp_header(&resp, "Session");
	snprintf(r->common + strlen(r->common), sizeof(r->common) - strlen(r->common),
		 "Session: %.*s\r\n", v ? (int)strcspn(v, ";") : 1, v ? v : "1");
	rtsp_set_common(r->rtsp, r->common);
	return 0;
}

int raop_record(struct raop *r, const struct profile_opts *o, const struct stream_desc *d,
		char *err, size_t errlen)
{
	struct rtsp_resp resp;
	char extra[256];
	const char *v;
	int rc;

	snprintf(extra, sizeof(extra), "Range: npt=0-\r\nRTP-Info: seq=%u;rtptime=%u\r\n", d->seq0,
		 d->ts0);
	rc = request(r, "RECORD", r->url, extra, NULL, NULL, 0, &resp, err, errlen);
	if (rc) {
		return rc;
	}
	v = rtsp_header(&resp, "Audio-Latency");
	r->audio_latency = v ? (uint32_t)strtoul(v, NULL, 10) : RECEIVER_LATENCY;
	r->latency_frames = (uint32_t)(o->latency_ns * RAOP_RATE / NSEC_PER_SEC);
	if (r->latency_frames <= r->audio_latency) {
		r->latency_frames = r->audio_latency + ALAC_FRAMES;
	}
	return 0;
}

int raop_set_volume(struct raop *r, const struct profile_opts *o, char *err, size_t errlen)
{
	struct rtsp_resp resp;
	char body[64];
	int n;

	if (!o->have_volume) {
		return 0;
	}
	n = snprintf(body, sizeof(body), "volume: %.6f\r\n", o->volume_db);
	return request(r, "SET_PARAMETER", r->url, NULL, "text/parameters", body, (size_t)n, &resp,
		       err, errlen);
}
