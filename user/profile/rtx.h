/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Retransmits for the AirPlay profiles (raop, airplay2): the receiver's 0xD5 resend requests on
 * our control port, served from the packet history as 0xD6 answers to the receiver's control
 * port, at a bounded rate, each request cut to what the history holds. Requests from any host
 * but the receiver are dropped (counted): never resend to whoever asks.
 */
#ifndef TXPACE_RTX_H
#define TXPACE_RTX_H

#include <stdint.h>
#include <stdio.h>

#include "txpace/json.h"
#include "txpace/net.h"
#include "txpace/tbucket.h"

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
/*
 * Packets of silence after the source's last one (profile_ops.tail_packets): 0.5 s of 352-frame
 * packets. shairport-sync asks for a missing packet only while later packets arrive, and only
 * 100 ms after it saw the gap (again every 250 ms): with 3 packets of tail, a packet lost in the
 * last 100 ms of a stream was never asked for (seen in CI: the last 4-7 packets). 0.5 s lets the
 * last packet be asked for twice.
 */
#define AP_TAIL_PACKETS 63
/* the most packets one request is served from (the history holds 2 s: 255 packets) */
#define RTX_WINDOW_MAX 1024
/* datagrams read per port per service call, so a flood cannot hold off syncs and keep-alives */
#define UDP_BUDGET 64
/* the largest packet the history may hand back (AirPlay 2's sealed ALAC is the largest) */
#define RTX_PACKET_MAX 1600

struct history;

struct rtx {
	int fd;				/* our control port */
	const struct net_addr *peer;	/* the receiver: only its host's requests are served */
	const struct net_addr *reply_to;	/* its control port: where answers go */
	const char *rname;
	struct tbucket bucket;
	uint16_t seq;
	uint64_t requests, packets, served, missed, clamped, cut, over_limit, strangers;
};

void rtx_init(struct rtx *x, int fd, const struct net_addr *peer, const struct net_addr *reply_to,
	      const char *rname, int64_t now);
/** Only the receiver may talk to us: @return 1 for its datagrams, else 0 (counted, logged once) */
int rtx_from_receiver(const struct net_addr *peer, const struct sockaddr_storage *from, socklen_t fl,
		      const char *port, const char *rname, uint64_t *strangers);
/**
 * Serve the requests waiting on the control port (at most UDP_BUDGET datagrams). Datagrams that
 * are no resend request go to @other (may be NULL) with their length.
 */
void rtx_serve(struct rtx *x, struct history *h, void (*other)(void *arg, const uint8_t *b,
							       size_t n), void *arg);
/** The report's retransmit fields, inside the profile's object. */
void rtx_report(const struct rtx *x, struct json *j);
void rtx_summary(const struct rtx *x, FILE *f);

#endif
