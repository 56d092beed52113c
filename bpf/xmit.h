/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The driver hand-off record shared by both net:net_dev_start_xmit programs (the classic
 * tracepoint, BTF-free, and the tp_btf one): given the packet's data pointer and its network
 * and transport offsets, find the registered flow and note when its slot reached the driver.
 * Needs bpf_helpers.h, the IP header types and maps.h first.
 */
#ifndef TXPACE_BPF_XMIT_H
#define TXPACE_BPF_XMIT_H

#ifndef ETH_P_IP
#define ETH_P_IP 0x0800
#endif
#ifndef ETH_P_IPV6
#define ETH_P_IPV6 0x86DD
#endif

/* @proto: the ethertype in host order */
static __always_inline int record_xmit(const void *data, __s32 noff, __s32 toff, __u16 proto)
{
	__u32 z = 0, idx;
	struct txp_wstats *st = bpf_map_lookup_elem(&wstats, &z);
	struct txp_flow_key k = {};
	struct txp_slot *slot;
	__u8 l4[12];
	__u16 seq;

	if (!st || !data || toff < 0 || toff > 128 || noff < 0 || noff > 64 ||
	    bpf_probe_read_kernel(l4, sizeof(l4), data + toff)) {
		return 0;
	}
	if (proto == ETH_P_IP) {
		struct iphdr ip;

		if (bpf_probe_read_kernel(&ip, sizeof(ip), data + noff) || ip.protocol != IPPROTO_UDP) {
			return 0;
		}
		k.saddr[10] = k.saddr[11] = 0xff;
		k.daddr[10] = k.daddr[11] = 0xff;
		__builtin_memcpy(&k.saddr[12], &ip.saddr, 4);
		__builtin_memcpy(&k.daddr[12], &ip.daddr, 4);
	} else if (proto == ETH_P_IPV6) {
		struct ipv6hdr ip6;

		if (bpf_probe_read_kernel(&ip6, sizeof(ip6), data + noff) ||
		    ip6.nexthdr != IPPROTO_UDP) {
			return 0;
		}
		__builtin_memcpy(k.saddr, &ip6.saddr, 16);
		__builtin_memcpy(k.daddr, &ip6.daddr, 16);
	} else {
		return 0;
	}
	__builtin_memcpy(&k.sport, &l4[0], 2);
	__builtin_memcpy(&k.dport, &l4[2], 2);
	if (!bpf_map_lookup_elem(&flows, &k)) {
		return 0;
	}
	seq = (__u16)(l4[10] << 8 | l4[11]);
	idx = seq % TXP_RING_SLOTS;
	slot = bpf_map_lookup_elem(&sched_ring, &idx);
	if (slot && (slot->flags & TXP_SLOT_VALID) && slot->seq == seq && !slot->xmit_ns) {
		slot->xmit_ns = bpf_ktime_get_ns();
		__sync_fetch_and_add(&st->xmit_seen, 1);
	}
	return 0;
}

#endif
