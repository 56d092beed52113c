// SPDX-License-Identifier: GPL-2.0-only
/*
 * Profile airplay2, buffered audio (stream type 103, `send --stream buffered`): the same session
 * as realtime (ap2_session.c: /info, pairing, encrypted RTSP, SETUP with PTP timing, RECORD,
 * SETPEERS, our PTP master), then a SETUP (stream) of type 103 and the audio on a TCP connection
 * to the receiver's dataPort, ALAC (352 frames) or AAC-LC (1024 frames), with its play time set
 * by SETRATEANCHORTIME instead of 0xD7 anchors, and FLUSHBUFFERED for pause and seek.
 *
 * Facts relied on, read from shairport-sync 5.2.1's source (rtsp.c, ap2_buffered_audio_processor.c,
 * player.c, rtp.c) and checked against it running here (test_airplay2_buffered.sh):
 * - SETUP (stream) `type 103` with `ct`, `audioFormat`, `spf`, `shk`, `controlPort`: it opens a
 *   TCP listener and answers `streams[0]` with `type 103`, `dataPort` (TCP), `controlPort` and
 *   `audioBufferSize` (8 MiB there: how many bytes of records it reads ahead of playing).
 * - The data channel, sender to receiver only: records of a u16 big-endian length that counts
 *   itself, then the packet: bytes 0-3 big-endian & 0x7FFFFF are the sequence number (23 bits),
 *   4-7 the RTP time, 8-11 the "SSRC", which names the encoding (0x0000FACE ALAC/44100/S16/2,
 *   0x16000000 AAC/44100/2; others it does not decode); then the payload sealed with
 *   ChaCha20-Poly1305-IETF under shk, AAD = packet bytes 4-11, the 16-byte tag, and the 8 nonce
 *   bytes (nonce = 4 zero bytes + these): the realtime packet's seal, unchanged.
 * - ALAC: FFmpeg's decoder with a 352-frame, 16-bit, 44100 cookie. AAC: raw access units (no
 *   ADTS: it adds the header), FFmpeg's decoder; the first AAC block after a start or a
 *   discontinuity is muted.
 * - SETRATEANCHORTIME (binary plist): `rate` (bit 0: play), `rtpTime`, `networkTimeSecs`,
 *   `networkTimeFrac` (64-bit binary fraction; it keeps the top 32 bits), `networkTimeTimelineID`
 *   (the PTP clock identity as a big-endian u64). RTP time rtpTime plays at that PTP time (no
 *   11035-frame lead as with realtime's 0xD7), a frame t at anchor + (t - rtpTime) / 44100, once
 *   nqptp's master is that clock and has been for >= 400 ms. Until a first valid anchor it reads
 *   nothing from the data channel. A rate-0 anchor stops playback at once (the anchor is cleared).
 * - It decodes a record only when its play time is less than 0.85 s away (0.75 s
 *   audio_decoded_buffer_desired_length + 0.1) and drops a record already late; records further
 *   ahead wait in the TCP connection and its 8 MiB buffer.
 * - FLUSHBUFFERED (plist) without flushFromSeq is an immediate flush: play stops, the anchor is
 *   cleared, and records are dropped until the one whose sequence number is flushUntilSeq
 *   (kept; flushUntilTS is its RTP time). With flushFromSeq/TS it is deferred to that record.
 * - The data connection closing ends its reader; TEARDOWN ends the session.
 *
 * The launch/play relation: the pacer launches record k at its schedule time and it plays
 * `--latency` later (default 4 s here, against realtime's 2 s): the receiver then holds about
 * that much audio, which is what rides out a network outage (TCP resends what was lost, from our
 * socket's buffer). A longer lead buys a longer outage at the cost of start latency and of the
 * pause reaction (a pause is immediate: the rate-0 anchor; a resume plays after the latency).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <unistd.h>

#include "txpace/aac.h"
#include "txpace/clock.h"
#include "txpace/log.h"
#include "txpace/profile.h"
#include "ap2_priv.h"

#define BUF_SNDBUF	(4 << 20)	/* our side of the cushion: TCP resends come from here */
#define BUF_CHECK_NS	(250 * NSEC_PER_MSEC)

static void set_opts(int fd, const struct profile_opts *o, int64_t latency_ns)
{
	int one = 1, sz = BUF_SNDBUF, tos = (int)o->dscp << 2;
	/* unacknowledged data older than the lead plus 5 s: the receiver is gone */
	unsigned uto = (unsigned)(latency_ns / NSEC_PER_MSEC) + 5000;
	struct timeval tv = { 2, 0 };

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz))) {
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &uto, sizeof(uto));
	/* the pacer's send() never hangs for good on a receiver that stopped reading */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
}

static void data_setup(int fd, void *arg)
{
	const struct profile_opts *o = arg;

	set_opts(fd, o, o->latency_ns);
}

/* A TCP connection to the dataPort within the timeout, blocking afterwards (the pacer's send). */
static int open_data(struct ap2 *a, const struct profile_opts *o, struct stream_desc *d,
		     char *err, size_t errlen)
{
	int fd = net_tcp_connect(&a->data_peer, (int)a->timeout_ms, data_setup, (void *)o, 0), e = 0;
	socklen_t el = sizeof(e);

	if (fd < 0) {
		snprintf(err, errlen, "cannot connect to %s's audio data port %u: %s", a->rname,
			 net_port(&a->data_peer), strerror(-fd));
		return fd;
	}
	/* what the kernel granted (it reports twice the payload room; without CAP_NET_ADMIN
	 * SO_SNDBUF is capped by net.core.wmem_max) */
	el = sizeof(e);
	a->sndbuf = getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &e, &el) || e <= 0 ? BUF_SNDBUF : e / 2;
	d->fd = a->data_fd = fd;
	d->dest = a->data_peer;
	return 0;
}

static int open_encoder(struct ap2 *a, const struct profile_opts *o, struct stream_desc *d,
			char *err, size_t errlen)
{
	a->d = d;
	d->rate = AP2_RATE;
	d->channels = 2;
	d->bits = 16;
	if (o->ap2_aac) {
		a->aac = aac_enc_new(0, err, errlen);
		d->spp = AP2_AAC_SPF;
		d->max_packet = AP2_BUF_OVERHEAD + AAC_MAX_BYTES;
		return a->aac ? 0 : -EINVAL;
	}
	a->alac = alac_enc_new(o->alac, err, errlen);
	d->spp = AP2_SPF;
	d->max_packet = AP2_BUF_OVERHEAD + ALAC_MAX_BYTES;
	return a->alac ? 0 : -EINVAL;
}

static void *buf_open(const struct profile_opts *o, struct stream_desc *d, char *err,
		      size_t errlen)
{
	struct ap2 *a = ap2_new(o);

	if (!a) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->buffered = 1;
	a->codec_aac = o->ap2_aac;
	if (ap2_connect(a, o, err, errlen) ||
	    ap2_session_ids(a, o, d, err, errlen) ||
	    ap2_get_info(a, err, errlen) ||
	    ap2_pair(a, err, errlen) ||
	    ap2_open_ports(a, o, err, errlen) ||
	    ap2_setup(a, o, err, errlen) ||
	    open_data(a, o, d, err, errlen) ||
	    ap2_set_volume(a, o, err, errlen) ||
	    open_encoder(a, o, d, err, errlen)) {
		goto fail;
	}
	pr_debug("airplay2: %s buffered (%s), data port %u (TCP), buffer %" PRIu64 " bytes, "
		 "latency %u frames", a->rname, a->codec_aac ? "AAC-LC" : "ALAC",
		 net_port(&a->data_peer), a->buffer_size, a->latency_frames);
	return a;
fail:
	if (d->fd >= 0) {
		close(d->fd);
		d->fd = -1;
		a->data_fd = -1;
	}
	ap2_close(a);
	return NULL;
}

/* Producer thread: one whole record (the pacer's send() writes it on the TCP connection). */
static int buf_packetize(void *priv, const struct stream_desc *d, uint64_t k, const int32_t *pcm,
			 uint32_t frames, uint8_t *out)
{
	struct ap2 *a = priv;
	uint8_t *pl = out + AP2_BUF_LEN_FIELD + 12;
	int n, len;

	ap2_buffered_header(out, d->seq0 + (uint32_t)k, d->ts0 + (uint32_t)(k * d->spp),
			    a->codec_aac ? AP2_SSRC_AAC_44100_2 : AP2_SSRC_ALAC_44100_16_2);
	n = a->codec_aac ? aac_encode(a->aac, pcm, frames, pl)
			 : alac_encode(a->alac, pcm, frames, pl);
	if (n < 0) {
		return n;
	}
	/* the nonce is the packet number: unique under this key */
	len = ap2_buffered_seal(a->shk, out, (size_t)n, k);
	if (len > 0) {
		a->payload_bytes += (uint64_t)n;
		a->packets++;
		__atomic_add_fetch(&a->data_bytes, (uint64_t)len, __ATOMIC_RELAXED);
	}
	return len;
}

/* SETRATEANCHORTIME rate 1: packet @k (RTP time) plays at its launch + the latency (PTP time). */
static int rate_anchor(struct ap2 *a, const struct schedule *s, uint64_t k, char *err,
		       size_t errlen)
{
	int64_t play = sched_launch(s, k) + (int64_t)a->latency_frames * NSEC_PER_SEC / AP2_RATE;
	struct ap2_rate_anchor an = { 1, sched_rtp_ts(s, k),
				      (uint64_t)aptp_ptp_time(a->ptp, play + ap2_to_ptp_clock(a)),
				      aptp_clock_id64(a->ptp) };
	uint8_t *body = NULL;
	size_t len;
	int rc = ap2_rate_anchor_body(&an, &body, &len);

	if (rc) {
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	rc = ap2_send_body(a, "SETRATEANCHORTIME", body, len, err, errlen);
	free(body);
	return rc;
}

static int buf_start(void *priv, struct schedule *s, int64_t earliest, char *err, size_t errlen)
{
	struct ap2 *a = priv;
	int64_t now = mono_ns();

	s->start_ns = earliest > now + 50 * NSEC_PER_MSEC ? earliest : now + 50 * NSEC_PER_MSEC;
	a->sched = s;
	a->next_feedback = now + AP2_FEEDBACK_NS;
	a->next_anchor = now + BUF_CHECK_NS;	/* here: the data connection's check */
	return rate_anchor(a, s, 0, err, errlen);
}

static int buf_poll_fds(void *priv, struct pollfd *pfd, int max)
{
	struct ap2 *a = priv;

	if (max < 5) {
		return 0;
	}
	pfd[0] = (struct pollfd){ a->data_fd, POLLIN, 0 };
	pfd[1] = (struct pollfd){ rtsp_fd(a->rtsp), rtsp_events(a->rtsp), 0 };
	return 2 + ap2_bg_poll_fds(a, pfd + 2, max - 2);
}

/*
 * The data channel carries nothing back: readable means closed (0), reset, or bytes we do not
 * expect (counted, dropped). A full send queue means the receiver has stopped taking audio.
 */
static int check_data(struct ap2 *a, int64_t now, char *err, size_t errlen)
{
	uint8_t junk[512];
	ssize_t n;
	int q = 0, rc;

	while ((n = recv(a->data_fd, junk, sizeof(junk), MSG_DONTWAIT)) > 0) {
		a->data_bytes_received += (uint64_t)n;
	}
	if (n == 0) {
		snprintf(err, errlen, "%s closed the audio data connection mid-stream", a->rname);
		return -ECONNRESET;
	}
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		rc = -errno;
		snprintf(err, errlen, "the audio data connection to %s failed mid-stream: %s%s",
			 a->rname, strerror(-rc), rc == -ETIMEDOUT ? " (nothing acknowledged for "
			 "the latency + 5 s)" : "");
		return rc;
	}
	if (now >= a->next_anchor) {
		struct tcp_info ti;
		socklen_t tl = sizeof(ti);

		a->next_anchor = now + BUF_CHECK_NS;
		if (!getsockopt(a->data_fd, IPPROTO_TCP, TCP_INFO, &ti, &tl)) {
			a->tcp_retrans = ti.tcpi_total_retrans;
		}
		/* before the pacer's send() could block (and time out part-way into a record) */
		if (!ioctl(a->data_fd, SIOCOUTQ, &q) && (uint64_t)q > a->sndbuf * 3 / 4) {
			snprintf(err, errlen, "%s takes no audio: %d KiB unacknowledged on "
				 "the data connection", a->rname, q >> 10);
			return -ETIMEDOUT;
		}
		if ((uint64_t)q > a->outq_max) {
			a->outq_max = (uint64_t)q;
		}
	}
	return 0;
}

static int buf_service(void *priv, const struct schedule *s, int64_t now, int64_t *next, char *err,
		       size_t errlen)
{
	struct ap2 *a = priv;
	int64_t ptp_next = INT64_MAX;
	int rc = rtsp_service(a->rtsp);

	(void)s;
	if (rc) {
		return ap2_rtsp_failed(a, rc, err, errlen);
	}
	rc = check_data(a, now, err, errlen);
	if (!rc) {
		rc = ap2_ptp_service(a, now, &ptp_next, err, errlen);
	}
	if (rc) {
		return rc;
	}
	return ap2_keepalive(a, now, ptp_next, next, err, errlen);
}

static int flush_now(struct ap2 *a, uint64_t next_k, char *err, size_t errlen)
{
	struct ap2_rate_anchor stop = { 0 };
	uint8_t *body = NULL;
	size_t len;
	int rc = ap2_rate_anchor_body(&stop, &body, &len);

	if (!rc) {
		rc = ap2_send_body(a, "SETRATEANCHORTIME", body, len, err, errlen);
		free(body);
		body = NULL;
	}
	if (!rc) {
		uint32_t ts = a->d->ts0 + (uint32_t)(next_k * a->d->spp);

		rc = ap2_flush_buffered_body(a->d->seq0 + (uint32_t)next_k, ts, &body, &len);
		rc = rc ? rc : ap2_send_body(a, "FLUSHBUFFERED", body, len, err, errlen);
		free(body);
	}
	if (rc == -ENOMEM) {
		snprintf(err, errlen, "out of memory");
	}
	return rc;
}

static int buf_finish(void *priv, const struct schedule *s, int64_t last_launch, int interrupted,
		      char *err, size_t errlen)
{
	struct ap2 *a = priv;
	int64_t until = last_launch + (int64_t)a->latency_frames * NSEC_PER_SEC / AP2_RATE +
			250 * NSEC_PER_MSEC;
	int rc;

	/* the receiver plays the last record a latency after it left: keep its clock until then */
	if (!interrupted) {
		rc = ap2_serve_until(a, &profile_airplay2_buffered, s, until, 0, err, errlen);
		if (rc) {
			return rc;
		}
		interrupted = txp_stopped(a->stop);
	}
	if (interrupted) {
		a->flushes++;
		rc = flush_now(a, a->packets, err, errlen);
		if (rc) {
			return rc;
		}
	}
	rc = ap2_send(a, "TEARDOWN", a->url, NULL, err, errlen);
	if (!rc) {
		int64_t dl = mono_ns() + 2 * a->timeout_ms * NSEC_PER_MSEC;

		rc = ap2_serve_until(a, &profile_airplay2_buffered, s, dl, 1, err, errlen);
	}
	/* a receiver may close the connections on TEARDOWN instead of answering it */
	return rc == -ECONNRESET ? 0 : rc;
}

static int buf_flush(void *priv, uint64_t next_k, char *err, size_t errlen)
{
	struct ap2 *a = priv;

	a->flushes++;
	a->paused = 1;
	a->flush_acked = 0;
	return flush_now(a, next_k, err, errlen);
}

static void buf_resume(void *priv, const struct schedule *s, int64_t now)
{
	struct ap2 *a = priv;

	(void)now;
	a->paused = 0;
	/* the packet the pause stopped at (marker_k) restarts the timeline */
	if (rate_anchor(a, s, a->d->marker_k, a->rerr, sizeof(a->rerr))) {
		pr_warn("airplay2: %s", a->rerr);
	}
}

static int buf_complete(void *priv)
{
	struct ap2 *a = priv;

	return a->data_bytes_received == 0;
}

const struct profile_ops profile_airplay2_buffered = {
	.name = "airplay2",
	.tail_packets = 4,	/* the AAC encoder holds one frame back */
	.history_s = 0,		/* TCP resends, not the receiver */
	.open = buf_open,
	.packetize = buf_packetize,
	.start = buf_start,
	.poll_fds = buf_poll_fds,
	.service = buf_service,
	.flush = buf_flush,
	.flush_done = ap2_flush_done,
	.resume = buf_resume,
	.finish = buf_finish,
	.complete = buf_complete,
	.report = ap2_report,
	.summary = ap2_summary,
	.close = ap2_close,
};
