// SPDX-License-Identifier: GPL-2.0-only
/*
 * Profile airplay2: AirPlay 2 realtime audio (stream type 96). The session (ap2_session.c):
 * /info, pairing, encrypted RTSP, SETUP with PTP timing, RECORD, SETPEERS, SETUP (stream). The
 * audio: ALAC frames of 352, sealed with ChaCha20-Poly1305 under the stream key (ap2_wire.c),
 * the nonce the packet's own number (a resend is byte-identical). The timing: our PTP master
 * (aptp.c) speaks to the receiver's 319/320, and 0xD7 anchors on the control port map RTP time
 * to PTP time once a second, from the same schedule the pacer follows: packet k plays at its
 * launch time + the latency. Retransmits come from history (rtx.c), to the receiver only.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "txpace/aead.h"
#include "txpace/alac.h"
#include "txpace/clock.h"
#include "txpace/log.h"
#include "txpace/profile.h"
#include "txpace/rtp.h"
#include "ap2_priv.h"

void ap2_close(void *priv)
{
	struct ap2 *a = priv;

	if (!a) {
		return;
	}
	ap2_events_close(a);
	rtsp_close(a->rtsp);
	hapsec_free(a->sec);
	aptp_free(a->ptp);
	if (a->ctl_fd >= 0) {
		close(a->ctl_fd);
	}
	alac_enc_free(a->alac);
	aac_enc_free(a->aac);	/* (the data connection is the stream's fd: it closes it) */
	aead_wipe(a->shk, sizeof(a->shk));
	free(a);
}

struct ap2 *ap2_new(const struct profile_opts *o)
{
	struct ap2 *a = calloc(1, sizeof(*a));

	if (!a) {
		return NULL;
	}
	a->stop = o->stop;
	a->ctl_fd = -1;
	a->data_fd = -1;
	a->ev.fd = -1;
	a->timeout_ms = o->timeout_ms;
	a->pair_dir = o->pair_dir;
	a->first_anchor = 1;
	return a;
}

static int open_audio(struct ap2 *a, const struct profile_opts *o, struct stream_desc *d,
		      char *err, size_t errlen)
{
	struct net_tx_opts to = { o->iface, -1, (int)o->dscp, -1 };

	d->dest = a->data_peer;
	d->fd = net_udp_connect(&d->dest, &to);
	if (d->fd < 0) {
		snprintf(err, errlen, "cannot send audio to %s: %s", a->rname, strerror(-d->fd));
		return d->fd;
	}
	return 0;
}

static int open_encoder(struct ap2 *a, const struct profile_opts *o, struct stream_desc *d,
			char *err, size_t errlen)
{
	a->alac = alac_enc_new(o->alac, err, errlen);
	if (!a->alac) {
		return -EINVAL;
	}
	a->d = d;
	d->rate = AP2_RATE;
	d->channels = 2;
	d->bits = 16;
	d->spp = AP2_SPF;
	d->max_packet = RTP_HDR_LEN + ALAC_MAX_BYTES + AP2_TRAILER;
	return 0;
}

static void *ap2_open(const struct profile_opts *o, struct stream_desc *d, char *err,
		      size_t errlen)
{
	struct ap2 *a = ap2_new(o);

	if (!a) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (ap2_connect(a, o, err, errlen) ||
	    ap2_session_ids(a, o, d, err, errlen) ||
	    ap2_get_info(a, err, errlen) ||
	    ap2_pair(a, err, errlen) ||
	    ap2_open_ports(a, o, err, errlen) ||
	    ap2_setup(a, o, err, errlen) ||
	    open_audio(a, o, d, err, errlen) ||
	    ap2_set_volume(a, o, err, errlen) ||
	    open_encoder(a, o, d, err, errlen)) {
		goto fail;
	}
	pr_debug("airplay2: %s data port %u, control port %u (ours %u), latency %u frames",
		 a->rname, net_port(&a->data_peer), net_port(&a->ctl_peer), a->ctl_port,
		 a->latency_frames);
	return a;
fail:
	if (d->fd >= 0) {
		close(d->fd);
		d->fd = -1;
	}
	ap2_close(a);
	return NULL;
}

static int ap2_packetize(void *priv, const struct stream_desc *d, uint64_t k, const int32_t *pcm,
			 uint32_t frames, uint8_t *out)
{
	struct ap2 *a = priv;
	int n;

	rtp_write_hdr(out, 96, k == d->marker_k, (uint16_t)(d->seq0 + k),
		      d->ts0 + (uint32_t)(k * AP2_SPF), d->ssrc);
	n = alac_encode(a->alac, pcm, frames, out + RTP_HDR_LEN);
	if (n < 0) {
		return n;
	}
	a->payload_bytes += (uint64_t)n;
	a->packets++;
	/* the nonce is the packet number: unique under this key, the same for a resend */
	return ap2_seal_audio(a->shk, out, RTP_HDR_LEN + (size_t)n, k);
}

/*
 * An anchor: the receiver plays frame f1 - AP2CTL_RECEIVER_LEAD at the anchor's PTP time. So
 * f1 = the RTP time of the next packet to leave + that lead, at PTP time = its launch + the
 * latency: every frame plays exactly the latency after its launch on our schedule.
 */
static void send_anchor(struct ap2 *a, const struct schedule *s, int64_t now)
{
	uint64_t k = sched_first_at(s, now);
	int64_t play = sched_launch(s, k) + (int64_t)a->latency_frames * NSEC_PER_SEC / AP2_RATE;
	struct ap2ctl_anchor an = { .first = a->first_anchor,
				    .rtp = sched_rtp_ts(s, k) + AP2CTL_RECEIVER_LEAD,
				    .ptp_ns = (uint64_t)aptp_ptp_time(a->ptp, play +
								      ap2_to_ptp_clock(a)) };
	uint8_t b[AP2CTL_ANCHOR_LEN];
	size_t n;

	aptp_clock_id(a->ptp, an.clock_id);
	n = ap2ctl_build_anchor(b, &an);
	if (sendto(a->ctl_fd, b, n, 0, (struct sockaddr *)&a->ctl_peer.ss, a->ctl_peer.len) ==
	    (ssize_t)n) {
		a->anchors++;
		a->first_anchor = 0;
	}
}

static int ap2_start(void *priv, struct schedule *s, int64_t earliest, char *err, size_t errlen)
{
	struct ap2 *a = priv;
	int64_t now = mono_ns();

	s->start_ns = earliest > now + 50 * NSEC_PER_MSEC ? earliest : now + 50 * NSEC_PER_MSEC;
	a->sched = s;
	rtx_init(&a->rtx, a->ctl_fd, &a->peer, &a->ctl_peer, a->rname, now);
	send_anchor(a, s, now);
	a->next_anchor = now + NSEC_PER_SEC;
	a->next_feedback = now + AP2_FEEDBACK_NS;
	return 0;
}

static int ap2_poll_fds(void *priv, struct pollfd *pfd, int max)
{
	struct ap2 *a = priv;
	int n;

	if (max < 4) {
		return 0;
	}
	pfd[0] = (struct pollfd){ a->ctl_fd, POLLIN, 0 };
	pfd[1] = (struct pollfd){ rtsp_fd(a->rtsp), rtsp_events(a->rtsp), 0 };
	n = ap2_bg_poll_fds(a, pfd + 2, max - 2);
	return 2 + n;
}

/* A control packet that is no resend request: counted by kind (receivers send little else). */
static void on_other(void *arg, const uint8_t *b, size_t n)
{
	struct ap2 *a = arg;
	struct ap2ctl_resend rq;

	ap2ctl_parse_resend(b, n, &rq, &a->ctl_counts);
}

static int ap2_service(void *priv, const struct schedule *s, int64_t now, int64_t *next, char *err,
		       size_t errlen)
{
	struct ap2 *a = priv;
	int64_t ptp_next = INT64_MAX;
	int rc;

	rtx_serve(&a->rtx, a->d->hist, on_other, a);
	rc = rtsp_service(a->rtsp);
	if (rc) {
		return ap2_rtsp_failed(a, rc, err, errlen);
	}
	rc = ap2_ptp_service(a, now, &ptp_next, err, errlen);
	if (rc) {
		return rc;
	}
	if (now >= a->next_anchor) {
		if (!a->paused) {
			send_anchor(a, s, now);
		}
		a->next_anchor += NSEC_PER_SEC;
	}
	return ap2_keepalive(a, now, ptp_next, next, err, errlen);
}

int ap2_keepalive(struct ap2 *a, int64_t now, int64_t ptp_next, int64_t *next, char *err,
		  size_t errlen)
{
	int64_t dl;

	if (now >= a->next_feedback) {
		if (!rtsp_pending(a->rtsp)) {
			int rc = ap2_send(a, "POST", "/feedback", NULL, err, errlen);

			if (rc) {
				return rc;
			}
		}
		a->next_feedback = now + AP2_FEEDBACK_NS;
	}
	*next = a->next_anchor < a->next_feedback ? a->next_anchor : a->next_feedback;
	if (ptp_next < *next) {
		*next = ptp_next;
	}
	dl = rtsp_deadline(a->rtsp);
	if (dl < *next) {
		*next = dl;
	}
	return 0;
}

int ap2_serve_until(struct ap2 *a, const struct profile_ops *ops, const struct schedule *s,
		    int64_t until, int drain, char *err, size_t errlen)
{
	int64_t next = mono_ns();

	for (;;) {
		struct pollfd pfd[6];
		int64_t now = mono_ns();
		int n, rc;

		if (drain ? !rtsp_pending(a->rtsp) : (now >= until || txp_stopped(a->stop))) {
			return 0;
		}
		if (drain && now >= until) {
			return 0;	/* rtsp_service() reports the deadline */
		}
		n = ops->poll_fds(a, pfd, 6);
		if (next > until) {
			next = until;
		}
		poll(pfd, (nfds_t)n, next > now ? (int)((next - now) / NSEC_PER_MSEC) + 1 : 0);
		rc = ops->service(a, s, mono_ns(), &next, err, errlen);
		if (rc) {
			return rc;
		}
	}
}

static void rtp_info(struct ap2 *a, uint64_t k, char *extra, size_t cap)
{
	snprintf(extra, cap, "RTP-Info: seq=%u;rtptime=%u\r\n", (uint16_t)(a->d->seq0 + k),
		 a->d->ts0 + (uint32_t)(k * AP2_SPF));
}

static int ap2_finish(void *priv, const struct schedule *s, int64_t last_launch, int interrupted,
		      char *err, size_t errlen)
{
	struct ap2 *a = priv;
	int64_t until = last_launch + (int64_t)a->latency_frames * NSEC_PER_SEC / AP2_RATE +
			250 * NSEC_PER_MSEC;
	char extra[96];
	int rc;

	/* the receiver plays the last packet a latency after it left: keep its clock until then */
	if (!interrupted) {
		rc = ap2_serve_until(a, &profile_airplay2, s, until, 0, err, errlen);
		if (rc) {
			return rc;
		}
		interrupted = txp_stopped(a->stop);
	}
	if (interrupted) {
		rtp_info(a, a->packets, extra, sizeof(extra));
		rc = ap2_send(a, "FLUSH", a->url, extra, err, errlen);
		if (rc) {
			return rc;
		}
	}
	rc = ap2_send(a, "TEARDOWN", a->url, NULL, err, errlen);
	if (!rc) {
		rc = ap2_serve_until(a, &profile_airplay2, s, INT64_MAX, 1, err, errlen);
	}
	/* a receiver may close the connection on TEARDOWN instead of answering it */
	return rc == -ECONNRESET ? 0 : rc;
}

static int ap2_flush(void *priv, uint64_t next_k, char *err, size_t errlen)
{
	struct ap2 *a = priv;
	char extra[96];

	rtp_info(a, next_k, extra, sizeof(extra));
	a->flushes++;
	a->paused = 1;
	a->flush_acked = 0;
	return ap2_send(a, "FLUSH", a->url, extra, err, errlen);
}

int ap2_flush_done(void *priv)
{
	struct ap2 *a = priv;

	return a->flush_acked;
}

static void ap2_resume(void *priv, const struct schedule *s, int64_t now)
{
	struct ap2 *a = priv;

	a->paused = 0;
	a->first_anchor = 1;
	send_anchor(a, s, now);
	a->next_anchor = now + NSEC_PER_SEC;
}

static int ap2_complete(void *priv)
{
	struct ap2 *a = priv;

	return a->rtx.missed == 0;
}

void ap2_report(void *priv, struct json *j)
{
	struct ap2 *a = priv;
	char feat[24];

	snprintf(feat, sizeof(feat), "0x%" PRIx64, a->info.features);
	json_obj(j, "airplay2");
	json_str(j, "receiver", a->rname);
	json_str(j, "receiver_model", a->info.model);
	json_str(j, "receiver_device_id", a->info.device_id);
	json_str(j, "receiver_features", a->info.features_known ? feat : NULL);
	json_str(j, "pairing", a->pairing == AP2_PAIR_VERIFY ? "pair-verify" : "transient");
	/* a stored pairing verified, but the receiver did not encrypt after it: then transient */
	json_bool(j, "pair_verify_fell_back", a->verify_fell_back);
	json_str(j, "stream", a->buffered ? "buffered" : "realtime");
	json_str(j, "codec", a->codec_aac ? "aac" : "alac");
	if (a->buffered) {
		json_uint(j, "data_bytes_sent", __atomic_load_n(&a->data_bytes, __ATOMIC_RELAXED));
		json_uint(j, "data_bytes_received", a->data_bytes_received);
		json_uint(j, "data_queue_max", a->outq_max);
		json_uint(j, "data_send_buffer", a->sndbuf);
		json_uint(j, "data_tcp_retransmits", a->tcp_retrans);
		json_uint(j, "setrateanchortime", a->rate_anchors);
		json_uint(j, "receiver_buffer_size", a->buffer_size);
	}
	json_uint(j, "latency_frames", a->latency_frames);
	json_num(j, "payload_bytes_per_packet",
		 a->packets ? (double)a->payload_bytes / (double)a->packets : 0);
	json_uint(j, "anchors", a->anchors);
	json_uint(j, "feedbacks", a->feedbacks);
	json_uint(j, "flushes", a->flushes);
	json_uint(j, "rtsp_frames_sent", hapsec_sent(a->sec));
	json_uint(j, "rtsp_frames_received", hapsec_received(a->sec));
	json_uint(j, "control_port", a->ctl_port);
	json_uint(j, "receiver_control_port", net_port(&a->ctl_peer));
	json_uint(j, "receiver_data_port", net_port(&a->data_peer));
	json_uint(j, "event_port", a->event_port);
	json_uint(j, "control_other_packets", a->ctl_counts.other_type + a->ctl_counts.bad_length +
		  a->ctl_counts.bad_header + a->ctl_counts.zero_count);
	if (!a->buffered) {
		rtx_report(&a->rtx, j);
	}
	ap2_events_report(a, j);
	aptp_report(a->ptp, j);
	json_end(j, '}');
}

void ap2_summary(void *priv, FILE *f)
{
	struct ap2 *a = priv;
	struct aptp_stats st;

	aptp_get_stats(a->ptp, &st);
	fprintf(f, "airplay2: %s, %s pairing, %" PRIu64 " anchors, PTP announce %" PRIu64 " sync %"
		PRIu64 " follow-up %" PRIu64 " (stamps hw %" PRIu64 " sw %" PRIu64 " missing %"
		PRIu64 "; hardware stamps: %s)\n",
		a->buffered ? (a->codec_aac ? "buffered AAC-LC" : "buffered ALAC") : "realtime ALAC", a->pairing == AP2_PAIR_VERIFY ? "pair-verify" : "transient",
		a->buffered ? a->rate_anchors : a->anchors, st.announces, st.syncs, st.follow_ups,
		st.stamps_hw, st.stamps_sw, st.stamps_missing, aptp_hw_stamps(a->ptp));
	if (!a->buffered) {
		rtx_summary(&a->rtx, f);
	}
}

const struct profile_ops profile_airplay2 = {
	.name = "airplay2",
	.tail_packets = AP_TAIL_PACKETS,
	.untimed_traffic = "RTSP, PTP, anchors and resends",
	.history_s = 2,
	.open = ap2_open,
	.packetize = ap2_packetize,
	.start = ap2_start,
	.poll_fds = ap2_poll_fds,
	.service = ap2_service,
	.flush = ap2_flush,
	.flush_done = ap2_flush_done,
	.resume = ap2_resume,
	.finish = ap2_finish,
	.complete = ap2_complete,
	.report = ap2_report,
	.summary = ap2_summary,
	.close = ap2_close,
};
