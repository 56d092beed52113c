/* SPDX-License-Identifier: GPL-2.0-only */
/* Stream profiles (plain RTP, RAOP, ...): what is on the wire and how the receiver is spoken to. */
#ifndef TXPACE_PROFILE_H
#define TXPACE_PROFILE_H

#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <time.h>

#include "txpace/alac.h"
#include "txpace/json.h"
#include "txpace/net.h"
#include "txpace/sched.h"
#include "txpace/stop.h"

struct history;

/* What the user asked for (send's options that concern the stream and the receiver). */
struct profile_opts {
	const char *dest_s;	/* DEST argument, or NULL with to_name */
	const char *to_name;	/* RAOP: a receiver's name from mDNS */
	const char *iface, *sdp_path;
	unsigned bits;
	long rate, channels, ttl, dscp, pt;
	int64_t ptime_ns;
	uint32_t ssrc;
	int have_ssrc;
	double volume_db;
	int have_volume;
	int64_t latency_ns;
	int encrypt;
	enum alac_mode alac;
	int64_t timeout_ms;	/* for answers from the receiver */
	int64_t keepalive_ns;	/* raop: RTSP keep-alive interval */
	const char *pair_dir;	/* airplay2: the pairing store (NULL: /var/lib/txpace) */
	int ap2_aac;		/* airplay2 buffered: AAC-LC instead of ALAC */
	/* aes67 */
	const char *ptp_socket;
	long ptp_domain;	/* 0..127: in every management request to ptp4l and in the SDP */
	int require_lock;
	int64_t lock_timeout_ns;
	uint32_t mediaclk_offset;
	int64_t sap_interval_ns;	/* 0 = no SAP */
	const char *session_name;
	const txp_stop_flag *stop;	/* the caller's stop request: waits end early when it is set */
};

/* What the profile decided; the pipeline follows it. */
struct stream_desc {
	uint32_t rate, channels, bits, spp;
	size_t max_packet;
	int fd;			/* connected socket the pacer sends audio on */
	uint16_t seq0;
	uint32_t ts0, ssrc;
	struct net_addr dest;
	struct history *hist;	/* packets already sent, by RTP sequence number */
	uint64_t marker_k;	/* the packet that (re)starts the stream carries the marker bit */
	clockid_t clock;	/* the clock of the schedule (MONOTONIC unless the profile says) */
};

struct profile_ops {
	const char *name;
	/*
	 * Packets of silence sent after the source's last one. A receiver finds a lost packet by
	 * the gap before the next, and asks for it only when a later packet arrives a while after
	 * the gap (shairport-sync: 100 ms, again every 250 ms): without packets after it, the
	 * last ones could never be asked for again.
	 */
	unsigned tail_packets;
	/*
	 * What the session also sends without a launch time on the same link, which a root etf
	 * qdisc would drop ("RTSP and PTP"), NULL: nothing; @untimed_for (when set) says it for
	 * the stream's options instead (aes67: SAP, unless --sap-interval 0)
	 */
	const char *untimed_traffic;
	const char *(*untimed_for)(const struct profile_opts *o);
	/* seconds of sent packets kept for the receiver's retransmit requests (0: none kept) */
	unsigned history_s;
	/** Connect/negotiate; fill @d. @return private state, or NULL with a one-line reason */
	void *(*open)(const struct profile_opts *o, struct stream_desc *d, char *err, size_t errlen);
	/** Producer thread: packet @k from @frames of PCM (< spp only for the last). @return bytes */
	int (*packetize)(void *p, const struct stream_desc *d, uint64_t k, const int32_t *pcm,
			 uint32_t frames, uint8_t *out);
	/** Main thread, pacer ready: set @s->start_ns (at or after @earliest). @return 0 or -errno */
	int (*start)(void *p, struct schedule *s, int64_t earliest, char *err, size_t errlen);
	/** Main thread: the descriptors to watch. @return how many were written to @pfd */
	int (*poll_fds)(void *p, struct pollfd *pfd, int max);
	/**
	 * Main thread: handle readable descriptors and timed duties.
	 * @return 0, or -errno when the session is lost (with a one-line reason in @err)
	 */
	int (*service)(void *p, const struct schedule *s, int64_t now, int64_t *next, char *err,
		       size_t errlen);
	/**
	 * Optional, main thread, while the stream is paused with every built packet sent: tell
	 * the receiver to drop what it holds; @next_k is the packet that will follow.
	 */
	int (*flush)(void *p, uint64_t next_k, char *err, size_t errlen);
	/**
	 * Optional, main thread, after flush: @return 1 once the receiver has acknowledged it (the
	 * stream restarts only then), 0 while the main loop is still to wait for that
	 */
	int (*flush_done)(void *p);
	/** Optional, main thread: the stream restarts (new anchor in @s) after a flush. */
	void (*resume)(void *p, const struct schedule *s, int64_t now);
	/** After the last packet left (launch @last_launch): let it play out, then close the session. */
	int (*finish)(void *p, const struct schedule *s, int64_t last_launch, int interrupted,
		      char *err, size_t errlen);
	/** @return 1 when the profile met every duty (e.g. every retransmit request was served) */
	int (*complete)(void *p);
	void (*report)(void *p, struct json *j);
	/** Optional: the profile's lines of the text summary, written to @f (the caller's choice) */
	void (*summary)(void *p, FILE *f);
	/** Optional: a short note for the status line ("PTP unlocked"), or "" */
	const char *(*status)(void *p);
	/** Optional: 1 while the media clock is locked (aes67: ptp4l says so), else 0 */
	int (*clock_locked)(void *p);
	void (*close)(void *p);
};

extern const struct profile_ops profile_rtp, profile_aes67, profile_raop, profile_airplay2;
/* airplay2's buffered audio (stream type 103, TCP): --stream buffered */
extern const struct profile_ops profile_airplay2_buffered;

#endif
