// SPDX-License-Identifier: GPL-2.0-only
/*
 * Profile raop, the control and timing ports: bound on the RTSP connection's address, open to the
 * receiver alone. The timing port answers its timing requests (to the port SETUP named); the
 * control port carries the syncs from the schedule (and the retransmits, rtx.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "txpace/muldiv.h"
#include "txpace/clock.h"
#include "txpace/log.h"
#include "txpace/raop.h"
#include "raop_priv.h"

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

int raop_open_ports(struct raop *r, char *err, size_t errlen)
{
	r->ctl_fd = net_udp_ephemeral(rtsp_local(r->rtsp), &r->ctl_port);
	r->tim_fd = net_udp_ephemeral(rtsp_local(r->rtsp), &r->tim_port);
	if (r->ctl_fd < 0 || r->tim_fd < 0) {
		snprintf(err, errlen, "cannot open the control and timing ports: %s",
			 strerror(-(r->ctl_fd < 0 ? r->ctl_fd : r->tim_fd)));
		return r->ctl_fd < 0 ? r->ctl_fd : r->tim_fd;
	}
	pr_debug("raop: control port %u, timing port %u", r->ctl_port, r->tim_port);
	return 0;
}

/* RTP time at @now on the schedule's exact sample grid (may be before the start). */
static uint32_t rtp_at(const struct schedule *s, int64_t now)
{
	int64_t dt = now - s->start_ns, samples;
	uint64_t rem;

	if (dt >= 0) {
		samples = (int64_t)mul_div_u64((uint64_t)dt, s->rate, NSEC_PER_SEC, NULL);
	} else {
		samples = -(int64_t)mul_div_u64(-(uint64_t)dt, s->rate, NSEC_PER_SEC, &rem);
		samples -= rem != 0;	/* floor, not truncation */
	}
	return s->ts0 + (uint32_t)samples;
}

void raop_send_sync(struct raop *r, const struct schedule *s, int64_t now)
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
int raop_from_receiver(struct raop *r, const struct sockaddr_storage *from, socklen_t fl,
		       const char *port, uint64_t *strangers)
{
	return rtx_from_receiver(&r->peer, from, fl, port, r->rname, strangers);
}

void raop_on_timing(struct raop *r)
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
		if (!raop_from_receiver(r, &from, fl, "timing", &r->tim_strangers) ||
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
			raop_send_sync(r, r->sched, mono_ns());
		}
	}
}
