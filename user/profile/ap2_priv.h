/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Profile airplay2, inside: the session state shared by its files. profile_airplay2.c (the
 * profile_ops: audio, anchors, the main loop's duties, the end), ap2_session.c (finding the
 * receiver, /info, pairing, encrypted RTSP, the SETUPs, RECORD, SETPEERS, volume); the wire
 * formats are public in txpace/airplay2.h (ap2_wire.c), the PTP master in txpace/aptp.h and the
 * control packets in txpace/ap2ctl.h; retransmits are rtx.c's, shared with raop.
 */
#ifndef TXPACE_AP2_PRIV_H
#define TXPACE_AP2_PRIV_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "txpace/aac.h"
#include "txpace/airplay2.h"
#include "txpace/alac.h"
#include "txpace/ap2ctl.h"
#include "txpace/aptp.h"
#include "txpace/hapsec.h"
#include "txpace/net.h"
#include "txpace/profile.h"
#include "txpace/rtsp.h"
#include "txpace/sched.h"
#include "txpace/stop.h"
#include "rtx.h"

enum ap2_pairing { AP2_PAIR_TRANSIENT, AP2_PAIR_VERIFY };

/* POST /feedback, the keep-alive OwnTone sends (shairport-sync has no watchdog on it) */
#define AP2_FEEDBACK_NS (2 * NSEC_PER_SEC)

/* The event connection (ap2_events.c) */
#define AP2_EV_MAX 16384	/* decrypted bytes of requests held at most */
struct ap2_events {
	int fd;			/* -1: not connected, or ended */
	struct hapsec *sec;	/* Events-Salt keys, made with the RTSP channel's */
	uint8_t in[AP2_EV_MAX];	/* decrypted bytes not yet a whole request */
	size_t len;
	uint16_t port;
	int connected;		/* it was connected */
	uint64_t requests, answered;
	char last[96];		/* the last request: "POST /command updateInfo" */
	char ended[200];	/* why it ended ("" while open or never opened) */
};

struct ap2 {
	const txp_stop_flag *stop;
	struct rtsp *rtsp;
	struct hapsec *sec;		/* the encrypted RTSP channel, from pairing on */
	char rname[160], url[192], local_ip[80], device_id[24];
	char common[320];		/* headers of every request (User-Agent, DACP-ID, ...) */
	char rerr[256];			/* why an answer mid-stream ended the session */
	const char *hkp;		/* the X-Apple-HKP header line pairing requests carry */
	const char *pair_dir;		/* where txpace pair kept the receiver's key (NULL: default) */
	struct net_addr peer, data_peer, ctl_peer;
	struct ap2_info info;
	enum ap2_pairing pairing;
	int clear_answer;		/* the receiver answered in the clear where it should encrypt */
	int verify_fell_back;		/* pair-verify, then transient: it did not encrypt after it */
	uint8_t shk[32];		/* the audio key */
	int ctl_fd;
	uint16_t ctl_port, event_port;
	struct aptp *ptp;
	int ptp_rt;			/* PTP time from CLOCK_REALTIME: ptp4l's timeline */
	struct alac_enc *alac;
	struct aac_enc *aac;		/* buffered AAC-LC */
	int buffered, codec_aac;	/* stream type 103 (ap2_buffered.c); its codec */
	int data_fd;			/* buffered: the TCP data connection (the pacer sends on it) */
	uint64_t buffer_size;		/* buffered: the receiver's audioBufferSize */
	uint64_t data_bytes;		/* buffered: record bytes built (producer thread, atomic) */
	uint64_t data_bytes_received, outq_max, rate_anchors, tcp_retrans;
	uint64_t sndbuf;		/* buffered: the data socket's room for unacknowledged bytes */
	struct rtx rtx;
	struct ap2ctl_rx_counts ctl_counts;
	const struct stream_desc *d;
	const struct schedule *sched;	/* set at start */
	uint32_t latency_frames;	/* launch to play */
	int64_t timeout_ms;
	int64_t next_anchor, next_feedback;
	int first_anchor;		/* the next anchor is the first of a (re)start */
	int paused, flush_acked;
	uint64_t anchors, feedbacks, packets, payload_bytes, flushes;
	struct ap2_events ev;
};

/* profile_airplay2.c, shared with the buffered profile (ap2_buffered.c) */
struct ap2 *ap2_new(const struct profile_opts *o);
void ap2_close(void *priv);
int ap2_flush_done(void *priv);
/**
 * Until @until: every duty of the stream, through @ops' poll_fds and service, as while it ran
 * (with @drain: until every request is answered, or @until).
 */
int ap2_serve_until(struct ap2 *a, const struct profile_ops *ops, const struct schedule *s,
		    int64_t until, int drain, char *err, size_t errlen);
/** The keep-alive (POST /feedback every AP2_FEEDBACK_NS), then *@next: the earliest duty. */
int ap2_keepalive(struct ap2 *a, int64_t now, int64_t ptp_next, int64_t *next, char *err,
		  size_t errlen);
void ap2_report(void *priv, struct json *j);
void ap2_summary(void *priv, FILE *f);

/* ap2_session.c, in the order ap2_open() takes its steps */

/** Find the receiver (@o's mDNS name or address, port 7000) and connect to its RTSP port. */
int ap2_connect(struct ap2 *a, const struct profile_opts *o, char *err, size_t errlen);
/** The session's random numbers and keys: @d's seq0, ts0 and ssrc, shk, the common headers. */
int ap2_session_ids(struct ap2 *a, const struct profile_opts *o, struct stream_desc *d, char *err,
		    size_t errlen);
/** GET /info (binary plist): features, device id, key. */
int ap2_get_info(struct ap2 *a, char *err, size_t errlen);
/** Pair-verify with a receiver paired before (txpace pair), else transient pair-setup; then
 * every later request and answer is encrypted. */
int ap2_pair(struct ap2 *a, char *err, size_t errlen);
/** The control port (bound on the RTSP connection's local address) and the PTP master. */
int ap2_open_ports(struct ap2 *a, const struct profile_opts *o, char *err, size_t errlen);
/** SETUP (session, PTP timing), RECORD, SETPEERS, SETUP (stream). */
int ap2_setup(struct ap2 *a, const struct profile_opts *o, char *err, size_t errlen);
/** SET_PARAMETER volume, when @o asks for one. */
int ap2_set_volume(struct ap2 *a, const struct profile_opts *o, char *err, size_t errlen);
/** A request mid-stream (queued; its answer through ap2_on_reply). @return 0 or as ap2_rtsp_failed */
int ap2_send(struct ap2 *a, const char *method, const char *uri, const char *extra, char *err,
	     size_t errlen);
/** The same with a binary plist @body, to the session's URL. */
int ap2_send_body(struct ap2 *a, const char *method, const uint8_t *body, size_t len, char *err,
		  size_t errlen);
/** The callback of a request mid-stream: anything but 200 ends the session. */
int ap2_on_reply(void *arg, const char *method, const struct rtsp_resp *resp);
/** The client failed mid-stream (@rc from rtsp_send or rtsp_service): say why, once. */
int ap2_rtsp_failed(struct ap2 *a, int rc, char *err, size_t errlen);
/** @return what to add to a CLOCK_MONOTONIC time for the PTP master's clock (0 or REALTIME's) */
int64_t ap2_to_ptp_clock(const struct ap2 *a);
/** Serve the PTP master (@now CLOCK_MONOTONIC); @next lowered to when it wants to run again. */
int ap2_ptp_service(struct ap2 *a, int64_t now, int64_t *next, char *err, size_t errlen);
/** The PTP master's and the event connection's descriptors. @return how many (<= @max) */
int ap2_bg_poll_fds(struct ap2 *a, struct pollfd *pfd, int max);

/* ap2_events.c: the event connection, which the receiver opens requests on */

/** The connection's keys from the pairing's @secret (as the RTSP channel's). */
int ap2_events_keys(struct ap2 *a, const uint8_t *secret, size_t len, char *err, size_t errlen);
/** Connect to the receiver's eventPort @port (SETUP's answer); a failure is a warning. */
void ap2_events_open(struct ap2 *a, uint16_t port);
/** Read what came, answer every whole request (200); an undecryptable or garbled one ends it. */
void ap2_events_service(struct ap2 *a);
void ap2_events_close(struct ap2 *a);
void ap2_events_report(const struct ap2 *a, struct json *j);

/** Serve the PTP master and the RTSP connection until @until (or its answer, with @done). */
int ap2_wait(struct ap2 *a, int64_t until, const int *done, char *err, size_t errlen);

#endif
