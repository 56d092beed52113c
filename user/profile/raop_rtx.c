// SPDX-License-Identifier: GPL-2.0-only
/*
 * Profile raop, retransmits: the receiver's resend requests on the control port, served from the
 * packet history at a bounded rate (RTX_RATE, RTX_BURST), each request cut to what the history
 * holds.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "txpace/clock.h"
#include "txpace/history.h"
#include "txpace/log.h"
#include "txpace/raop.h"
#include "txpace/rtp.h"
#include "raop_priv.h"

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
void raop_on_control(struct raop *r)
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
		if (!raop_from_receiver(r, &from, fl, "control", &r->ctl_strangers) ||
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
