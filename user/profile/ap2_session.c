// SPDX-License-Identifier: GPL-2.0-only
/*
 * Profile airplay2, the RTSP side: finding and connecting to the receiver, GET /info, pairing
 * (pair-verify with a receiver `txpace pair` paired, else transient pair-setup), the encrypted
 * connection from then on, SETUP (session, PTP timing), RECORD, SETPEERS, SETUP (stream) and the
 * volume, each failure said in the one line a user needs. The PTP master is served while each
 * exchange waits for its answer, so the receiver's clock follows us from the first SETUP on.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "txpace/clock.h"
#include "txpace/aead.h"
#include "txpace/crypto.h"
#include "txpace/discover.h"
#include "txpace/log.h"
#include "txpace/pair.h"
#include "txpace/plist.h"
#include "ap2_priv.h"
#include "ap_rtsp.h"

#define CT_PLIST "application/x-apple-binary-plist"

static int describe(struct ap2 *a, const char *method, int rc, const struct rtsp_resp *resp,
		    char *err, size_t errlen)
{
	return ap_rtsp_describe(a->rname, a->sched != NULL, a->timeout_ms, method, rc, resp, err,
				errlen);
}

static int wait_ms(int64_t until, int64_t now)
{
	if (until == INT64_MAX) {
		return 1000;
	}
	return until > now ? (int)((until - now) / NSEC_PER_MSEC) + 1 : 0;
}

int ap2_wait(struct ap2 *a, int64_t until, const int *done, char *err, size_t errlen)
{
	while (!(done && *done)) {
		struct pollfd pfd[5];
		int64_t now = mono_ns(), next = until, ptp_next = INT64_MAX, dl;
		int n = 0, rc;

		if (now >= until || txp_stopped(a->stop)) {
			return now >= until ? 0 : -EINTR;
		}
		if (a->ptp) {
			rc = ap2_ptp_service(a, now, &ptp_next, err, errlen);
			if (rc) {
				return rc;
			}
			next = ptp_next < next ? ptp_next : next;
			n = ap2_bg_poll_fds(a, pfd, 3);
		}
		dl = rtsp_deadline(a->rtsp);
		next = dl < next ? dl : next;
		pfd[n++] = (struct pollfd){ rtsp_fd(a->rtsp), rtsp_events(a->rtsp), 0 };
		poll(pfd, (nfds_t)n, wait_ms(next, mono_ns()));
		rc = rtsp_service(a->rtsp);
		if (rc) {
			return rc;	/* described by the caller, which knows the request */
		}
	}
	return 0;
}

struct sync_wait {
	struct rtsp_resp *r;
	int done;
};

static int sync_reply(void *arg, const char *method, const struct rtsp_resp *r)
{
	struct sync_wait *w = arg;

	*w->r = *r;	/* valid until the next rtsp_service(): ap2_wait stops at once */
	w->done = 1;
	return 0;
}

/* One exchange of the session's setup, the PTP master served meanwhile. */
static int request(struct ap2 *a, const char *method, const char *uri, const char *extra,
		   const char *ctype, const void *body, size_t blen, struct rtsp_resp *resp,
		   char *err, size_t errlen)
{
	struct sync_wait w = { resp, 0 };
	int rc = rtsp_send(a->rtsp, method, uri, extra, ctype, body, blen, sync_reply, &w);

	if (!rc) {
		rc = ap2_wait(a, INT64_MAX, &w.done, err, errlen);
	}
	if (rc == -EINTR) {
		snprintf(err, errlen, "stopped during %s", method);
		return rc;
	}
	return describe(a, method, rc, resp, err, errlen);
}

int ap2_on_reply(void *arg, const char *method, const struct rtsp_resp *resp)
{
	struct ap2 *a = arg;
	int rc = describe(a, method, 0, resp, a->rerr, sizeof(a->rerr));

	if (rc) {
		return rc;
	}
	if (!strcmp(method, "POST")) {
		a->feedbacks++;
	} else if (!strcmp(method, "FLUSH") || !strcmp(method, "FLUSHBUFFERED")) {
		a->flush_acked = 1;
	} else if (!strcmp(method, "SETRATEANCHORTIME")) {
		a->rate_anchors++;
	}
	return 0;
}

int ap2_rtsp_failed(struct ap2 *a, int rc, char *err, size_t errlen)
{
	if (a->rerr[0]) {
		snprintf(err, errlen, "%s", a->rerr);
	} else {
		describe(a, rtsp_inflight(a->rtsp), rc, NULL, err, errlen);
	}
	return rc;
}

int ap2_send(struct ap2 *a, const char *method, const char *uri, const char *extra, char *err,
	     size_t errlen)
{
	int rc = rtsp_send(a->rtsp, method, uri, extra, NULL, NULL, 0, ap2_on_reply, a);

	return rc ? ap2_rtsp_failed(a, rc, err, errlen) : 0;
}

int ap2_send_body(struct ap2 *a, const char *method, const uint8_t *body, size_t len, char *err,
		  size_t errlen)
{
	int rc = rtsp_send(a->rtsp, method, a->url, NULL, CT_PLIST, body, len, ap2_on_reply, a);

	return rc ? ap2_rtsp_failed(a, rc, err, errlen) : 0;
}

int ap2_connect(struct ap2 *a, const struct profile_opts *o, char *err, size_t errlen)
{
	int rc;

	if (o->to_name) {
		struct airplay_rx rx;

		rc = discover_find(o->to_name, 5000, o->stop, &rx, err, errlen);
		if (rc) {
			return rc;
		}
		if (!rx.has_ap2) {
			snprintf(err, errlen, "'%s' offers no AirPlay 2 service (_airplay._tcp): use "
				 "--profile raop", o->to_name);
			return -ENOENT;
		}
		a->peer = rx.ap2_addr;
		snprintf(a->rname, sizeof(a->rname), "%s", o->to_name);
	} else {
		rc = net_parse(o->dest_s, 7000, &a->peer);
		if (rc) {
			snprintf(err, errlen, "%s: %s", o->dest_s,
				 rc == -ENOENT ? "unknown host" : "not HOST[:PORT] or [IPV6]:PORT");
			return rc;
		}
		net_fmt(&a->peer, a->rname, sizeof(a->rname));
	}
	a->rtsp = rtsp_connect(&a->peer, (int)o->timeout_ms);
	if (!a->rtsp) {
		rc = -errno;
		snprintf(err, errlen, "cannot connect to %s: %s", a->rname, strerror(errno));
		return rc;
	}
	return 0;
}

static uint32_t be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void uuid_str(const uint8_t r[16], char out[37])
{
	snprintf(out, 37, "%02X%02X%02X%02X-%02X%02X-4%X%02X-%X%X%02X-%02X%02X%02X%02X%02X%02X",
		 r[0], r[1], r[2], r[3], r[4], r[5], r[6] & 15, r[7], 8 | (r[8] & 3), r[8] >> 4,
		 r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
}

int ap2_session_ids(struct ap2 *a, const struct profile_opts *o, struct stream_desc *d, char *err,
		    size_t errlen)
{
	uint8_t rnd[40];
	char local[80], *colon;

	if (crypto_random(rnd, sizeof(rnd)) || crypto_random(a->shk, sizeof(a->shk))) {
		snprintf(err, errlen, "no random numbers");
		return -EIO;
	}
	d->seq0 = (uint16_t)(rnd[0] << 8 | rnd[1]);
	d->ts0 = be32(rnd + 2);
	d->ssrc = o->have_ssrc ? o->ssrc : be32(rnd + 6);
	/* a locally administered unicast MAC-like id for this session */
	snprintf(a->device_id, sizeof(a->device_id), "%02X:%02X:%02X:%02X:%02X:%02X",
		 (rnd[10] & 0xfc) | 0x02, rnd[11], rnd[12], rnd[13], rnd[14], rnd[15]);
	net_fmt(rtsp_local(a->rtsp), local, sizeof(local));
	/* the address alone: "1.2.3.4:5" or "[v6]:5" */
	colon = strrchr(local, ':');
	if (colon) {
		*colon = '\0';
	}
	snprintf(a->local_ip, sizeof(a->local_ip), "%s",
		 local[0] == '[' ? local + 1 : local);
	if (a->local_ip[0] && a->local_ip[strlen(a->local_ip) - 1] == ']') {
		a->local_ip[strlen(a->local_ip) - 1] = '\0';
	}
	snprintf(a->url, sizeof(a->url), "rtsp://%s/%" PRIu32, local[0] == '[' ? local : a->local_ip,
		 be32(rnd + 16));
	snprintf(a->common, sizeof(a->common),
		 "User-Agent: " AP2_USER_AGENT "\r\nX-Apple-ProtocolVersion: 1\r\n"
		 "DACP-ID: %08" PRIX32 "%08" PRIX32 "\r\nActive-Remote: %" PRIu32 "\r\n"
		 "Client-Instance: %08" PRIX32 "%08" PRIX32 "\r\n", be32(rnd + 20), be32(rnd + 24),
		 be32(rnd + 28), be32(rnd + 20), be32(rnd + 24));
	rtsp_set_common(a->rtsp, a->common);
	return 0;
}

int ap2_get_info(struct ap2 *a, char *err, size_t errlen)
{
	struct rtsp_resp resp;
	char line[256];
	int rc = request(a, "GET", "/info", NULL, NULL, NULL, 0, &resp, err, errlen);

	if (rc) {
		return rc;
	}
	rc = ap2_info_parse(resp.body, resp.body_len, &a->info, line, sizeof(line));
	if (rc) {
		snprintf(err, errlen, "%s: %s", a->rname, line);
		return rc;
	}
	if (a->info.features_known && !(a->info.features & AP_FEAT_PTP)) {
		pr_warn("%s: /info's features lack SupportsPTP (bit 41): it may not take AirPlay 2 "
			"realtime audio", a->rname);
	}
	pr_debug("airplay2: %s: features 0x%" PRIx64 ", device %s, model %s", a->rname,
		 a->info.features, a->info.device_id, a->info.model);
	return 0;
}

/* Pairing's messages as RTSP: POST /pair-setup or /pair-verify, TLV8 bodies, any status back. */
static int pair_post(void *ctx, const char *path, const uint8_t *body, size_t len, uint8_t *out,
		     size_t cap, size_t *out_len, int *status)
{
	struct ap2 *a = ctx;
	struct rtsp_resp resp;
	struct sync_wait w = { &resp, 0 };
	char err[256];
	int rc = rtsp_send(a->rtsp, "POST", path, a->hkp, "application/octet-stream", body, len,
			   sync_reply, &w);

	if (!rc) {
		rc = ap2_wait(a, INT64_MAX, &w.done, err, sizeof(err));
	}
	if (rc) {
		describe(a, "POST", rc, NULL, err, sizeof(err));
		pr_warn("%s", err);
		return rc;
	}
	*status = resp.status;
	*out_len = resp.body_len < cap ? resp.body_len : cap;
	memcpy(out, resp.body, *out_len);
	return 0;
}

static long sec_seal(void *ctx, const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	return hapsec_seal(((struct ap2 *)ctx)->sec, in, len, out, cap);
}

static long sec_open(void *ctx, const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	struct ap2 *a = ctx;
	char err[160];
	long n;

	/* an answer in the clear where the first encrypted one was due (no frame is that long) */
	if (!hapsec_received(a->sec) && len >= 9 && !memcmp(in, "RTSP/1.0 ", 9)) {
		a->clear_answer = 1;
		pr_debug("airplay2: %s answered in the clear after pairing", a->rname);
		return -EBADMSG;
	}
	n = hapsec_feed(a->sec, in, len, out, cap, err, sizeof(err));
	if (n < 0) {
		pr_debug("airplay2: encrypted RTSP: %s", err);
		return -EBADMSG;
	}
	return n;
}

static size_t sec_overhead(void *ctx, size_t len)
{
	(void)ctx;
	return hapsec_sealed_len(len) - len;
}

/* The key `txpace pair` stored for this receiver: under its device id. */
static int stored_peer(struct ap2 *a, struct pair_identity *me, struct pair_peer *peer)
{
	char err[256];

	if (!a->info.device_id[0] ||
	    pair_find_peer(a->pair_dir, a->info.device_id, peer, err, sizeof(err))) {
		return 0;
	}
	if (pair_identity_load(a->pair_dir, me, err, sizeof(err))) {
		pr_warn("%s: paired before, but our identity cannot be read: %s", a->rname, err);
		return 0;
	}
	return 1;
}

/* the channel's keys from the pairing's secret; every request and answer encrypted from here */
static int start_cipher(struct ap2 *a, uint8_t *secret, size_t slen, char *err, size_t errlen)
{
	hapsec_free(a->sec);
	a->sec = hapsec_new(secret, slen, HAPSEC_CONTROL, HAPSEC_CONTROLLER, err, errlen);
	if (a->sec && ap2_events_keys(a, secret, slen, err, errlen)) {
		hapsec_free(a->sec);
		a->sec = NULL;
	}
	aead_wipe(secret, 64);
	if (!a->sec) {
		return -EIO;
	}
	a->clear_answer = 0;
	rtsp_set_cipher(a->rtsp, &(struct rtsp_cipher){ sec_seal, sec_open, sec_overhead, a });
	return 0;
}

static int pair_transient(struct ap2 *a, const struct pair_transport *t, char *err, size_t errlen)
{
	uint8_t secret[64];
	int rc;

	a->pairing = AP2_PAIR_TRANSIENT;
	a->hkp = "X-Apple-HKP: 4\r\n";
	rc = pair_setup_transient(t, secret, err, errlen);
	return rc ? rc : start_cipher(a, secret, 64, err, errlen);
}

/*
 * The probe's padding: a header that makes the OPTIONS request's length end in byte 0x0a, so
 * that its frame's clear length prefix holds a '\n'. A receiver that does not decrypt (shairport-
 * sync 5.2.1 after pair-verify) reads a line at once and answers it in the clear; without the
 * '\n' it waited for one whenever the ciphertext held no CR or LF (about 1 in 7 sessions).
 */
static void probe_padding(const struct ap2 *a, char *pad, size_t cap)
{
	static const char name[] = "X-Txpace-Probe: ";
	const size_t nl = sizeof(name) - 1;
	/* the request: its line, CSeq and common headers, this header, the blank line */
	int base = snprintf(NULL, 0, "OPTIONS * RTSP/1.0\r\nCSeq: %u\r\n%s\r\n",
			    rtsp_next_cseq(a->rtsp), a->common);
	size_t fixed = (size_t)base + nl + 2;
	size_t k = (0x0a + 256 - fixed % 256) % 256;

	pad[0] = 0;
	if (nl + k + 3 > cap) {
		return;
	}
	pr_debug("airplay2: the OPTIONS after pair-verify is %zu bytes", fixed + k);
	memcpy(pad, name, nl);
	memset(pad + nl, '.', k);
	memcpy(pad + nl + k, "\r\n", 3);
}

/*
 * After pair-verify HomeKit receivers encrypt; shairport-sync 5.2.1 does not (it sets its
 * cipher up after transient pair-setup only) and answers our first encrypted request in the
 * clear. Asked once (OPTIONS): a clear answer means a new connection and transient pairing,
 * where the receiver offers it.
 */
static int verify_then_check(struct ap2 *a, struct pair_transport *t, char *err, size_t errlen)
{
	struct rtsp_resp resp;
	struct sync_wait w = { &resp, 0 };
	char pad[300];
	int rc;

	probe_padding(a, pad, sizeof(pad));
	rc = rtsp_send(a->rtsp, "OPTIONS", "*", pad, NULL, NULL, 0, sync_reply, &w);
	if (!rc) {
		rc = ap2_wait(a, INT64_MAX, &w.done, err, errlen);
	}
	/* any answer that authenticates will do (whatever its status): the channel holds */
	if (!rc || !a->clear_answer) {
		return rc ? describe(a, "OPTIONS", rc, &resp, err, errlen) : 0;
	}
	if (a->info.features_known && !(a->info.features & AP_FEAT_TRANSIENT_PAIRING)) {
		snprintf(err, errlen, "%s does not encrypt after pair-verify and offers no transient "
			 "pairing: it cannot be streamed to safely", a->rname);
		return -EPROTO;
	}
	pr_info("%s answered in the clear after pair-verify (shairport-sync does): pairing "
		"transiently instead", a->rname);
	a->verify_fell_back = 1;
	rtsp_close(a->rtsp);
	a->rtsp = rtsp_connect(&a->peer, (int)a->timeout_ms);
	if (!a->rtsp) {
		rc = -errno;
		snprintf(err, errlen, "cannot connect to %s again: %s", a->rname, strerror(errno));
		return rc;
	}
	return pair_transient(a, t, err, errlen);
}

int ap2_pair(struct ap2 *a, char *err, size_t errlen)
{
	struct pair_transport t = { pair_post, a, a->rname, a->stop };
	struct pair_identity me;
	struct pair_peer peer;
	uint8_t secret[64];
	int rc;

	if (!stored_peer(a, &me, &peer)) {
		rc = pair_transient(a, &t, err, errlen);
	} else {
		a->pairing = AP2_PAIR_VERIFY;
		a->hkp = "X-Apple-HKP: 3\r\n";
		rc = pair_verify(&t, &me, &peer, secret, err, errlen);
		aead_wipe(me.sk, sizeof(me.sk));
		if (!rc) {
			rc = start_cipher(a, secret, 32, err, errlen);
		}
		if (!rc) {
			rc = verify_then_check(a, &t, err, errlen);
		}
	}
	if (rc) {
		return rc;
	}
	pr_debug("airplay2: %s: %s pairing done, RTSP encrypted from here on", a->rname,
		 a->pairing == AP2_PAIR_VERIFY ? "pair-verify" : "transient");
	return 0;
}

static int setup_session(struct ap2 *a, const struct profile_opts *o, char *err, size_t errlen)
{
	uint8_t rnd[32], *body = NULL;
	char group[37], sess[37], line[256];
	struct ap2_session_req q = { "txpace", a->local_ip, a->device_id, group, sess };
	struct ap2_session_reply rep;
	struct rtsp_resp resp;
	size_t len;
	int rc;

	if (crypto_random(rnd, sizeof(rnd))) {
		snprintf(err, errlen, "no random numbers");
		return -EIO;
	}
	uuid_str(rnd, group);
	uuid_str(rnd + 16, sess);
	if (o->session_name) {
		q.name = o->session_name;
	}
	if (ap2_session_body(&q, &body, &len)) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = request(a, "SETUP", a->url, NULL, CT_PLIST, body, len, &resp, err, errlen);
	free(body);
	if (rc) {
		return rc;
	}
	/* shairport-sync 5 answers 200 with an empty body to what it refuses: read the body */
	rc = ap2_session_reply_parse(resp.body, resp.body_len, &rep, line, sizeof(line));
	if (rc) {
		snprintf(err, errlen, "%s: %s", a->rname, line);
		return rc;
	}
	a->event_port = rep.event_port;
	ap2_events_open(a, rep.event_port);
	return 0;
}

static int setpeers(struct ap2 *a, char *err, size_t errlen)
{
	struct pl *peers = pl_array();
	char them[80], *colon;
	uint8_t *body = NULL;
	struct rtsp_resp resp;
	size_t len;
	int rc;

	net_fmt(&a->peer, them, sizeof(them));
	colon = strrchr(them, ':');
	if (colon) {
		*colon = '\0';
	}
	pl_append(peers, pl_str(a->local_ip));
	pl_append(peers, pl_str(them[0] == '[' ? them + 1 : them));
	rc = pl_to_bin(peers, &body, &len);
	pl_free(peers);
	if (rc) {
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	rc = request(a, "SETPEERS", a->url, NULL, "/peer-list-changed", body, len, &resp, err,
		     errlen);
	free(body);
	return rc;
}

static int setup_stream(struct ap2 *a, const struct profile_opts *o, char *err, size_t errlen)
{
	struct ap2_stream_req q = { .control_port = a->ctl_port };
	struct ap2_stream_reply rep;
	struct rtsp_resp resp;
	uint8_t *body = NULL;
	char line[256];
	size_t len;
	int rc;

	if (a->buffered) {
		q.type = AP2_TYPE_BUFFERED;
		q.ct = a->codec_aac ? AP2_CT_AAC : AP2_CT_ALAC;
		q.audio_format = a->codec_aac ? AP2_FMT_AAC_LC_44100_2 : AP2_FMT_ALAC_44100_16_2;
		q.spf = a->codec_aac ? AP2_AAC_SPF : AP2_SPF;
	}
	memcpy(q.shk, a->shk, sizeof(q.shk));
	a->latency_frames = (uint32_t)(o->latency_ns * AP2_RATE / NSEC_PER_SEC);
	q.latency_min = q.latency_max = a->latency_frames;
	q.connection_id = (uint64_t)mono_ns();
	rc = ap2_stream_body(&q, &body, &len);
	aead_wipe(q.shk, sizeof(q.shk));
	if (rc) {
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	rc = request(a, "SETUP", a->url, NULL, CT_PLIST, body, len, &resp, err, errlen);
	free(body);
	if (rc) {
		return rc;
	}
	rc = ap2_stream_reply_parse(resp.body, resp.body_len, &rep, line, sizeof(line));
	if (rc) {
		snprintf(err, errlen, "%s: %s", a->rname, line);
		return rc;
	}
	a->buffer_size = rep.buffer_size;
	a->data_peer = a->ctl_peer = a->peer;
	net_set_port(&a->data_peer, rep.data_port);
	net_set_port(&a->ctl_peer, rep.control_port);
	return 0;
}

int ap2_setup(struct ap2 *a, const struct profile_opts *o, char *err, size_t errlen)
{
	struct rtsp_resp resp;
	int rc = setup_session(a, o, err, errlen);

	if (!rc) {
		rc = request(a, "RECORD", a->url, NULL, NULL, NULL, 0, &resp, err, errlen);
	}
	if (!rc) {
		rc = setpeers(a, err, errlen);
	}
	return rc ? rc : setup_stream(a, o, err, errlen);
}

int ap2_set_volume(struct ap2 *a, const struct profile_opts *o, char *err, size_t errlen)
{
	struct rtsp_resp resp;
	char body[64];
	int n;

	if (!o->have_volume) {
		return 0;
	}
	n = snprintf(body, sizeof(body), "volume: %.6f\r\n", o->volume_db);
	return request(a, "SET_PARAMETER", a->url, NULL, "text/parameters", body, (size_t)n, &resp,
		       err, errlen);
}

int airplay2_pair_pin(const struct profile_opts *o, const char *pin, char *id, size_t idcap,
		      char *err, size_t errlen)
{
	struct ap2 *a = calloc(1, sizeof(*a));
	struct stream_desc d = { .fd = -1 };
	struct pair_transport t = { pair_post, a, NULL, o->stop };
	struct pair_identity me;
	struct pair_peer peer;
	struct rtsp_resp resp;
	int rc;

	if (!a) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	a->stop = o->stop;
	a->timeout_ms = o->timeout_ms;
	a->pair_dir = o->pair_dir;
	a->ctl_fd = -1;
	t.name = a->rname;
	rc = ap2_connect(a, o, err, errlen);
	if (!rc) {
		rc = ap2_session_ids(a, o, &d, err, errlen);
	}
	if (!rc) {
		rc = ap2_get_info(a, err, errlen);
	}
	if (!rc && !a->info.device_id[0]) {
		snprintf(err, errlen, "%s: /info names no deviceID to keep its key under", a->rname);
		rc = -EPROTO;
	}
	if (!rc) {
		/* receivers with a screen show a PIN now; the others have one configured */
		if (request(a, "POST", "/pair-pin-start", NULL, NULL, NULL, 0, &resp, err, errlen)) {
			pr_debug("airplay2: /pair-pin-start: %s (a PIN configured on it, then)", err);
		}
		a->hkp = "X-Apple-HKP: 3\r\n";
		rc = pair_identity_load(a->pair_dir, &me, err, errlen);
	}
	if (!rc) {
		rc = pair_setup_pin(&t, &me, pin, &peer, err, errlen);
		aead_wipe(me.sk, sizeof(me.sk));
	}
	if (!rc) {
		rc = pair_store_peer(a->pair_dir, a->info.device_id, &peer, err, errlen);
	}
	if (!rc) {
		snprintf(id, idcap, "%s", a->info.device_id);
	}
	rtsp_close(a->rtsp);
	free(a);
	return rc;
}

int airplay2_unpair(const struct profile_opts *o, const char *id, char *err, size_t errlen)
{
	return pair_remove_peer(o->pair_dir, id, err, errlen);
}
