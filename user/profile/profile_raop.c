// SPDX-License-Identifier: GPL-2.0-only
/*
 * Profile raop: AirPlay 1. RTSP session (OPTIONS, ANNOUNCE, SETUP, RECORD, SET_PARAMETER,
 * keep-alive, FLUSH, TEARDOWN), ALAC audio (optionally AES), and the UDP duties: timing replies,
 * sync packets from the schedule, retransmits from history. The control and timing ports answer
 * only the receiver (the RTSP peer's address); retransmits and timing replies go to the ports it
 * negotiated, retransmits at a bounded rate. Once the stream runs, RTSP requests never block: they
 * are queued and answered through a callback from the same loop that serves the UDP ports.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "txpace/alac.h"
#include "txpace/stop.h"
#include "txpace/clock.h"
#include "txpace/crypto.h"
#include "txpace/discover.h"
#include "txpace/history.h"
#include "txpace/log.h"
#include "txpace/profile.h"
#include "txpace/raop.h"
#include "txpace/rtp.h"
#include "txpace/rtsp.h"
#include "txpace/tbucket.h"

#define RAOP_RATE 44100
#define RECEIVER_LATENCY 11025	/* what receivers add themselves when they do not say */
/*
 * Retransmitted packets: at most RTX_RATE a second, RTX_BURST at once. A receiver re-asks a
 * handful of packets after a loss (shairport-sync asks for each gap a few times while its play
 * time nears); even a receiver that lost every packet (44100 / 352 = 125 a second) and asked
 * each back once stays within twice the stream rate, which RTX_RATE allows. The burst is a
 * second of audio: what a one-second drop-out asks back at once. Whatever the requests say, the
 * resends then stay under 250 x 1.4 KB = 350 KB/s, twice the stream itself.
 */
#define RTX_RATE 250
#define RTX_BURST 128
/* the most packets one request is served from (the history holds 2 s: 255 packets) */
#define RTX_WINDOW_MAX 1024
/* datagrams read per port per service call, so a flood cannot hold off syncs and keep-alives */
#define UDP_BUDGET 64

struct raop {
	const txp_stop_flag *stop;	/* the caller's stop request (profile_opts) */
	struct rtsp *rtsp;
	char url[160], rname[160];
	int ctl_fd, tim_fd;
	struct net_addr peer, ctl_peer, tim_peer;
	int tim_peer_known;		/* SETUP named the receiver's timing port */
	char rerr[256];			/* why an answer mid-stream ended the session */
	int flush_acked;		/* the receiver answered the last FLUSH */
	uint16_t ctl_port, tim_port;
	uint32_t audio_latency, latency_frames;
	struct alac_enc *alac;
	struct aes_cbc *aes;
	const struct stream_desc *d;
	int64_t ntp_base;		/* REALTIME - MONOTONIC at open: a steady wall-clock-like time */
	int64_t timeout_ms, keepalive_ns;
	int64_t next_sync, next_keepalive;
	uint64_t keepalives;
	int first_sync;
	const struct schedule *sched;	/* set at start */
	uint16_t rtx_seq;
	struct tbucket rtx_bucket;
	uint64_t timing_replies, syncs, rtx_requests, rtx_packets, rtx_served, rtx_missed;
	uint64_t rtx_clamped, rtx_cut;		/* requests cut to the history, packets cut off */
	uint64_t rtx_over_limit;		/* packets refused by the rate limit */
	uint64_t ctl_strangers, tim_strangers;	/* datagrams from other hosts, dropped */
	uint64_t payload_bytes, packets, flushes;
	int paused;			/* flushed, no syncs until the stream restarts */
};

int raop_parse_resend(const uint8_t *b, size_t len, struct raop_resend *r)
{
	if (len < 8 || (b[0] & 0x7f) != 0x00 || (b[0] & 0x80) != 0x80 ||
	    (b[1] & 0x7f) != (RAOP_RESEND_REQ & 0x7f)) {
		return -EINVAL;
	}
	r->first = (uint16_t)(b[4] << 8 | b[5]);
	r->count = (uint16_t)(b[6] << 8 | b[7]);
	return r->count ? 0 : -EINVAL;
}

size_t raop_resend_clamp(const struct raop_resend *rq, uint16_t newest, size_t held,
			 uint16_t *seqs)
{
	uint16_t oldest;
	size_t n = 0;

	if (held > 65536) {
		held = 65536;
	}
	/*
	 * Walk the history (at most its depth), not the request (up to 65535): both ranges wrap
	 * around the 16-bit space, and their overlap can be two pieces.
	 */
	oldest = (uint16_t)(newest - (held - 1));
	for (size_t i = 0; i < held; i++) {
		uint16_t seq = (uint16_t)(oldest + i);

		if ((uint16_t)(seq - rq->first) < rq->count) {
			seqs[n++] = seq;
		}
	}
	return n;
}

int raop_parse_timing(const uint8_t *b, size_t len, uint64_t *transmit)
{
	if (len < 32 || (b[0] & 0xc0) != 0x80 || (b[1] & 0x7f) != (RAOP_TIMING_REQ & 0x7f)) {
		return -EINVAL;
	}
	*transmit = 0;
	for (int i = 24; i < 32; i++) {
		*transmit = *transmit << 8 | b[i];
	}
	return 0;
}

uint64_t raop_ntp(int64_t ns)
{
	uint64_t secs = (uint64_t)(ns / NSEC_PER_SEC) + 2208988800ull;
	uint64_t frac = ((uint64_t)(ns % NSEC_PER_SEC) << 32) / NSEC_PER_SEC;

	return secs << 32 | frac;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static int64_t ntp_now_ns(const struct raop *r, int64_t mono)
{
	return mono + r->ntp_base;
}

/*
 * The one line a user needs when an RTSP exchange fails: @rc from the client (@method, the
 * request it was waiting for, may be NULL), or else @resp's status. @return @rc, or -EBUSY,
 * -EACCES, -EPROTO for a refusal, 0 for 200 OK
 */
static int describe(struct raop *r, const char *method, int rc, const struct rtsp_resp *resp,
		    char *err, size_t errlen)
{
	int mid = r->sched != NULL;	/* once the stream runs */

	if (rc == -ETIMEDOUT) {
		snprintf(err, errlen, "%s: no answer to %s within %" PRId64 " ms", r->rname,
			 method ? method : "RTSP", r->timeout_ms);
	} else if (rc == -ECONNRESET && mid) {
		snprintf(err, errlen, "%s closed the RTSP connection mid-stream%s%s%s", r->rname,
			 method ? " (" : "", method ? method : "", method ? " unanswered)" : "");
	} else if (rc == -ECONNRESET) {
		snprintf(err, errlen, "%s closed the connection during %s", r->rname,
			 method ? method : "RTSP");
	} else if (rc == -EPROTO && method) {
		snprintf(err, errlen, "%s answered %s with something that is not RTSP", r->rname,
			 method);
	} else if (rc == -EPROTO) {
		snprintf(err, errlen, "%s sent something that is not RTSP", r->rname);
	} else if (rc) {
		snprintf(err, errlen, "%s: %s failed: %s", r->rname, method ? method : "RTSP",
			 strerror(-rc));
	} else if (resp->status == 453) {
		snprintf(err, errlen, "%s is busy (453 %s): another sender is playing to it", r->rname,
			 resp->reason);
		rc = -EBUSY;
	} else if (resp->status == 401) {
		snprintf(err, errlen, "%s wants a password (401), which txpace does not support",
			 r->rname);
		rc = -EACCES;
	} else if (resp->status != 200) {
		snprintf(err, errlen, "%s refused %s%s: %d %s", r->rname, method,
			 mid ? " mid-stream" : "", resp->status, resp->reason);
		rc = -EPROTO;
	}
	return rc;
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
static int on_reply(void *arg, const char *method, const struct rtsp_resp *resp)
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
static int on_last_flush(void *arg, const char *method, const struct rtsp_resp *resp)
{
	if (resp->status != 200) {
		pr_debug("raop: FLUSH before TEARDOWN answered %d %s", resp->status, resp->reason);
	}
	return 0;
}

/* The client failed mid-stream (@rc from rtsp_send or rtsp_service): say why, once. */
static int rtsp_failed(struct raop *r, int rc, char *err, size_t errlen)
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

static uint16_t port_of(const struct net_addr *a)
{
	return ntohs(a->ss.ss_family == AF_INET ? ((const struct sockaddr_in *)&a->ss)->sin_port
						: ((const struct sockaddr_in6 *)&a->ss)->sin6_port);
}

static void set_port(struct net_addr *a, int port)
{
	if (a->ss.ss_family == AF_INET) {
		((struct sockaddr_in *)&a->ss)->sin_port = htons((uint16_t)port);
	} else {
		((struct sockaddr_in6 *)&a->ss)->sin6_port = htons((uint16_t)port);
	}
}

/* A UDP socket on @local's address (the RTSP connection's), any free port: not on every address. */
static int udp_bound(const struct net_addr *local, uint16_t *port)
{
	struct net_addr a = *local;
	int fd = socket(a.ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	set_port(&a, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a.ss, a.len) ||
	    getsockname(fd, (struct sockaddr *)&a.ss, &a.len)) {
		if (fd >= 0) {
			close(fd);
		}
		return -errno;
	}
	*port = ntohs(a.ss.ss_family == AF_INET ? ((struct sockaddr_in *)&a.ss)->sin_port
						: ((struct sockaddr_in6 *)&a.ss)->sin6_port);
	return fd;
}

static void raop_close(void *priv)
{
	struct raop *r = priv;

	if (!r) {
		return;
	}
	rtsp_close(r->rtsp);
	if (r->ctl_fd >= 0) {
		close(r->ctl_fd);
	}
	if (r->tim_fd >= 0) {
		close(r->tim_fd);
	}
	alac_enc_free(r->alac);
	aes_cbc_free(r->aes);
	free(r);
}

static int announce(struct raop *r, const struct profile_opts *o, uint32_t sid, char *err,
		    size_t errlen)
{
	char host[INET6_ADDRSTRLEN], peer[INET6_ADDRSTRLEN], sdp[2048], keyl[600] = "";
	const struct net_addr *l = rtsp_local(r->rtsp);
	int v6 = l->ss.ss_family == AF_INET6;
	struct rtsp_resp resp;

	inet_ntop(l->ss.ss_family, v6 ? (const void *)&((const struct sockaddr_in6 *)&l->ss)->sin6_addr
				       : (const void *)&((const struct sockaddr_in *)&l->ss)->sin_addr,
		  host, sizeof(host));
	inet_ntop(r->peer.ss.ss_family,
		  v6 ? (const void *)&((const struct sockaddr_in6 *)&r->peer.ss)->sin6_addr
		     : (const void *)&((const struct sockaddr_in *)&r->peer.ss)->sin_addr,
		  peer, sizeof(peer));
	snprintf(r->url, sizeof(r->url), "rtsp://%s/%u", host, sid);
	if (o->encrypt) {
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
		snprintf(keyl, sizeof(keyl), "a=rsaaeskey:%s\r\na=aesiv:%s\r\n", kb, ib);
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

static void *raop_open(const struct profile_opts *o, struct stream_desc *d, char *err,
		       size_t errlen)
{
	struct raop *r = calloc(1, sizeof(*r));
	struct rtsp_resp resp;
	struct net_tx_opts to = { o->iface, -1, (int)o->dscp, -1 };
	uint8_t rnd[16];
	char common[256], transport[256], extra[256];
	const char *t, *v;
	uint32_t sid;
	int srv, rc;

	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->stop = o->stop;
	r->ctl_fd = r->tim_fd = -1;
	r->timeout_ms = o->timeout_ms;
	r->keepalive_ns = o->keepalive_ns;
	if (o->to_name) {
		rc = discover_raop(o->to_name, 5000, o->stop, &r->peer, err, errlen);
		if (rc) {
			goto fail;
		}
		snprintf(r->rname, sizeof(r->rname), "%s", o->to_name);
	} else {
		rc = net_parse(o->dest_s, 5000, &r->peer);
		if (rc) {
			snprintf(err, errlen, "%s: %s", o->dest_s,
				 rc == -ENOENT ? "unknown host" : "not HOST[:PORT] or [IPV6]:PORT");
			goto fail;
		}
		net_fmt(&r->peer, r->rname, sizeof(r->rname));
	}
	r->rtsp = rtsp_connect(&r->peer, (int)o->timeout_ms);
	if (!r->rtsp) {
		snprintf(err, errlen, "cannot connect to %s: %s", r->rname, strerror(errno));
		goto fail;
	}
	if (crypto_random(rnd, sizeof(rnd))) {
		snprintf(err, errlen, "no random numbers");
		goto fail;
	}
	sid = (uint32_t)rnd[0] << 24 | (uint32_t)rnd[1] << 16 | (uint32_t)rnd[2] << 8 | rnd[3];
	d->seq0 = (uint16_t)(rnd[4] << 8 | rnd[5]);
	d->ts0 = (uint32_t)rnd[6] << 24 | (uint32_t)rnd[7] << 16 | (uint32_t)rnd[8] << 8 | rnd[9];
	d->ssrc = o->have_ssrc ? o->ssrc : (uint32_t)rnd[10] << 24 | (uint32_t)rnd[11] << 16 |
						   (uint32_t)rnd[12] << 8 | rnd[13];
	snprintf(common, sizeof(common),
		 "User-Agent: txpace/0.1\r\nClient-Instance: %02X%02X%02X%02X%02X%02X%02X%02X\r\n",
		 rnd[8], rnd[9], rnd[10], rnd[11], rnd[12], rnd[13], rnd[14], rnd[15]);
	rtsp_set_common(r->rtsp, common);
	if (request(r, "OPTIONS", "*", NULL, NULL, NULL, 0, &resp, err, errlen) ||
	    announce(r, o, sid, err, errlen)) {
		goto fail;
	}
	r->ctl_fd = udp_bound(rtsp_local(r->rtsp), &r->ctl_port);
	r->tim_fd = udp_bound(rtsp_local(r->rtsp), &r->tim_port);
	if (r->ctl_fd < 0 || r->tim_fd < 0) {
		snprintf(err, errlen, "cannot open the control and timing ports: %s", strerror(errno));
		goto fail;
	}
	pr_debug("raop: control port %u, timing port %u", r->ctl_port, r->tim_port);
	snprintf(extra, sizeof(extra),
		 "Transport: RTP/AVP/UDP;unicast;interleaved=0-1;mode=record;control_port=%u;"
		 "timing_port=%u\r\n", r->ctl_port, r->tim_port);
	if (request(r, "SETUP", r->url, extra, NULL, NULL, 0, &resp, err, errlen)) {
		goto fail;
	}
	t = rtsp_header(&resp, "Transport");
	srv = t ? transport_port(t, "server_port") : -1;
	if (srv < 0) {
		snprintf(err, errlen, "%s answered SETUP without a server_port", r->rname);
		goto fail;
	}
	r->ctl_peer = r->peer;
	set_port(&r->ctl_peer, transport_port(t, "control_port") > 0 ? transport_port(t, "control_port")
								       : srv);
	/*
	 * Timing replies go to the timing port the receiver named, as retransmits go to its control
	 * port, whatever port a request came from (shairport-sync asks from that very port, and
	 * reads replies only there). Without one, a reply goes back where its request came from.
	 */
	r->tim_peer = r->peer;
	r->tim_peer_known = transport_port(t, "timing_port") > 0;
	if (r->tim_peer_known) {
		set_port(&r->tim_peer, transport_port(t, "timing_port"));
	}
	snprintf(transport, sizeof(transport), "%s", t);
	v = rtsp_header(&resp, "Session");
	snprintf(common + strlen(common), sizeof(common) - strlen(common), "Session: %.*s\r\n",
		 v ? (int)strcspn(v, ";") : 1, v ? v : "1");
	rtsp_set_common(r->rtsp, common);
	d->dest = r->peer;
	set_port(&d->dest, srv);
	d->fd = net_udp_connect(&d->dest, &to);
	if (d->fd < 0) {
		snprintf(err, errlen, "cannot send audio to %s: %s", r->rname, strerror(-d->fd));
		goto fail;
	}
	snprintf(extra, sizeof(extra), "Range: npt=0-\r\nRTP-Info: seq=%u;rtptime=%u\r\n", d->seq0,
		 d->ts0);
	if (request(r, "RECORD", r->url, extra, NULL, NULL, 0, &resp, err, errlen)) {
		goto fail;
	}
	v = rtsp_header(&resp, "Audio-Latency");
	r->audio_latency = v ? (uint32_t)strtoul(v, NULL, 10) : RECEIVER_LATENCY;
	r->latency_frames = (uint32_t)(o->latency_ns * RAOP_RATE / NSEC_PER_SEC);
	if (r->latency_frames <= r->audio_latency) {
		r->latency_frames = r->audio_latency + ALAC_FRAMES;
	}
	if (o->have_volume) {
		char body[64];
		int n = snprintf(body, sizeof(body), "volume: %.6f\r\n", o->volume_db);

		if (request(r, "SET_PARAMETER", r->url, NULL, "text/parameters", body, (size_t)n,
			    &resp, err, errlen)) {
			goto fail;
		}
	}
	r->alac = alac_enc_new(o->alac, err, errlen);
	if (!r->alac) {
		goto fail;
	}
	r->ntp_base = clock_ns(CLOCK_REALTIME) - mono_ns();
	r->d = d;	/* its history is created once the packet size is known */
	d->rate = RAOP_RATE;
	d->channels = 2;
	d->bits = 16;
	d->spp = ALAC_FRAMES;
	d->max_packet = RTP_HDR_LEN + ALAC_MAX_BYTES;
	pr_debug("raop: %s server_port %d, %s, audio latency %u", r->rname, srv, transport,
		 r->audio_latency);
	return r;
fail:
	if (d->fd >= 0) {
		close(d->fd);
		d->fd = -1;
	}
	raop_close(r);
	return NULL;
}

static int raop_packetize(void *priv, const struct stream_desc *d, uint64_t k, const int32_t *pcm,
			  uint32_t frames, uint8_t *out)
{
	struct raop *r = priv;
	int n;

	/* PT 96, the marker on the first packet after a (re)start */
	rtp_write_hdr(out, 96, k == d->marker_k, (uint16_t)(d->seq0 + k),
		      d->ts0 + (uint32_t)(k * ALAC_FRAMES), d->ssrc);
	n = alac_encode(r->alac, pcm, frames, out + RTP_HDR_LEN);
	if (n < 0) {
		return n;
	}
	if (r->aes && aes_cbc_encrypt_raop(r->aes, out + RTP_HDR_LEN, (size_t)n)) {
		return -EIO;
	}
	r->payload_bytes += (uint64_t)n;
	r->packets++;
	return RTP_HDR_LEN + n;
}

/* RTP time at @now on the schedule's exact sample grid (may be before the start). */
static uint32_t rtp_at(const struct schedule *s, int64_t now)
{
	int64_t dt = now - s->start_ns;
	int64_t samples = (int64_t)((__int128)dt * s->rate / NSEC_PER_SEC);

	if (dt < 0 && (__int128)samples * NSEC_PER_SEC != (__int128)dt * s->rate) {
		samples--;	/* floor, not truncation */
	}
	return s->ts0 + (uint32_t)samples;
}

static void send_sync(struct raop *r, const struct schedule *s, int64_t now)
{
	/* "first" until a sync went out after a completed timing exchange */
	uint8_t b[20] = { r->first_sync ? 0x80 : 0x90, RAOP_SYNC, 0x00, 0x07 };

	/* receivers play RTP time T at NTP time t + latency: say what plays now */
	put32(b + 4, rtp_at(s, now) - (r->latency_frames - r->audio_latency));
	put64(b + 8, raop_ntp(ntp_now_ns(r, now)));
	put32(b + 16, sched_rtp_ts(s, sched_first_at(s, now)));
	if (sendto(r->ctl_fd, b, sizeof(b), 0, (struct sockaddr *)&r->ctl_peer.ss, r->ctl_peer.len) ==
	    sizeof(b)) {
		r->syncs++;
		r->first_sync = r->timing_replies >= 2;
	}
}

/*
 * Only the receiver may talk to us: anyone else who can reach the ports would get timing replies
 * and, worse, audio (a resend request is 8 bytes; the history is 2 s of it). Counted, logged once.
 */
static int from_receiver(struct raop *r, const struct sockaddr_storage *from, socklen_t fl,
			 const char *port, uint64_t *strangers)
{
	struct net_addr a = { *from, fl };
	char s[80];

	if (net_same_host(&r->peer, (const struct sockaddr *)from, fl)) {
		return 1;
	}
	if (!(*strangers)++) {
		pr_warn("ignoring %s packets from %s: not the receiver %s", port,
			net_fmt(&a, s, sizeof(s)), r->rname);
	}
	return 0;
}

static void on_timing(struct raop *r)
{
	for (int budget = UDP_BUDGET; budget > 0; budget--) {
		uint8_t b[128], out[32];
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(r->tim_fd, b, sizeof(b), 0, (struct sockaddr *)&from, &fl);
		int64_t arrival = mono_ns();
		uint64_t tx;

		if (n < 0) {
			return;
		}
		if (!from_receiver(r, &from, fl, "timing", &r->tim_strangers) ||
		    raop_parse_timing(b, (size_t)n, &tx)) {
			continue;
		}
		memset(out, 0, sizeof(out));
		out[0] = 0x80;
		out[1] = RAOP_TIMING_REPLY;
		out[2] = b[2];
		out[3] = b[3];
		put64(out + 8, tx);
		put64(out + 16, raop_ntp(ntp_now_ns(r, arrival)));
		put64(out + 24, raop_ntp(ntp_now_ns(r, mono_ns())));
		if (r->tim_peer_known) {
			from = r->tim_peer.ss;
			fl = r->tim_peer.len;
		}
		if (sendto(r->tim_fd, out, sizeof(out), 0, (struct sockaddr *)&from, fl) == 32) {
			r->timing_replies++;
		}
		/*
		 * A receiver may not have taken in our first reply when the first sync arrives
		 * (shairport-sync then ignores it); its next request shows that it has: sync again.
		 */
		if (r->timing_replies == 2 && r->sched) {
			send_sync(r, r->sched, mono_ns());
		}
	}
}

/* @seq left the history (while a request was being served): too old to matter to the receiver */
static int aged_out(struct history *h, uint16_t seq)
{
	uint32_t newest;
	size_t held;

	return history_window(h, &newest, &held) || (uint16_t)((uint16_t)newest - seq) >= held;
}

/*
 * Retransmit requests from the receiver's address, served from history to its negotiated control
 * port (never to the request's source port). A request is cut to the packets the history holds
 * (what it asks beyond them cannot be sent: never sent, or older than the history's 2 s, which
 * at the default latency is past its play time); every packet looked up is paid for from the
 * rate limit's bucket. On the main thread, between the other duties.
 */
static void on_control(struct raop *r)
{
	for (int budget = UDP_BUDGET; budget > 0; budget--) {
		uint8_t b[64], out[4 + RTP_HDR_LEN + ALAC_MAX_BYTES];
		uint16_t seqs[RTX_WINDOW_MAX];
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(r->ctl_fd, b, sizeof(b), 0, (struct sockaddr *)&from, &fl);
		int64_t now = mono_ns();
		struct raop_resend rq;
		uint32_t newest = 0;
		size_t held = 0, k;

		if (n < 0) {
			return;
		}
		if (!from_receiver(r, &from, fl, "control", &r->ctl_strangers) ||
		    raop_parse_resend(b, (size_t)n, &rq)) {
			continue;
		}
		r->rtx_requests++;
		r->rtx_packets += rq.count;
		if (!history_window(r->d->hist, &newest, &held) && held > RTX_WINDOW_MAX) {
			held = RTX_WINDOW_MAX;
		}
		k = raop_resend_clamp(&rq, (uint16_t)newest, held, seqs);
		if (k < rq.count) {
			pr_debug("retransmit request for %u packets from seq %u: %zu of them held",
				 rq.count, rq.first, k);
			r->rtx_clamped++;
			r->rtx_cut += rq.count - k;
		}
		for (size_t i = 0; i < k; i++) {
			int len;

			if (!tbucket_take(&r->rtx_bucket, now)) {
				if (!r->rtx_over_limit) {
					pr_warn("%s asks for more than %d retransmits a second; "
						"refusing the excess", r->rname, RTX_RATE);
				}
				r->rtx_over_limit += k - i;
				break;
			}
			len = history_get(r->d->hist, seqs[i], out + 4, sizeof(out) - 4);
			if (len < 0 && len != -ENOSPC && aged_out(r->d->hist, seqs[i])) {
				r->rtx_cut++;
				continue;
			}
			if (len < 0) {
				pr_debug("retransmit of seq %u: not in history (%s)", seqs[i],
					 strerror(-len));
				r->rtx_missed++;
				continue;
			}
			out[0] = 0x80;
			out[1] = RAOP_RESEND_REPLY;
			out[2] = (uint8_t)(r->rtx_seq >> 8);
			out[3] = (uint8_t)r->rtx_seq++;
			if (sendto(r->ctl_fd, out, (size_t)len + 4, 0,
				   (struct sockaddr *)&r->ctl_peer.ss, r->ctl_peer.len) == len + 4) {
				r->rtx_served++;
			} else {
				pr_debug("retransmit of seq %u: %s", seqs[i], strerror(errno));
				r->rtx_missed++;
			}
		}
	}
}

static int raop_start(void *priv, struct schedule *s, int64_t earliest, char *err, size_t errlen)
{
	struct raop *r = priv;
	struct pollfd p = { r->tim_fd, POLLIN, 0 };
	int64_t now = mono_ns(), until = now + r->timeout_ms * NSEC_PER_MSEC;

	/* receivers ignore a sync before their first timing exchange: answer one first */
	while (!r->timing_replies && now < until) {
		if (poll(&p, 1, (int)((until - now) / NSEC_PER_MSEC) + 1) == 1) {
			on_timing(r);	/* a stranger's request is no exchange: wait on */
		}
		now = mono_ns();
	}
	if (!r->timing_replies) {
		pr_warn("%s sent no timing request within %" PRId64 " ms; starting anyway", r->rname,
			r->timeout_ms);
	}
	/* the producer starts now: give it time to build the first packets */
	now = mono_ns();
	s->start_ns = earliest > now + 50 * NSEC_PER_MSEC ? earliest : now + 50 * NSEC_PER_MSEC;
	r->sched = s;
	tbucket_init(&r->rtx_bucket, RTX_RATE, RTX_BURST, now);
	send_sync(r, s, now);
	r->next_sync = now + NSEC_PER_SEC;
	r->next_keepalive = now + r->keepalive_ns;
	return 0;
}

static int raop_poll_fds(void *priv, struct pollfd *pfd, int max)
{
	struct raop *r = priv;

	if (max < 3) {
		return 0;
	}
	pfd[0] = (struct pollfd){ r->tim_fd, POLLIN, 0 };
	pfd[1] = (struct pollfd){ r->ctl_fd, POLLIN, 0 };
	pfd[2] = (struct pollfd){ rtsp_fd(r->rtsp), rtsp_events(r->rtsp), 0 };
	return 3;
}

/*
 * Timing and control first (what arrived while we slept), then whatever the RTSP connection
 * brought: answers go to on_reply(); a request unanswered by its deadline ends the stream. Nothing
 * here waits for the receiver.
 */
static int raop_service(void *priv, const struct schedule *s, int64_t now, int64_t *next, char *err,
			size_t errlen)
{
	struct raop *r = priv;
	int64_t dl;
	int rc;

	on_timing(r);
	on_control(r);
	rc = rtsp_service(r->rtsp);
	if (rc) {
		return rtsp_failed(r, rc, err, errlen);
	}
	if (now >= r->next_sync) {
		if (!r->paused) {
			send_sync(r, s, now);
		}
		r->next_sync += NSEC_PER_SEC;
	}
	if (now >= r->next_keepalive) {
		/* a request still unanswered keeps the session busy too, and has its deadline */
		if (!rtsp_pending(r->rtsp)) {
			rc = rtsp_send(r->rtsp, "OPTIONS", "*", NULL, NULL, NULL, 0, on_reply, r);
			if (rc) {
				return rtsp_failed(r, rc, err, errlen);
			}
		}
		r->next_keepalive += r->keepalive_ns;
		if (r->next_keepalive <= now) {
			r->next_keepalive = now + r->keepalive_ns;
		}
	}
	*next = r->next_sync < r->next_keepalive ? r->next_sync : r->next_keepalive;
	dl = rtsp_deadline(r->rtsp);
	if (dl < *next) {
		*next = dl;
	}
	return 0;
}

static int wait_ms(int64_t until, int64_t now)
{
	return until > now ? (int)((until - now) / NSEC_PER_MSEC) + 1 : 0;
}

/* Until @until: every duty, keep-alives and syncs included, as while the stream ran. */
static int play_out(struct raop *r, const struct schedule *s, int64_t until, char *err,
		    size_t errlen)
{
	int64_t next = mono_ns();

	while (mono_ns() < until && !txp_stopped(r->stop)) {
		struct pollfd pfd[3];
		int n = raop_poll_fds(r, pfd, 3);
		int rc;

		poll(pfd, (nfds_t)n, wait_ms(next < until ? next : until, mono_ns()));
		rc = raop_service(r, s, mono_ns(), &next, err, errlen);
		if (rc) {
			return rc;
		}
	}
	return 0;
}

/* Until every RTSP request is answered (each within its deadline), the UDP ports served still. */
static int drain(struct raop *r, char *err, size_t errlen)
{
	while (rtsp_pending(r->rtsp)) {
		struct pollfd pfd[3];
		int n = raop_poll_fds(r, pfd, 3);
		int rc;

		poll(pfd, (nfds_t)n, wait_ms(rtsp_deadline(r->rtsp), mono_ns()));
		on_timing(r);
		on_control(r);
		rc = rtsp_service(r->rtsp);
		if (rc) {
			return rtsp_failed(r, rc, err, errlen);
		}
	}
	return 0;
}

static int raop_finish(void *priv, const struct schedule *s, int64_t last_launch, int interrupted,
		       char *err, size_t errlen)
{
	struct raop *r = priv;
	int64_t until = last_launch + (int64_t)r->latency_frames * NSEC_PER_SEC / RAOP_RATE +
			250 * NSEC_PER_MSEC;
	int rc;

	/* the receiver plays the last packet a latency after it left; keep serving it until then */
	if (!interrupted) {
		rc = play_out(r, s, until, err, errlen);
		if (rc) {
			return rc;
		}
		interrupted = txp_stopped(r->stop);
	}
	if (interrupted) {
		char extra[96];

		snprintf(extra, sizeof(extra), "RTP-Info: seq=%u;rtptime=%u\r\n",
			 (uint16_t)(r->d->seq0 + r->packets), r->d->ts0 +
			 (uint32_t)(r->packets * ALAC_FRAMES));
		rtsp_send(r->rtsp, "FLUSH", r->url, extra, NULL, NULL, 0, on_last_flush, r);
	}
	rc = rtsp_send(r->rtsp, "TEARDOWN", r->url, NULL, NULL, NULL, 0, on_reply, r);
	if (!rc) {
		rc = drain(r, err, errlen);
	} else {
		rc = rtsp_failed(r, rc, err, errlen);
	}
	/* a receiver may close the connection on TEARDOWN instead of answering it */
	return rc == -ECONNRESET ? 0 : rc;
}

static int raop_flush(void *priv, uint64_t next_k, char *err, size_t errlen)
{
	struct raop *r = priv;
	char extra[96];
	int rc;

	snprintf(extra, sizeof(extra), "RTP-Info: seq=%u;rtptime=%u\r\n",
		 (uint16_t)(r->d->seq0 + next_k), r->d->ts0 + (uint32_t)(next_k * ALAC_FRAMES));
	r->flushes++;
	r->paused = 1;
	r->flush_acked = 0;
	rc = rtsp_send(r->rtsp, "FLUSH", r->url, extra, NULL, NULL, 0, on_reply, r);
	return rc ? rtsp_failed(r, rc, err, errlen) : 0;
}

/* The restart waits for the receiver to have dropped what it held (as when FLUSH blocked). */
static int raop_flush_done(void *priv)
{
	struct raop *r = priv;

	return r->flush_acked;
}

static void raop_resume(void *priv, const struct schedule *s, int64_t now)
{
	struct raop *r = priv;

	/* a new first sync (0x90) anchors the restarted stream at once */
	r->paused = 0;
	r->first_sync = 0;
	send_sync(r, s, now);
	r->next_sync = now + NSEC_PER_SEC;
}

/*
 * Every packet the receiver asked for and the history held was sent. What was refused by policy
 * (strangers, requests beyond the history, resends over the rate limit) is reported, not failed:
 * a stranger must not be able to turn a good stream into a failed one.
 */
static int raop_complete(void *priv)
{
	struct raop *r = priv;

	return r->rtx_missed == 0;
}

static void raop_report(void *priv, struct json *j)
{
	struct raop *r = priv;

	json_obj(j, "raop");
	json_str(j, "receiver", r->rname);
	json_uint(j, "latency_frames", r->latency_frames);
	json_uint(j, "receiver_latency_frames", r->audio_latency);
	json_bool(j, "encrypted", r->aes != NULL);
	json_num(j, "payload_bytes_per_packet", r->packets ? (double)r->payload_bytes / (double)r->packets : 0);
	json_uint(j, "timing_replies", r->timing_replies);
	json_uint(j, "syncs", r->syncs);
	json_uint(j, "flushes", r->flushes);
	json_uint(j, "keepalives", r->keepalives);
	json_uint(j, "retransmit_requests", r->rtx_requests);
	json_uint(j, "retransmit_packets", r->rtx_packets);
	json_uint(j, "retransmits_served", r->rtx_served);
	json_uint(j, "retransmits_missed", r->rtx_missed);
	json_uint(j, "retransmits_over_limit", r->rtx_over_limit);
	json_uint(j, "retransmit_requests_clamped", r->rtx_clamped);
	json_uint(j, "retransmit_packets_cut", r->rtx_cut);
	json_uint(j, "retransmit_limit_per_s", RTX_RATE);
	json_uint(j, "retransmit_burst", RTX_BURST);
	json_uint(j, "control_port", r->ctl_port);
	json_uint(j, "timing_port", r->tim_port);
	json_uint(j, "receiver_control_port", port_of(&r->ctl_peer));
	json_uint(j, "receiver_timing_port", r->tim_peer_known ? port_of(&r->tim_peer) : 0);
	json_uint(j, "control_strangers_refused", r->ctl_strangers);
	json_uint(j, "timing_strangers_refused", r->tim_strangers);
	json_end(j, '}');
}

static void raop_summary(void *priv, FILE *f)
{
	struct raop *r = priv;

	fprintf(f, "retransmit requests %" PRIu64 " for %" PRIu64 " packets: served %" PRIu64
	       ", missed %" PRIu64 ", over the limit (%d/s, burst %d) %" PRIu64
	       ", beyond the history %" PRIu64 " (in %" PRIu64 " requests)\n", r->rtx_requests,
	       r->rtx_packets, r->rtx_served, r->rtx_missed, RTX_RATE, RTX_BURST, r->rtx_over_limit,
	       r->rtx_cut, r->rtx_clamped);
	if (r->ctl_strangers || r->tim_strangers) {
		fprintf(f, "refused, not from the receiver: control packets %" PRIu64
		       ", timing packets %" PRIu64 "\n", r->ctl_strangers, r->tim_strangers);
	}
}

const struct profile_ops profile_raop = {
	.name = "raop",
	.tail_packets = 3,
	.history_s = 2,		/* RAOP receivers ask for up to 2 s back */
	.open = raop_open,
	.packetize = raop_packetize,
	.start = raop_start,
	.poll_fds = raop_poll_fds,
	.service = raop_service,
	.flush = raop_flush,
	.flush_done = raop_flush_done,
	.resume = raop_resume,
	.finish = raop_finish,
	.complete = raop_complete,
	.report = raop_report,
	.summary = raop_summary,
	.close = raop_close,
};
