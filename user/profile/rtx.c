// SPDX-License-Identifier: GPL-2.0-only
/*
 * Retransmits (raop, airplay2): the receiver's resend requests on the control port, served from
 * the packet history at a bounded rate (RTX_RATE, RTX_BURST), each request cut to what the
 * history holds.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/socket.h>

#include "txpace/clock.h"
#include "txpace/history.h"
#include "txpace/log.h"
#include "txpace/raop.h"
#include "txpace/rtp.h"
#include "rtx.h"

void rtx_init(struct rtx *x, int fd, const struct net_addr *peer, const struct net_addr *reply_to,
	      const char *rname, int64_t now)
{
	*x = (struct rtx){ .fd = fd, .peer = peer, .reply_to = reply_to, .rname = rname };
	tbucket_init(&x->bucket, RTX_RATE, RTX_BURST, now);
}

int rtx_from_receiver(const struct net_addr *peer, const struct sockaddr_storage *from, socklen_t fl,
		      const char *port, const char *rname, uint64_t *strangers)
{
	struct net_addr a = { *from, fl };
	char s[80];

	if (net_same_host(peer, (const struct sockaddr *)from, fl)) {
		return 1;
	}
	if (!(*strangers)++) {
		pr_warn("ignoring %s packets from %s: not the receiver %s", port,
			net_fmt(&a, s, sizeof(s)), rname);
	}
	return 0;
}

/* @seq left the history (while a request was being served): too old to matter to the receiver */
static int aged_out(struct history *h, uint16_t seq)
{
	uint32_t newest;
	size_t held;

	return history_window(h, &newest, &held) || (uint16_t)((uint16_t)newest - seq) >= held;
}

/* Send the packets @seqs[0..k) from @h, each paid for from the bucket. */
static void resend(struct rtx *x, struct history *h, const uint16_t *seqs, size_t k, int64_t now)
{
	uint8_t out[4 + RTX_PACKET_MAX];

	for (size_t i = 0; i < k; i++) {
		int len;

		if (!tbucket_take(&x->bucket, now)) {
			if (!x->over_limit) {
				pr_warn("%s asks for more than %d retransmits a second; "
					"refusing the excess", x->rname, RTX_RATE);
			}
			x->over_limit += k - i;
			break;
		}
		len = history_get(h, seqs[i], out + 4, sizeof(out) - 4);
		if (len < 0 && len != -ENOSPC && aged_out(h, seqs[i])) {
			x->cut++;
			continue;
		}
		if (len < 0) {
			pr_debug("retransmit of seq %u: not in history (%s)", seqs[i],
				 strerror(-len));
			x->missed++;
			continue;
		}
		out[0] = 0x80;
		out[1] = RAOP_RESEND_REPLY;
		out[2] = (uint8_t)(x->seq >> 8);
		out[3] = (uint8_t)x->seq++;
		if (sendto(x->fd, out, (size_t)len + 4, 0, (const struct sockaddr *)&x->reply_to->ss,
			   x->reply_to->len) == len + 4) {
			x->served++;
		} else {
			pr_debug("retransmit of seq %u: %s", seqs[i], strerror(errno));
			x->missed++;
		}
	}
}

void rtx_serve(struct rtx *x, struct history *h, void (*other)(void *arg, const uint8_t *b,
							       size_t n), void *arg)
{
	for (int budget = UDP_BUDGET; budget > 0; budget--) {
		uint8_t b[64];
		uint16_t seqs[RTX_WINDOW_MAX];
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(x->fd, b, sizeof(b), 0, (struct sockaddr *)&from, &fl);
		struct raop_resend rq;
		uint32_t newest = 0;
		size_t held = 0, k;

		if (n < 0) {
			return;
		}
		if (!rtx_from_receiver(x->peer, &from, fl, "control", x->rname, &x->strangers)) {
			continue;
		}
		if (raop_parse_resend(b, (size_t)n, &rq)) {
			if (other) {
				other(arg, b, (size_t)n);
			}
			continue;
		}
		x->requests++;
		x->packets += rq.count;
		if (!history_window(h, &newest, &held) && held > RTX_WINDOW_MAX) {
			held = RTX_WINDOW_MAX;
		}
		k = raop_resend_clamp(&rq, (uint16_t)newest, held, seqs);
		if (k < rq.count) {
			pr_debug("retransmit request for %u packets from seq %u: %zu of them held",
				 rq.count, rq.first, k);
			x->clamped++;
			x->cut += rq.count - k;
		}
		resend(x, h, seqs, k, mono_ns());
	}
}

void rtx_report(const struct rtx *x, struct json *j)
{
	json_uint(j, "retransmit_requests", x->requests);
	json_uint(j, "retransmit_packets", x->packets);
	json_uint(j, "retransmits_served", x->served);
	json_uint(j, "retransmits_missed", x->missed);
	json_uint(j, "retransmits_over_limit", x->over_limit);
	json_uint(j, "retransmit_requests_clamped", x->clamped);
	json_uint(j, "retransmit_packets_cut", x->cut);
	json_uint(j, "retransmit_limit_per_s", RTX_RATE);
	json_uint(j, "retransmit_burst", RTX_BURST);
	json_uint(j, "control_strangers_refused", x->strangers);
}

void rtx_summary(const struct rtx *x, FILE *f)
{
	fprintf(f, "retransmit requests %" PRIu64 " for %" PRIu64 " packets: served %" PRIu64
	       ", missed %" PRIu64 ", over the limit (%d/s, burst %d) %" PRIu64
	       ", beyond the history %" PRIu64 " (in %" PRIu64 " requests)\n", x->requests,
	       x->packets, x->served, x->missed, RTX_RATE, RTX_BURST, x->over_limit, x->cut,
	       x->clamped);
}
