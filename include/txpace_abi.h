/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one header shared by bpf/ and user/: the schedule ring slots and the registered flows.
 * Fixed-width types, no pointers, explicit padding.
 */
#ifndef TXPACE_ABI_H
#define TXPACE_ABI_H

#ifndef __VMLINUX_H__	/* (a BTF-only program has these types from vmlinux.h) */
#include <linux/types.h>
#endif

#define TXP_RING_SLOTS 1024		/* slot = RTP sequence % this */

/* slot flags */
#define TXP_SLOT_VALID 1u		/* userspace published launch_ns for seq */
#define TXP_SLOT_STAMPED 2u		/* the egress program stamped the packet */

/* One packet's schedule entry, written by userspace through mmap (seq published last). */
struct txp_slot {
	__u64 launch_ns;	/* CLOCK_MONOTONIC departure time */
	__u64 egress_ns;	/* when the egress program saw the packet */
	__u64 txtime_ns;	/* the departure time it gave the packet (launch + correction, clamped) */
	__u64 xmit_ns;		/* when the driver got it (net_dev_start_xmit; 0 = not yet) */
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

/* The deadline watchdog and the driver hand-off tracepoint (optional: probed at run time). */
#define TXP_LAT_BUCKETS 1024	/* timer lateness histogram, 1 us buckets, the last one open */

struct txp_conf {
	__u64 grace_ns;		/* a packet is missed when the driver has not had it by launch + this */
	__u32 skb_data_off;	/* offsetof(struct sk_buff, data), found at run time (0 = not yet) */
	__be16 cal_sport, cal_dport;	/* the flow whose packets find that offset */
	__u32 l3_off;		/* where the IP header starts at tc egress: 14 (Ethernet) or 0 (L3 link) */
	__u32 recalibrations;	/* times userspace found the offset wrong and reset it */
	/*
	 * skb->data of the flow's latest packet, as tc egress saw it while skb_data_off is not
	 * known (a 32-bit kernel's pointer: its upper half 0): nonzero tells the tracepoint that
	 * the flow's packets are passing, so it looks for skb_data_off (the sk_buff field whose
	 * pointer + transport_offset holds cal_sport and cal_dport) until it finds it, then clears
	 * this. No scans for other traffic before the flow's first packet or once it is found.
	 */
	__u64 cal_data;
};

/*
 * net:net_dev_start_xmit as a classic tracepoint records it on 64-bit kernels, and on 32-bit
 * ones (an 8- or 4-byte skbaddr, everything after it 4 bytes earlier). Which one the kernel
 * writes is read from tracefs's format file at run time: txpace does not attach where it is
 * neither.
 */
struct txp_tp_start_xmit {
	__u64 common;
	__u32 name_loc;
	__u16 queue_mapping;
	__u16 pad0;
	__u64 skbaddr;
	__u8 vlan_tagged;
	__u8 pad1;
	__u16 vlan_proto;
	__u16 vlan_tci;
	__u16 protocol;
	__u8 ip_summed;
	__u8 pad2[3];
	__u32 len;
	__u32 data_len;
	__s32 network_offset;
	__u8 transport_offset_valid;
	__u8 pad3[3];
	__s32 transport_offset;
};

struct txp_tp_start_xmit32 {
	__u64 common;
	__u32 name_loc;
	__u16 queue_mapping;
	__u16 pad0;
	__u32 skbaddr;
	__u8 vlan_tagged;
	__u8 pad1;
	__u16 vlan_proto;
	__u16 vlan_tci;
	__u16 protocol;
	__u8 ip_summed;
	__u8 pad2[3];
	__u32 len;
	__u32 data_len;
	__s32 network_offset;
	__u8 transport_offset_valid;
	__u8 pad3[3];
	__s32 transport_offset;
};

struct txp_wstats {
	__u64 fired;		/* timer expiries */
	__u64 checked;		/* slots checked at their deadline */
	__u64 missed;		/* of those, not at the driver by then */
	__u64 on_time;		/* at the driver by launch + grace */
	__u64 armed;		/* the timer is running (1) */
	__u64 next_seq;		/* the slot it fires for */
	__u64 deadline;		/* when */
	__u64 xmit_seen;	/* packets of registered flows the tracepoint matched to a slot */
	__u64 lat[TXP_LAT_BUCKETS];	/* expiry - deadline, us */
};

/* ring buffer event: a packet that had not reached the driver at its deadline */
struct txp_event {
	__u64 launch_ns;
	__u64 fired_ns;
	__u64 xmit_ns;		/* 0: still not at the driver */
	__u32 seq;
	__u32 flags;		/* the slot's flags (was it stamped at all?) */
};

#endif
