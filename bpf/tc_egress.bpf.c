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
#define TXP_TIMER_ABS 1			/* BPF_F_TIMER_ABS, kernel >= 6.4 (not in 6.1's UAPI) */
#define TXP_CLOCK_MONOTONIC 1

#include "maps.h"
#include "xmit.h"

/*
 * The watchdog: one bpf_timer that fires at each published slot's deadline (launch + grace) and
 * checks that the driver had the packet by then. Loaded only where bpf_timer exists (>= 5.15);
 * the ABS flag (>= 6.4) is probed by userspace before the watch programs are used.
 */
struct txp_watch {
	struct bpf_timer t;
	__u64 armed;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct txp_watch);
} watch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} events SEC(".maps");

/*
 * The 5-tuple of a UDP packet whose IP header starts @l3 bytes in: 14 after an Ethernet header,
 * 0 on an L3 link (tun, WireGuard, ppp, ipip), where there is no link-layer header to read the
 * protocol from, so the IP version nibble says which it is.
 */
static __always_inline int flow_key(struct __sk_buff *skb, struct txp_flow_key *k, __u32 *l4,
				    __u32 l3)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	__u8 *nh;
	int v;

	if (l3 == ETH_HLEN) {
		struct ethhdr *eth = data;

		if ((void *)(eth + 1) > end) {
			return -1;
		}
		v = eth->h_proto == bpf_htons(ETH_P_IP) ? 4 : eth->h_proto == bpf_htons(ETH_P_IPV6) ? 6 : 0;
		nh = (__u8 *)(eth + 1);
	} else if (l3 == 0) {
		nh = data;
		if ((void *)(nh + 1) > end) {
			return -1;
		}
		v = nh[0] >> 4;
	} else {
		return -1;
	}
	if (v == 4) {
		struct iphdr *ip = (void *)nh;

		if ((void *)(ip + 1) > end || ip->protocol != IPPROTO_UDP || ip->ihl < 5 ||
		    (ip->frag_off & bpf_htons(0x3fff))) {
			return -1;
		}
		k->saddr[10] = k->saddr[11] = 0xff;
		k->daddr[10] = k->daddr[11] = 0xff;
		__builtin_memcpy(&k->saddr[12], &ip->saddr, 4);
		__builtin_memcpy(&k->daddr[12], &ip->daddr, 4);
		*l4 = l3 + ip->ihl * 4;
		return 0;
	}
	if (v == 6) {
		struct ipv6hdr *ip6 = (void *)nh;

		if ((void *)(ip6 + 1) > end || ip6->nexthdr != IPPROTO_UDP) {
			return -1;
		}
		__builtin_memcpy(k->saddr, &ip6->saddr, 16);
		__builtin_memcpy(k->daddr, &ip6->daddr, 16);
		*l4 = l3 + sizeof(*ip6);
		return 0;
	}
	return -1;
}

/* Stamp a registered flow's packet. @return its slot (NULL: not ours or not stamped) */
static __always_inline struct txp_slot *stamp(struct __sk_buff *skb, __u16 *seqp)
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

	__u32 z = 0;
	struct txp_conf *c = bpf_map_lookup_elem(&conf, &z);

	if (!c || flow_key(skb, &k, &l4, c->l3_off) || l4 > 60) {
		return NULL;
	}
	udp = data + l4;
	rtp = (__u8 *)(udp + 1);
	if ((void *)(rtp + 4) > end) {
		return NULL;	/* truncated: not ours to judge */
	}
	k.sport = udp->source;
	k.dport = udp->dest;
	f = bpf_map_lookup_elem(&flows, &k);
	if (!f) {
		return NULL;	/* other traffic passes untouched */
	}
	seq = (__u16)(rtp[2] << 8 | rtp[3]);
	idx = seq % TXP_RING_SLOTS;
	slot = bpf_map_lookup_elem(&sched_ring, &idx);
	if (!slot || !(slot->flags & TXP_SLOT_VALID) || slot->seq != seq) {
		__sync_fetch_and_add(&f->no_slot, 1);
		return NULL;
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
		return NULL;
	}
	f->last_launch = t;
	if (!c->skb_data_off) {
		c->cal_data = (__u64)(long)data;	/* the tracepoint may look for the offset */
	}
	bpf_skb_set_tstamp(skb, t, BPF_SKB_CLOCK_MONOTONIC);
	slot->egress_ns = now;
	slot->txtime_ns = t;
	slot->flags |= TXP_SLOT_STAMPED;
	__sync_fetch_and_add(&f->stamped, 1);
	*seqp = seq;
	return slot;
}

SEC("tc")
int txp_egress(struct __sk_buff *skb)
{
	__u16 seq;

	stamp(skb, &seq);
	return TC_ACT_OK;
}

static __always_inline __u64 slot_deadline(const struct txp_slot *s, const struct txp_conf *c)
{
	return ((s->flags & TXP_SLOT_STAMPED) ? s->txtime_ns : s->launch_ns) + c->grace_ns;
}

static int watch_fire(void *map, __u32 *key, struct txp_watch *w)
{
	__u32 z = 0, idx, seq, next;
	struct txp_wstats *st = bpf_map_lookup_elem(&wstats, &z);
	struct txp_conf *c = bpf_map_lookup_elem(&conf, &z);
	struct txp_slot *s;
	__u64 now = bpf_ktime_get_ns(), lat;

	if (!st || !c) {
		return 0;
	}
	__sync_fetch_and_add(&st->fired, 1);
	lat = now > st->deadline ? (now - st->deadline) / 1000 : 0;
	if (lat >= TXP_LAT_BUCKETS) {
		lat = TXP_LAT_BUCKETS - 1;
	}
	asm volatile("" : "+r"(lat));	/* keep the mask below: the verifier needs the bound */
	lat &= TXP_LAT_BUCKETS - 1;
	__sync_fetch_and_add(&st->lat[lat], 1);
	seq = (__u32)st->next_seq & 0xffff;
	idx = seq % TXP_RING_SLOTS;
	s = bpf_map_lookup_elem(&sched_ring, &idx);
	if (s && (s->flags & TXP_SLOT_VALID) && s->seq == seq) {
		__sync_fetch_and_add(&st->checked, 1);
		if (s->xmit_ns && s->xmit_ns <= st->deadline) {
			__sync_fetch_and_add(&st->on_time, 1);
		} else {
			struct txp_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

			__sync_fetch_and_add(&st->missed, 1);
			if (e) {
				e->launch_ns = s->launch_ns;
				e->fired_ns = now;
				e->xmit_ns = s->xmit_ns;
				e->seq = seq;
				e->flags = s->flags;
				bpf_ringbuf_submit(e, 0);
			}
		}
	}
	/* the next published slot, if userspace has published it yet */
	next = (seq + 1) & 0xffff;
	idx = next % TXP_RING_SLOTS;
	s = bpf_map_lookup_elem(&sched_ring, &idx);
	if (s && (s->flags & TXP_SLOT_VALID) && s->seq == next) {
		st->next_seq = next;
		st->deadline = slot_deadline(s, c);
		bpf_timer_start(&w->t, st->deadline, TXP_TIMER_ABS);
		return 0;
	}
	/* nothing published yet: the egress program arms it again with the next packet */
	w->armed = 0;
	st->armed = 0;
	return 0;
}

/*
 * The egress program with the watchdog: stamp, and start the timer if it is not running.
 * Loaded only when asked for ("?"): its timer callback needs the JIT (the interpreter refuses
 * callbacks, and 32-bit ARM kernels leave their JIT off by default).
 */
SEC("?tc")
int txp_egress_watch(struct __sk_buff *skb)
{
	__u32 z = 0;
	__u16 seq = 0;
	struct txp_slot *slot = stamp(skb, &seq);
	struct txp_watch *w;
	struct txp_wstats *st;
	struct txp_conf *c;

	if (!slot) {
		return TC_ACT_OK;
	}
	w = bpf_map_lookup_elem(&watch, &z);
	st = bpf_map_lookup_elem(&wstats, &z);
	c = bpf_map_lookup_elem(&conf, &z);
	if (!w || !st || !c || __sync_val_compare_and_swap(&w->armed, 0, 1) != 0) {
		return TC_ACT_OK;
	}
	bpf_timer_init(&w->t, &watch, TXP_CLOCK_MONOTONIC);	/* -EBUSY after the first time */
	bpf_timer_set_callback(&w->t, watch_fire);
	st->next_seq = seq;
	st->deadline = slot_deadline(slot, c);
	st->armed = 1;
	if (bpf_timer_start(&w->t, st->deadline, TXP_TIMER_ABS)) {
		w->armed = 0;
		st->armed = 0;
	}
	return TC_ACT_OK;
}

/*
 * Is @p the packet's data pointer: the flow's UDP ports (network order) at @p + @toff, and an IP
 * header of version @v at @p + @noff?
 */
static __always_inline int flow_at(__u64 p, __s32 noff, __s32 toff, __u32 ports, __u8 v)
{
	__u32 got = 0;
	__u8 vb = 0;

	return p && bpf_probe_read_kernel(&got, sizeof(got), (const void *)(long)p + toff) == 0 &&
	       got == ports &&
	       bpf_probe_read_kernel(&vb, sizeof(vb), (const void *)(long)p + noff) == 0 &&
	       vb >> 4 == v;
}

/*
 * Without kernel BTF the offset of skb->data is not known: find it in the sk_buff of one of
 * the flow's packets at the driver, as the pointer-sized field whose transport header (the
 * tracepoint's transport_offset after it) holds the flow's UDP ports, after an IP header of
 * the packet's version (at network_offset). What is found does not
 * depend on when the packet is handed over (fq holds each one for --lead, while later ones pass
 * tc egress). At most 63 fields, each a pointer and 4 bytes after it, only while the flow's
 * packets pass tc egress and the offset is not known yet (for the first packets, or after
 * userspace found it wrong); a wrong find is caught by userspace (kpace_verify_data_off).
 * @psize: the kernel's pointer size (8, or 4 on a 32-bit kernel, whose pointers are 4-byte
 * aligned there)
 */
static __always_inline __u32 find_data_off(const void *skb, __s32 noff, __s32 toff,
					   __u32 ports, __u8 v, const __u32 psize)
{
	for (__u32 i = psize; i < 256; i += psize) {
		if (psize == 4) {
			__u32 p = 0;

			if (bpf_probe_read_kernel(&p, sizeof(p), skb + i) == 0 &&
			    flow_at(p, noff, toff, ports, v)) {
				return i;
			}
		} else {
			__u64 p = 0;

			if (bpf_probe_read_kernel(&p, sizeof(p), skb + i) == 0 &&
			    flow_at(p, noff, toff, ports, v)) {
				return i;
			}
		}
	}
	return 0;
}

/* The hand-off of the packet at @skbaddr (a kernel pointer of @psize bytes). */
static __always_inline int hand_off(__u64 skbaddr, __s32 noff, __s32 toff, __u16 proto,
				    const __u32 psize)
{
	__u32 z = 0, off, ports;
	struct txp_conf *c = bpf_map_lookup_elem(&conf, &z);
	const void *skb = (const void *)(long)skbaddr;
	__u64 data = 0;

	if (!c || toff < 0 || toff > 128 || noff < 0 || noff > 64 ||
	    (proto != ETH_P_IP && proto != ETH_P_IPV6)) {
		return 0;
	}
	off = c->skb_data_off;
	if (!off) {
		if (!c->cal_data) {
			return 0;	/* the flow's packets are not passing tc egress: no scan */
		}
		__builtin_memcpy(&ports, &c->cal_sport, 2);
		__builtin_memcpy((__u8 *)&ports + 2, &c->cal_dport, 2);
		off = find_data_off(skb, noff, toff, ports, proto == ETH_P_IP ? 4 : 6, psize);
		if (!off) {
			return 0;
		}
		c->skb_data_off = off;
		c->cal_data = 0;
	}
	if (psize == 4) {
		__u32 d = 0;

		if (bpf_probe_read_kernel(&d, sizeof(d), skb + (off & 0xff))) {
			return 0;
		}
		data = d;
	} else if (bpf_probe_read_kernel(&data, sizeof(data), skb + (off & 0xff))) {
		return 0;
	}
	/* (the tracepoint stores the protocol in host order) */
	return record_xmit((const void *)(long)data, noff, toff, proto);
}

/*
 * The classic tracepoint, one program for each record layout; userspace loads the one the
 * kernel's format file describes ("?": neither loads unless asked for).
 */
SEC("?tracepoint/net/net_dev_start_xmit")
int txp_xmit(struct txp_tp_start_xmit *ctx)
{
	if (!ctx->transport_offset_valid) {
		return 0;
	}
	return hand_off(ctx->skbaddr, ctx->network_offset, ctx->transport_offset, ctx->protocol, 8);
}

SEC("?tracepoint/net/net_dev_start_xmit")
int txp_xmit32(struct txp_tp_start_xmit32 *ctx)
{
	if (!ctx->transport_offset_valid) {
		return 0;
	}
	return hand_off(ctx->skbaddr, ctx->network_offset, ctx->transport_offset, ctx->protocol, 4);
}

char LICENSE[] SEC("license") = "GPL";
