/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one header shared by bpf/ and user/: the schedule ring slots and the registered flows.
 * Fixed-width types, no pointers, explicit padding.
 */
#ifndef TXPACE_ABI_H
#define TXPACE_ABI_H

#include <linux/types.h>

#define TXP_RING_SLOTS 1024		/* slot = RTP sequence % this */

/* slot flags */
#define TXP_SLOT_VALID 1u		/* userspace published launch_ns for seq */
#define TXP_SLOT_STAMPED 2u		/* the egress program stamped the packet */

/* One packet's schedule entry, written by userspace through mmap (seq published last). */
struct txp_slot {
	__u64 launch_ns;	/* CLOCK_MONOTONIC departure time */
	__u64 egress_ns;	/* when the egress program saw the packet */
	__u64 xmit_ns;		/* when the driver got it (0 = not yet) */
	__u32 seq;		/* RTP sequence number (16 bits used) */
	__u32 flags;
};

/* A registered UDP flow; addresses as IPv6 (IPv4 mapped ::ffff:a.b.c.d), network byte order. */
struct txp_flow_key {
	__u8 saddr[16];
	__u8 daddr[16];
	__be16 sport;
	__be16 dport;
	__u32 pad;
};

struct txp_flow {
	__s64 correction_ns;	/* added to every launch time (a PTP step after encoding) */
	__u64 horizon_ns;	/* launch times further ahead than this are not stamped */
	__u64 last_launch;	/* launch times never decrease within a flow */
	__u64 stamped, no_slot, clamped, beyond_horizon;
};

#endif
