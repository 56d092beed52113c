// SPDX-License-Identifier: GPL-2.0-only
/*
 * The tc egress program on canned packets through BPF_PROG_TEST_RUN: the departure stamp is
 * launch + correction, launch times never go backwards in a flow, a wrong sequence or an
 * unregistered flow leaves the packet untouched (and is counted), truncated packets are safe.
 * Needs root (CAP_BPF); exits 77 (skipped) without it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "txpace_abi.h"
#include "tc_egress.skel.h"
#include "unit.h"

static size_t make_pkt(uint8_t *b, int v6, uint16_t seq, uint16_t dport)
{
	struct ethhdr *eth = (void *)b;
	size_t off = sizeof(*eth), l3;

	memset(b, 0, 256);
	if (!v6) {
		struct iphdr *ip = (void *)(b + off);

		eth->h_proto = htons(ETH_P_IP);
		ip->version = 4;
		ip->ihl = 5;
		ip->ttl = 1;
		ip->protocol = IPPROTO_UDP;
		ip->tot_len = htons(20 + 8 + 12 + 96);
		inet_pton(AF_INET, "192.168.67.1", &ip->saddr);
		inet_pton(AF_INET, "239.69.0.1", &ip->daddr);
		l3 = sizeof(*ip);
	} else {
		struct ipv6hdr *ip6 = (void *)(b + off);

		eth->h_proto = htons(ETH_P_IPV6);
		ip6->version = 6;
		ip6->nexthdr = IPPROTO_UDP;
		ip6->hop_limit = 1;
		ip6->payload_len = htons(8 + 12 + 96);
		inet_pton(AF_INET6, "fd00:67::1", &ip6->saddr);
		inet_pton(AF_INET6, "fd00:67::2", &ip6->daddr);
		l3 = sizeof(*ip6);
	}
	struct udphdr *udp = (void *)(b + off + l3);

	udp->source = htons(40000);
	udp->dest = htons(dport);
	udp->len = htons(8 + 12 + 96);
	uint8_t *rtp = (uint8_t *)(udp + 1);

	rtp[0] = 0x80;
	rtp[1] = 96;
	rtp[2] = (uint8_t)(seq >> 8);
	rtp[3] = (uint8_t)seq;
	return off + l3 + 8 + 12 + 96;
}

static void key_for(struct txp_flow_key *k, int v6, uint16_t dport)
{
	memset(k, 0, sizeof(*k));
	if (!v6) {
		k->saddr[10] = k->saddr[11] = k->daddr[10] = k->daddr[11] = 0xff;
		inet_pton(AF_INET, "192.168.67.1", &k->saddr[12]);
		inet_pton(AF_INET, "239.69.0.1", &k->daddr[12]);
	} else {
		inet_pton(AF_INET6, "fd00:67::1", k->saddr);
		inet_pton(AF_INET6, "fd00:67::2", k->daddr);
	}
	k->sport = htons(40000);
	k->dport = htons(dport);
}

/* Run the program on a packet. @return the stamp it left in the skb (0 = none) */
static uint64_t run(int prog, uint8_t *pkt, size_t len)
{
	struct __sk_buff ctx = { 0 }, out = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = (uint32_t)len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .ctx_out = &out,
		    .ctx_size_out = sizeof(out), .repeat = 1);

	if (bpf_prog_test_run_opts(prog, &o) || o.retval != 0 /* TC_ACT_OK */) {
		return UINT64_MAX;
	}
	return out.tstamp;
}

/* the link's IP header offset, as the sender writes it (14: Ethernet, 0: L3 link) */
static void set_conf(struct tc_egress *skel, uint32_t l3_off)
{
	struct txp_conf c = { .l3_off = l3_off };
	uint32_t zero = 0;

	CHECK(bpf_map_update_elem(bpf_map__fd(skel->maps.conf), &zero, &c, BPF_ANY) == 0);
}

static void set_slot(struct txp_slot *ring, uint16_t seq, uint64_t launch)
{
	struct txp_slot *s = &ring[seq % TXP_RING_SLOTS];

	s->launch_ns = launch;
	s->egress_ns = 0;
	s->seq = seq;
	__atomic_store_n(&s->flags, TXP_SLOT_VALID, __ATOMIC_RELEASE);
}

/* the kernel interprets BPF programs (net.core.bpf_jit_enable = 0, 32-bit ARM's default) */
static int jit_off(void)
{
	FILE *f = fopen("/proc/sys/net/core/bpf_jit_enable", "r");
	int c = f ? fgetc(f) : '1';

	if (f) {
		fclose(f);
	}
	return c == '0';
}

/* BPF_F_TIMER_ABS, which the watchdog starts its timer with, is in kernels from 6.4 */
static int timer_abs_kernel(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	memset(&u, 0, sizeof(u));
	if (uname(&u) == 0 && sscanf(u.release, "%d.%d", &major, &minor) == 2 &&
	    (major > 6 || (major == 6 && minor >= 4))) {
		return 1;
	}
	printf("test_bpf_egress: kernel %s has no BPF_F_TIMER_ABS (6.4): the watchdog's checks "
	       "are skipped\n", u.release);
	return 0;
}

/*
 * tc_egress with every program, or (*watch = 0) without the watchdog's where the kernel has no
 * JIT: its interpreter refuses programs with callbacks (the bpf_timer's), which is why that
 * program is opt-in. NULL: it does not load (errno says why).
 */
static struct tc_egress *load_all(const struct bpf_object_open_opts *oo, int *watch)
{
	struct tc_egress *skel;

	for (*watch = 1; *watch >= 0; (*watch)--) {
		skel = tc_egress__open_opts(oo);
		if (!skel) {
			return NULL;
		}
		bpf_program__set_autoload(skel->progs.txp_egress_watch, *watch);
		bpf_program__set_autoload(skel->progs.txp_xmit, true);
		bpf_program__set_autoload(skel->progs.txp_xmit32, true);
		if (!tc_egress__load(skel)) {
			return skel;
		}
		tc_egress__destroy(skel);
		if (!jit_off()) {
			return NULL;
		}
		printf("test_bpf_egress: no BPF JIT here (net.core.bpf_jit_enable = 0): the "
		       "interpreter refuses the watchdog's timer callback; its checks are "
		       "skipped\n");
	}
	return NULL;
}

int main(void)
{
	struct tc_egress *skel;
	struct txp_slot *ring;
	struct txp_flow f = { .correction_ns = 1000 }, got;
	struct txp_flow_key k4, k6;
	uint8_t pkt[256];
	int prog, flows, watch;
	size_t len;

	if (geteuid() != 0) {
		printf("test_bpf_egress: skipped (needs root for BPF)\n");
		return 77;
	}
	libbpf_set_print(NULL);
	if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_SCHED_CLS, NULL) != 1) {
		printf("test_bpf_egress: skipped (this kernel loads no tc BPF programs)\n");
		return 77;
	}
	/*
	 * Raspberry Pi OS has no kernel BTF: every program must load without it. libbpf reads the
	 * kernel's BTF only for CO-RE relocations and kfuncs; pointing it at a file that does not
	 * exist makes any such dependency a load failure here.
	 */
	LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = "/nonexistent/vmlinux");
	/*
	 * By default only txp_egress loads: the watchdog's program (whose timer callback the
	 * interpreter of a kernel without JIT refuses: 32-bit ARM) and the tracepoint programs (one
	 * per record layout) are opt-in, so `txpace probe` and a plain edt stream load there
	 */
	skel = tc_egress__open_and_load();
	CHECK(skel != NULL);
	if (skel) {
		CHECK(bpf_program__fd(skel->progs.txp_egress) >= 0);
		CHECK(bpf_program__fd(skel->progs.txp_egress_watch) < 0);
		CHECK(bpf_program__fd(skel->progs.txp_xmit) < 0);
		CHECK(bpf_program__fd(skel->progs.txp_xmit32) < 0);
		tc_egress__destroy(skel);
	}
	/* and every program, those opt-in ones too */
	skel = load_all(&oo, &watch);
	CHECK(skel != NULL);
	if (!skel) {
		printf("test_bpf_egress: FAIL: the BPF object does not load without kernel BTF: %s\n",
		       strerror(errno));
		return 1;
	}
	prog = bpf_program__fd(skel->progs.txp_egress);
	flows = bpf_map__fd(skel->maps.flows);
	/* the schedule ring is written through mmap, as the sender does */
	ring = mmap(NULL, sizeof(struct txp_slot) * TXP_RING_SLOTS, PROT_READ | PROT_WRITE, MAP_SHARED,
		    bpf_map__fd(skel->maps.sched_ring), 0);
	CHECK(ring != MAP_FAILED);
	if (ring == MAP_FAILED) {
		return unit_done("test_bpf_egress");
	}
	set_conf(skel, 14);	/* Ethernet, as on a veth */
	key_for(&k4, 0, 5004);
	key_for(&k6, 1, 5004);
	f.horizon_ns = 10ull * 1000000000ull;
	CHECK(bpf_map_update_elem(flows, &k4, &f, BPF_ANY) == 0);
	CHECK(bpf_map_update_elem(flows, &k6, &f, BPF_ANY) == 0);

	/* the stamp is launch + correction, IPv4 and IPv6 */
	uint64_t now = 0;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	set_slot(ring, 100, now + 5000000);
	len = make_pkt(pkt, 0, 100, 5004);
	CHECK_EQ(run(prog, pkt, len), now + 5000000 + 1000);
	CHECK(ring[100].flags & TXP_SLOT_STAMPED);
	CHECK(ring[100].egress_ns > 0);
	set_slot(ring, 7, now + 6000000);
	len = make_pkt(pkt, 1, 7, 5004);
	CHECK_EQ(run(prog, pkt, len), now + 6000000 + 1000);

	/* launch times never decrease within a flow: an earlier one is clamped */
	set_slot(ring, 101, now + 4000000);
	len = make_pkt(pkt, 0, 101, 5004);
	CHECK_EQ(run(prog, pkt, len), now + 5000000 + 1000);
	/* wrong sequence in the slot (stale): untouched, counted */
	len = make_pkt(pkt, 0, 101 + TXP_RING_SLOTS, 5004);
	CHECK_EQ(run(prog, pkt, len), 0);
	/* unregistered flow (other port): untouched, not counted */
	set_slot(ring, 102, now + 7000000);
	len = make_pkt(pkt, 0, 102, 5006);
	CHECK_EQ(run(prog, pkt, len), 0);
	/* beyond the horizon: not stamped, counted */
	set_slot(ring, 103, now + 60ull * 1000000000ull);
	len = make_pkt(pkt, 0, 103, 5004);
	CHECK_EQ(run(prog, pkt, len), 0);
	/*
	 * Truncated packets at every length: safe; stamped exactly when the RTP sequence number
	 * (Ethernet 14 + IPv4 20 + UDP 8 + 4) is there to read, untouched otherwise.
	 */
	len = make_pkt(pkt, 0, 102, 5004);
	for (size_t l = 14; l < len; l++) {
		uint64_t r = run(prog, pkt, l), want = l >= 14 + 20 + 8 + 4 ? now + 7000000 + 1000 : 0;

		if (l < 14 + 20) {
			/* the kernel refuses to run an IPv4 frame without a whole IP header */
			CHECK_EQ(r, UINT64_MAX);
			continue;
		}

		if (r != want) {
			printf("truncated to %zu bytes: stamp %" PRIu64 ", want %" PRIu64 "\n", l, r, want);
		}
		CHECK_EQ(r, want);
	}
	CHECK(bpf_map_lookup_elem(flows, &k4, &got) == 0);
	CHECK_EQ(got.clamped, 1);
	CHECK_EQ(got.no_slot, 1);
	CHECK_EQ(got.beyond_horizon, 1);
	CHECK(got.stamped >= 2);

	/*
	 * An L3 link (tun, WireGuard, ppp, ipip): the packet starts at its IP header. With the
	 * offset the sender configures for such a link, IPv4 and IPv6 are stamped; read as
	 * Ethernet, the same bytes are not ours (no stamp), which is what made such links leave
	 * unpaced before.
	 */
	uint8_t l3pkt[256];
	uint64_t before_l3 = got.stamped;

	set_conf(skel, 0);
	set_slot(ring, 200, now + 8000000);
	len = make_pkt(pkt, 0, 200, 5004);
	memcpy(l3pkt, pkt + 14, len - 14);
	CHECK(run(prog, l3pkt, len - 14) != UINT64_MAX);
	/*
	 * (the test run does not hand back the stamp of a frame whose bytes 12-13 are no
	 * ethertype, so the slot's record of it is checked: txtime and the stamped flag)
	 */
	CHECK(ring[200].flags & TXP_SLOT_STAMPED);
	CHECK_EQ(ring[200].txtime_ns, now + 8000000 + 1000);
	set_slot(ring, 201, now + 9000000);
	len = make_pkt(pkt, 1, 201, 5004);
	memcpy(l3pkt, pkt + 14, len - 14);
	CHECK(run(prog, l3pkt, len - 14) != UINT64_MAX);
	CHECK(ring[201].flags & TXP_SLOT_STAMPED);
	CHECK_EQ(ring[201].txtime_ns, now + 9000000 + 1000);
	/* an Ethernet frame on an L3 link is not a UDP packet of ours */
	set_slot(ring, 202, now + 9500000);
	len = make_pkt(pkt, 0, 202, 5004);
	CHECK_EQ(run(prog, pkt, len), 0);
	CHECK(!(ring[202].flags & TXP_SLOT_STAMPED));
	/* and the IP packet of an L3 link read as Ethernet is not either (the old behaviour) */
	set_conf(skel, 14);
	memcpy(l3pkt, pkt + 14, len - 14);
	CHECK(run(prog, l3pkt, len - 14) != UINT64_MAX);
	CHECK(!(ring[202].flags & TXP_SLOT_STAMPED));
	CHECK(bpf_map_lookup_elem(flows, &k4, &got) == 0);
	CHECK_EQ(got.stamped, before_l3 + 1);	/* 200 (IPv4); 201 is the IPv6 flow's */

	if (!watch || !timer_abs_kernel()) {
		tc_egress__destroy(skel);
		return unit_done("test_bpf_egress");
	}
	/*
	 * txp_egress_watch: the same stamp, and it arms the deadline watchdog for that slot at
	 * its stamped time + grace (the timer then fires long after this test: 1 s ahead)
	 */
	struct txp_conf wc = { .l3_off = 14, .grace_ns = 500000 };
	struct txp_wstats ws;
	uint32_t zero = 0;
	int wprog = bpf_program__fd(skel->progs.txp_egress_watch);

	CHECK(bpf_map_update_elem(bpf_map__fd(skel->maps.conf), &zero, &wc, BPF_ANY) == 0);
	set_slot(ring, 300, now + 1000000000ull);
	len = make_pkt(pkt, 0, 300, 5004);
	CHECK_EQ(run(wprog, pkt, len), now + 1000000000ull + 1000);
	CHECK(ring[300].flags & TXP_SLOT_STAMPED);
	CHECK(bpf_map_lookup_elem(bpf_map__fd(skel->maps.wstats), &zero, &ws) == 0);
	CHECK_EQ(ws.armed, 1);
	CHECK_EQ(ws.next_seq, 300);
	CHECK_EQ(ws.deadline, now + 1000000000ull + 1000 + 500000);
	/* a second packet while armed: stamped, the watchdog keeps its earlier deadline */
	set_slot(ring, 301, now + 1001000000ull);
	len = make_pkt(pkt, 0, 301, 5004);
	CHECK_EQ(run(wprog, pkt, len), now + 1001000000ull + 1000);
	CHECK(bpf_map_lookup_elem(bpf_map__fd(skel->maps.wstats), &zero, &ws) == 0);
	CHECK_EQ(ws.next_seq, 300);
	tc_egress__destroy(skel);
	return unit_done("test_bpf_egress");
}
