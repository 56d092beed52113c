/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Profile raop, inside: the session state shared by its files. profile_raop.c (the profile_ops),
 * raop_session.c (the RTSP negotiation and its answers), raop_ports.c (the control and timing
 * ports: timing replies, syncs), rtx.c (retransmits from history, shared with airplay2); the wire formats are
 * public, in txpace/raop.h (raop_wire.c).
 */
#ifndef TXPACE_RAOP_PRIV_H
#define TXPACE_RAOP_PRIV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "txpace/alac.h"
#include "txpace/crypto.h"
#include "txpace/net.h"
#include "txpace/profile.h"
#include "txpace/rtsp.h"
#include "txpace/sched.h"
#include "txpace/stop.h"
#include "txpace/tbucket.h"
#include "rtx.h"

#define RAOP_RATE 44100
#define RECEIVER_LATENCY 11025	/* what receivers add themselves when they do not say */
struct raop {
	const txp_stop_flag *stop;	/* the caller's stop request (profile_opts) */
	struct rtsp *rtsp;
	char url[160], rname[160];
	char common[256];		/* the headers of every request (User-Agent, ..., Session) */
	char transport[256];		/* SETUP's answer, for the debug line */
	int srv_port;			/* the receiver's audio port (SETUP's server_port) */
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
	struct rtx rtx;			/* retransmits (and the control port's strangers) */
	uint64_t timing_replies, syncs;
	uint64_t tim_strangers;		/* timing datagrams from other hosts, dropped */
	uint64_t payload_bytes, packets, flushes;
	int paused;			/* flushed, no syncs until the stream restarts */
};

/* raop_session.c: the RTSP side, in the order raop_open() takes its steps */

/** Find the receiver (@o's mDNS name or address) and connect to its RTSP port. */
int raop_connect(struct raop *r, const struct profile_opts *o, char *err, size_t errlen);
/** Draw the session's random numbers: @sid, @d's seq0, ts0 and ssrc, the Client-Instance. */
int raop_session_ids(struct raop *r, const struct profile_opts *o, struct stream_desc *d,
		     uint32_t *sid, char *err, size_t errlen);
int raop_options(struct raop *r, char *err, size_t errlen);
/** ANNOUNCE the ALAC stream (and, with --encrypt, its AES key) as session @sid. */
int raop_announce(struct raop *r, const struct profile_opts *o, uint32_t sid, char *err,
		  size_t errlen);
/** SETUP: the receiver's audio, control and timing ports, and the Session header. */
int raop_setup(struct raop *r, char *err, size_t errlen);
/** RECORD from @d's first packet; the latency follows from the receiver's Audio-Latency. */
int raop_record(struct raop *r, const struct profile_opts *o, const struct stream_desc *d,
		char *err, size_t errlen);
/** SET_PARAMETER volume, when @o asks for one. */
int raop_set_volume(struct raop *r, const struct profile_opts *o, char *err, size_t errlen);
/** The callback of a request mid-stream: anything but 200 ends the session. */
int raop_on_reply(void *arg, const char *method, const struct rtsp_resp *resp);
/** The callback of the FLUSH before TEARDOWN: its answer changes nothing. */
int raop_on_last_flush(void *arg, const char *method, const struct rtsp_resp *resp);
/** The client failed mid-stream (@rc from rtsp_send or rtsp_service): say why, once. */
int raop_rtsp_failed(struct raop *r, int rc, char *err, size_t errlen);

/* raop_ports.c: the control and timing ports */

/** Bind the control and timing ports on the RTSP connection's local address. */
int raop_open_ports(struct raop *r, char *err, size_t errlen);
/** Only the receiver may talk to us: @return 1 for its datagrams, else 0 (counted, logged once) */
int raop_from_receiver(struct raop *r, const struct sockaddr_storage *from, socklen_t fl,
		       const char *port, uint64_t *strangers);
/** A sync packet: what RTP time plays at @now on @s. */
void raop_send_sync(struct raop *r, const struct schedule *s, int64_t now);
/** Answer the timing requests waiting on the timing port (at most UDP_BUDGET). */
void raop_on_timing(struct raop *r);


#endif
