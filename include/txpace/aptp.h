/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * AirPlay 2's PTP master: unicast IEEE 1588-2008 Announce, Sync and Follow_Up (two-step) to each
 * receiver, from UDP 319/320 to its 319/320, as nqptp accepts them (PROTOCOLS.md, "Timing:
 * AirPlay's PTP"). Driven from the caller's thread: aptp_poll_fds() + aptp_service(), as a
 * profile's own poll_fds/service do; no thread of its own.
 */
#ifndef TXPACE_APTP_H
#define TXPACE_APTP_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "txpace/json.h"
#include "txpace/net.h"

#define APTP_EVENT_PORT 319
#define APTP_GENERAL_PORT 320

/* IEEE 1588-2008 messageType (Table 19) */
enum aptp_msg_type {
	APTP_SYNC = 0x0, APTP_DELAY_REQ = 0x1, APTP_FOLLOW_UP = 0x8, APTP_DELAY_RESP = 0x9,
	APTP_ANNOUNCE = 0xb, APTP_SIGNALING = 0xc, APTP_MANAGEMENT = 0xd,
};

#define APTP_HDR_LEN 34
#define APTP_SYNC_LEN 44	/* header + originTimestamp */
#define APTP_FOLLOW_UP_LEN 76	/* header + preciseOriginTimestamp + 802.1AS Follow_Up TLV */
#define APTP_ANNOUNCE_LEN 64	/* header + the Announce body (13.5) */

struct aptp_cfg {
	/* the RTSP connection's local address: the sockets bind there (its port is ignored) */
	const struct net_addr *local;
	/* the interface whose MAC makes the clock identity; NULL: the one holding @local */
	const char *iface;
	/*
	 * The session's PTP timescale: PTP time = @clock's time + @offset_ns. @clock is the
	 * schedule's (stream_desc.clock): CLOCK_MONOTONIC, CLOCK_REALTIME or CLOCK_TAI. Where
	 * ptp4l disciplines the system clock (AES67), CLOCK_REALTIME with ptp_realtime_offset()
	 * gives ptp4l's TAI timeline, so AirPlay 2 and AES67 receivers play the same instant.
	 */
	clockid_t clock;
	int64_t offset_ns;
	/*
	 * 1 when PTP time is TAI (ptp4l's timeline): the Announce then says so (ptpTimescale,
	 * currentUtcOffset @utc_offset valid, timeSource PTP); else an arbitrary timescale
	 * (timeSource internal oscillator)
	 */
	int ptp_timescale;
	int16_t utc_offset;
	/*
	 * 1 when ptp4l runs on this host (its timeline is used): share 319/320 with it
	 * (SO_REUSEADDR; ptp4l binds them on its interface's wildcard address the same way)
	 */
	int share_with_ptp4l;
	/*
	 * 1: hardware TX stamps where the interface has them (hwts.h: turned on for the stream
	 * and back at the end); a Sync whose hardware stamp does not come gets its software stamp,
	 * and after 8 such Syncs in a row only software stamps are asked for. 0: software only
	 */
	int hw_stamps;
	/* Announce's grandmaster fields; 0: 248 and 248 (Apple's aPTP profile values) */
	uint8_t priority1, priority2;
};

struct aptp_stats {
	uint64_t announces, syncs, follow_ups;
	uint64_t stamps_hw, stamps_sw, stamps_missing;	/* Follow_Ups by origin-time source */
	uint64_t hw_missing;	/* Syncs whose hardware stamp did not come while asked for */
	uint64_t send_errors;
	uint64_t rx_ptp;	/* PTP messages received on 319/320 (nqptp's wake-up Announces) */
	uint64_t rx_bad;	/* datagrams there that are not PTPv2 */
	uint64_t rx_strangers;	/* from a host that is not one of the receivers */
	int64_t stamp_delay_max_ns;	/* longest send-to-stamp wait seen */
};

struct aptp;

/** Hardware stamps: "eth0, /dev/ptp0, turned on for the stream", or why software stamps. */
const char *aptp_hw_stamps(const struct aptp *a);

/**
 * Bind UDP 319 and 320 on @cfg->local's address and make the clock identity.
 * @return the master, or NULL with a one-line reason in @err (EACCES: needs root or
 *         CAP_NET_BIND_SERVICE; EADDRINUSE: names the process holding the port when it can)
 */
struct aptp *aptp_new(const struct aptp_cfg *cfg, char *err, size_t errlen);
/** Close the sockets and free; NULL is a no-op. */
void aptp_free(struct aptp *a);
/**
 * Add a receiver (its address; the port is ignored: messages go to its 319 and 320). Its first
 * Announce goes out at the next aptp_service(), its first Sync after that Announce.
 * @return 0, -EEXIST, -EAFNOSUPPORT (another family than @local's) or -ENOMEM
 */
int aptp_add_peer(struct aptp *a, const struct net_addr *peer);
/** Stop sending to @peer. @return 0 or -ENOENT */
int aptp_remove_peer(struct aptp *a, const struct net_addr *peer);
/** The clock identity (EUI-64 from the interface MAC), as the 0xD7 anchors carry it. */
void aptp_clock_id(const struct aptp *a, uint8_t id[8]);
/** The clock identity as a big-endian 64-bit number (what nqptp's shm calls master_clock_id) */
uint64_t aptp_clock_id64(const struct aptp *a);
/** @return the PTP time (ns) of @t, a time on cfg->clock */
int64_t aptp_ptp_time(const struct aptp *a, int64_t t);
/** @return the descriptors to watch (at most @max): the two sockets, readable and errors */
int aptp_poll_fds(struct aptp *a, struct pollfd *pfd, int max);
/**
 * Read what arrived (TX stamps, receivers' messages), send what is due. @now is on cfg->clock.
 * Never blocks: a Sync's stamp is read here when the kernel has queued it, and its Follow_Up
 * then goes out at once; @next gets the earliest time (on cfg->clock) it wants to be called
 * again (a pending stamp asks for ~1 ms).
 * @return 0, or -errno when the sockets failed
 */
int aptp_service(struct aptp *a, int64_t now, int64_t *next);
void aptp_get_stats(const struct aptp *a, struct aptp_stats *st);
/** The counters, the clock identity and the stamp source as a JSON object member "ptp". */
void aptp_report(const struct aptp *a, struct json *j);

/* Wire format (IEEE 1588-2008 clause 13), exposed for the tests and the fuzz target. */
struct aptp_hdr {
	uint8_t type;		/* enum aptp_msg_type */
	uint8_t transport;	/* transportSpecific, high nibble of byte 0 */
	uint8_t version;	/* versionPTP */
	uint16_t length;	/* messageLength */
	uint8_t domain;
	uint16_t flags;
	int64_t correction;	/* ns x 2^16 */
	uint8_t clock_id[8];
	uint16_t port;		/* sourcePortIdentity.portNumber */
	uint16_t seq;
	uint8_t control;
	int8_t log_interval;
};

/* flagField bits (Table 20): octet 0 = bits 8..15 of the 16-bit value */
#define APTP_FLAG_TWO_STEP 0x0200
#define APTP_FLAG_UNICAST 0x0400
#define APTP_FLAG_UTC_VALID 0x0004
#define APTP_FLAG_PTP_TIMESCALE 0x0008

struct aptp_announce {
	int16_t utc_offset;
	uint8_t priority1, priority2;
	uint8_t clock_class, clock_accuracy;
	uint16_t variance;	/* offsetScaledLogVariance */
	uint8_t gm_id[8];
	uint16_t steps_removed;
	uint8_t time_source;	/* Table 7: 0xA0 internal oscillator, 0x40 PTP */
};

/** Write the 34-byte common header. @return APTP_HDR_LEN */
size_t aptp_put_hdr(uint8_t *b, const struct aptp_hdr *h);
/** Write a PTP timestamp (48-bit seconds, 32-bit ns) of @ns (>= 0) at @b (10 bytes). */
void aptp_put_ts(uint8_t *b, int64_t ns);
/** @return the ns of the 10-byte PTP timestamp at @b */
int64_t aptp_get_ts(const uint8_t *b);
/** Build messages into @b (room for the _LEN), header fields other than type/length from @h. */
size_t aptp_build_announce(uint8_t *b, const struct aptp_hdr *h, const struct aptp_announce *an);
size_t aptp_build_sync(uint8_t *b, const struct aptp_hdr *h, int64_t origin_ns);
size_t aptp_build_follow_up(uint8_t *b, const struct aptp_hdr *h, int64_t precise_origin_ns);
/**
 * Parse a received PTP message's header (and an Announce's body when @an is not NULL and it is
 * one). @return 0, or -EINVAL (too short, not PTPv2, messageLength beyond @len)
 */
int aptp_parse(const uint8_t *b, size_t len, struct aptp_hdr *h, struct aptp_announce *an);
/** EUI-64 clock identity of a 48-bit MAC: ff:fe inserted in the middle (IEEE 1588 7.5.2.2.2). */
void aptp_eui64(const uint8_t mac[6], uint8_t id[8]);

#endif
