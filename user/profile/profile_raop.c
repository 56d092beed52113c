// SPDX-License-Identifier: GPL-2.0-only
/*
 * Profile raop: AirPlay 1. RTSP session (OPTIONS, ANNOUNCE, SETUP, RECORD, SET_PARAMETER,
 * keep-alive, FLUSH, TEARDOWN), ALAC audio (optionally AES), and the UDP duties: timing replies,
 * sync packets from the schedule, retransmits from history. The control and timing ports answer
 * only the receiver (the RTSP peer's address); retransmits and timing replies go to the ports it
 * negotiated, retransmits at a bounded rate. Once the stream runs, RTSP requests never block: they
 * are queued and answered through a callback from the same loop that serves the UDP ports.
 *
 * This file is the profile_ops: raop_open() in named steps, the main loop's duties, the end of
 * the session and its report. The steps live in raop_session.c (RTSP), raop_ports.c (control and
 * timing ports, syncs) and rtx.c (retransmits); the state is struct raop (raop_priv.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "txpace/alac.h"
#include "txpace/clock.h"
#include "txpace/crypto.h"
#include "txpace/log.h"
#include "txpace/profile.h"
#include "txpace/rtp.h"
#include "txpace/rtsp.h"
#include "txpace/stop.h"
#include "txpace/tbucket.h"
#include "raop_priv.h"

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

static struct raop *raop_new(const struct profile_opts *o)
{
	struct raop *r = calloc(1, sizeof(*r));

	if (!r) {
		return NULL;
	}
	r->stop = o->stop;
	r->ctl_fd = r->tim_fd = -1;
	r->timeout_ms = o->timeout_ms;
	r->keepalive_ns = o->keepalive_ns;
	return r;
}

/* The audio socket, connected to the receiver's server_port. */
static int open_audio(struct raop *r, const struct profile_opts *o, struct stream_desc *d,
		      char *err, size_t errlen)
{
	struct net_tx_opts to = { o->iface, -1, (int)o->dscp, -1 };

	d->dest = r->peer;
	net_set_port(&d->dest, r->srv_port);
	d->fd = net_udp_connect(&d->dest, &to);
	if (d->fd < 0) {
		snprintf(err, errlen, "cannot send audio to %s: %s", r->rname, strerror(-d->fd));
		return d->fd;
	}
	return 0;
}

/* The ALAC encoder, the NTP base, and what the pipeline is to follow. */
static int open_encoder(struct raop *r, const struct profile_opts *o, struct stream_desc *d,
			char *err, size_t errlen)
{
	r->alac = alac_enc_new(o->alac, err, errlen);
	if (!r->alac) {
		return -EINVAL;
	}
	r->ntp_base = clock_ns(CLOCK_REALTIME) - mono_ns();
	r->d = d;	/* its history is created once the packet size is known */
	d->rate = RAOP_RATE;
	d->channels = 2;
	d->bits = 16;
	d->spp = ALAC_FRAMES;
	d->max_packet = RTP_HDR_LEN + ALAC_MAX_BYTES;
	return 0;
}

/*
 * The session in the order the receiver expects it: connect, OPTIONS, ANNOUNCE, the control and
 * timing ports, SETUP (which names the receiver's), the audio socket, RECORD, the volume.
 */
static void *raop_open(const struct profile_opts *o, struct stream_desc *d, char *err,
		       size_t errlen)
{
	struct raop *r = raop_new(o);
	uint32_t sid;

	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (raop_connect(r, o, err, errlen) ||
	    raop_session_ids(r, o, d, &sid, err, errlen) ||
	    raop_options(r, err, errlen) ||
	    raop_announce(r, o, sid, err, errlen) ||
	    raop_open_ports(r, err, errlen) ||
	    raop_setup(r, err, errlen) ||
	    open_audio(r, o, d, err, errlen) ||
	    raop_record(r, o, d, err, errlen) ||
	    raop_set_volume(r, o, err, errlen) ||
	    open_encoder(r, o, d, err, errlen)) {
		goto fail;
	}
	pr_debug("raop: %s server_port %d, %s, audio latency %u", r->rname, r->srv_port,
		 r->transport, r->audio_latency);
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

static int raop_start(void *priv, struct schedule *s, int64_t earliest, char *err, size_t errlen)
{
	struct raop *r = priv;
	struct pollfd p = { r->tim_fd, POLLIN, 0 };
	int64_t now = mono_ns(), until = now + r->timeout_ms * NSEC_PER_MSEC;

	/* receivers ignore a sync before their first timing exchange: answer one first */
	while (!r->timing_replies && now < until) {
		if (poll(&p, 1, (int)((until - now) / NSEC_PER_MSEC) + 1) == 1) {
			raop_on_timing(r);	/* a stranger's request is no exchange: wait on */
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
	rtx_init(&r->rtx, r->ctl_fd, &r->peer, &r->ctl_peer, r->rname, now);
	raop_send_sync(r, s, now);
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

	raop_on_timing(r);
	rtx_serve(&r->rtx, r->d->hist, NULL, NULL);
	rc = rtsp_service(r->rtsp);
	if (rc) {
		return raop_rtsp_failed(r, rc, err, errlen);
	}
	if (now >= r->next_sync) {
		if (!r->paused) {
			raop_send_sync(r, s, now);
		}
		r->next_sync += NSEC_PER_SEC;
	}
	if (now >= r->next_keepalive) {
		/* a request still unanswered keeps the session busy too, and has its deadline */
		if (!rtsp_pending(r->rtsp)) {
			rc = rtsp_send(r->rtsp, "OPTIONS", "*", NULL, NULL, NULL, 0, raop_on_reply, r);
			if (rc) {
				return raop_rtsp_failed(r, rc, err, errlen);
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
		raop_on_timing(r);
		rtx_serve(&r->rtx, r->d->hist, NULL, NULL);
		rc = rtsp_service(r->rtsp);
		if (rc) {
			return raop_rtsp_failed(r, rc, err, errlen);
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
		rtsp_send(r->rtsp, "FLUSH", r->url, extra, NULL, NULL, 0, raop_on_last_flush, r);
	}
	rc = rtsp_send(r->rtsp, "TEARDOWN", r->url, NULL, NULL, NULL, 0, raop_on_reply, r);
	if (!rc) {
		rc = drain(r, err, errlen);
	} else {
		rc = raop_rtsp_failed(r, rc, err, errlen);
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
	rc = rtsp_send(r->rtsp, "FLUSH", r->url, extra, NULL, NULL, 0, raop_on_reply, r);
	return rc ? raop_rtsp_failed(r, rc, err, errlen) : 0;
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
	raop_send_sync(r, s, now);
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

	return r->rtx.missed == 0;
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
	rtx_report(&r->rtx, j);
	json_uint(j, "control_port", r->ctl_port);
	json_uint(j, "timing_port", r->tim_port);
	json_uint(j, "receiver_control_port", net_port(&r->ctl_peer));
	json_uint(j, "receiver_timing_port", r->tim_peer_known ? net_port(&r->tim_peer) : 0);
	json_uint(j, "timing_strangers_refused", r->tim_strangers);
	json_end(j, '}');
}

static void raop_summary(void *priv, FILE *f)
{
	struct raop *r = priv;

	rtx_summary(&r->rtx, f);
	if (r->rtx.strangers || r->tim_strangers) {
		fprintf(f, "refused, not from the receiver: control packets %" PRIu64
		       ", timing packets %" PRIu64 "\n", r->rtx.strangers, r->tim_strangers);
	}
}

const struct profile_ops profile_raop = {
	.name = "raop",
	.tail_packets = AP_TAIL_PACKETS,
	.untimed_traffic = "RTSP, timing replies, syncs and resends",
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
