// SPDX-License-Identifier: GPL-2.0-only
/*
 * tc egress (clsact, direct action): give each packet of a registered RTP flow its departure
 * time from the schedule ring, for the fq qdisc (EDT) to release. UAPI headers only: no CO-RE,
 * no kfuncs, so it loads on kernels without BTF (Raspberry Pi OS).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "txpace_abi.h"

#ifndef BPF_SKB_CLOCK_MONOTONIC
#define BPF_SKB_CLOCK_MONOTONIC 1	/* BPF_SKB_TSTAMP_DELIVERY_MONO before 6.11 */
#endif

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, TXP_RING_SLOTS);
	__type(key, __u32);
	__type(value, struct txp_slot);
} sched_ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct txp_flow_key);
	__type(value, struct txp_flow);
} flows SEC(".maps");

static __always_inline int flow_key(struct __sk_buff *skb, struct txp_flow_key *k, __u32 *l4)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end) {
		return -1;
	}
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end || ip->protocol != IPPROTO_UDP || ip->ihl < 5 ||
		    (ip->frag_off & bpf_htons(0x3fff))) {
			return -1;
		}
		k->saddr[10] = k->saddr[11] = 0xff;
		k->daddr[10] = k->daddr[11] = 0xff;
		__builtin_memcpy(&k->saddr[12], &ip->saddr, 4);
		__builtin_memcpy(&k->daddr[12], &ip->daddr, 4);
		*l4 = sizeof(*eth) + ip->ihl * 4;
		return 0;
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end || ip6->nexthdr != IPPROTO_UDP) {
			return -1;
		}
		__builtin_memcpy(k->saddr, &ip6->saddr, 16);
		__builtin_memcpy(k->daddr, &ip6->daddr, 16);
		*l4 = sizeof(*eth) + sizeof(*ip6);
		return 0;
	}
	return -1;
}

SEC("tc")
int txp_egress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct txp_flow_key k = {};
	struct txp_flow *f;
	struct txp_slot *slot;
	struct udphdr *udp;
	__u8 *rtp;
	__u32 l4 = 0, idx;
	__u16 seq;
	__u64 t, now;

	if (flow_key(skb, &k, &l4) || l4 > 60) {
		return TC_ACT_OK;
	}
	udp = data + l4;
	rtp = (__u8 *)(udp + 1);
	if ((void *)(rtp + 4) > end) {
		return TC_ACT_OK;	/* truncated: not ours to judge */
	}
	k.sport = udp->source;
	k.dport = udp->dest;
	f = bpf_map_lookup_elem(&flows, &k);
	if (!f) {
		return TC_ACT_OK;	/* other traffic passes untouched */
	}
	seq = (__u16)(rtp[2] << 8 | rtp[3]);
	idx = seq % TXP_RING_SLOTS;
	slot = bpf_map_lookup_elem(&sched_ring, &idx);
	if (!slot || !(slot->flags & TXP_SLOT_VALID) || slot->seq != seq) {
		__sync_fetch_and_add(&f->no_slot, 1);
		return TC_ACT_OK;
	}
	t = slot->launch_ns + f->correction_ns;
	if (t < f->last_launch) {
		/* fq holds a flow behind its latest stamp: never go backwards */
		t = f->last_launch;
		__sync_fetch_and_add(&f->clamped, 1);
	}
	now = bpf_ktime_get_ns();
	if (f->horizon_ns && t > now + f->horizon_ns) {
		__sync_fetch_and_add(&f->beyond_horizon, 1);
		return TC_ACT_OK;
	}
	f->last_launch = t;
	bpf_skb_set_tstamp(skb, t, BPF_SKB_CLOCK_MONOTONIC);
	slot->egress_ns = now;
	slot->flags |= TXP_SLOT_STAMPED;
	__sync_fetch_and_add(&f->stamped, 1);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
