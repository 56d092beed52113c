// SPDX-License-Identifier: GPL-2.0-only
/*
 * The BPF side of kernel pacing: tc_egress (the egress program, with or without the deadline
 * watchdog), the driver hand-off program (tp_btf where the kernel has BTF, else the classic
 * tracepoint, its record layout checked first), the flow's registration, the schedule ring's
 * mapping, and the maps pinned under /sys/fs/bpf/txpace/<key>/.
 */
#include <dirent.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kpace_int.h"
#include "tc_egress.skel.h"
#include "xmit_btf.skel.h"
#include "txpace/clock.h"
#include "txpace/log.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif
#ifndef TRACEFS_MAGIC
#define TRACEFS_MAGIC 0x74726163
#endif

void kpace_rm_pins(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];

	if (!d) {
		return;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] != '.') {
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			unlink(p);
		}
	}
	closedir(d);
	rmdir(dir);
	rmdir(KPACE_PIN_DIR);	/* only when empty */
}

/* Mount @type on @path unless it is there (@record: journaled first). @return 1 mounted, 0, -errno */
static int ensure_fs(struct kpace *k, const char *path, const char *type, long magic,
		     int record)
{
	struct statfs sfs;

	if (statfs(path, &sfs) == 0 && (long)sfs.f_type == magic) {
		return 0;
	}
	if (record) {
		int rc = kpace_journal(k, "did mount %s", path);

		if (rc) {
			return rc;
		}
	}
	if (mount(type, path, type, 0, NULL)) {
		return -errno;
	}
	return 1;
}

static int flow_key_of(int fd, struct txp_flow_key *key)
{
	struct sockaddr_storage a, b;
	socklen_t la = sizeof(a), lb = sizeof(b);

	memset(key, 0, sizeof(*key));
	if (getsockname(fd, (struct sockaddr *)&a, &la) || getpeername(fd, (struct sockaddr *)&b, &lb)) {
		return -errno;
	}
	if (a.ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)&a, *d = (const void *)&b;

		key->saddr[10] = key->saddr[11] = key->daddr[10] = key->daddr[11] = 0xff;
		memcpy(&key->saddr[12], &s->sin_addr, 4);
		memcpy(&key->daddr[12], &d->sin_addr, 4);
		key->sport = s->sin_port;
		key->dport = d->sin_port;
	} else {
		const struct sockaddr_in6 *s = (const void *)&a, *d = (const void *)&b;

		memcpy(key->saddr, &s->sin6_addr, 16);
		memcpy(key->daddr, &d->sin6_addr, 16);
		key->sport = s->sin6_port;
		key->dport = d->sin6_port;
	}
	return 0;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct kpace *k = ctx;
	const struct txp_event *e = data;

	if (size < sizeof(*e)) {
		return 0;
	}
	k->nevents++;
	if (!(e->flags & TXP_SLOT_STAMPED)) {
		k->nevents_unstamped++;
	}
	if (e->xmit_ns) {
		snprintf(k->event_msg, sizeof(k->event_msg), "watchdog: packet seq %u reached the "
			 "driver %.3f ms after its launch time", e->seq,
			 (double)(e->xmit_ns - e->launch_ns) / 1e6);
	} else {
		snprintf(k->event_msg, sizeof(k->event_msg), "watchdog: packet seq %u had not reached "
			 "the driver %.3f ms after its launch time%s", e->seq,
			 (double)(e->fired_ns - e->launch_ns) / 1e6,
			 e->flags & TXP_SLOT_STAMPED ? "" : " (never reached the egress program)");
	}
	return 0;
}

/*
 * The fields the classic tracepoint programs read, where each record layout has them: txp_xmit
 * reads struct txp_tp_start_xmit (a 64-bit kernel's), txp_xmit32 struct txp_tp_start_xmit32.
 */
#define TP_FIELD(t, f, size) { #f, offsetof(struct t, f), size }
static const struct tp_field {
	const char *name;
	unsigned off, size;
} tp_fields[2][5] = {
	{ TP_FIELD(txp_tp_start_xmit, skbaddr, 8), TP_FIELD(txp_tp_start_xmit, protocol, 2),
	  TP_FIELD(txp_tp_start_xmit, network_offset, 4),
	  TP_FIELD(txp_tp_start_xmit, transport_offset_valid, 1),
	  TP_FIELD(txp_tp_start_xmit, transport_offset, 4) },
	{ TP_FIELD(txp_tp_start_xmit32, skbaddr, 4), TP_FIELD(txp_tp_start_xmit32, protocol, 2),
	  TP_FIELD(txp_tp_start_xmit32, network_offset, 4),
	  TP_FIELD(txp_tp_start_xmit32, transport_offset_valid, 1),
	  TP_FIELD(txp_tp_start_xmit32, transport_offset, 4) },
};
#define TP_NFIELDS (sizeof(tp_fields[0]) / sizeof(tp_fields[0][0]))

/* Read the offset and size of each field in tp_fields from a format file. @return fields found */
static unsigned tp_read_format(FILE *f, unsigned off[TP_NFIELDS], unsigned size[TP_NFIELDS])
{
	char line[512];
	unsigned seen = 0;

	while (fgets(line, sizeof(line), f)) {
		for (size_t i = 0; i < TP_NFIELDS; i++) {
			char pat[64];
			const char *p;

			snprintf(pat, sizeof(pat), " %s;", tp_fields[0][i].name);
			p = strstr(line, pat);
			p = p ? strstr(p, "offset:") : NULL;
			if (p && sscanf(p, "offset:%u; size:%u;", &off[i], &size[i]) == 2) {
				seen |= 1u << i;
			}
		}
	}
	return seen;
}

/*
 * Which record layout the kernel writes for net:net_dev_start_xmit, from its tracefs format
 * file (@path; NULL: tracefs's, or TXPACE_TP_FORMAT's for the tests of a kernel that differs):
 * the classic tracepoint programs read it at fixed offsets, so one that is neither layout would
 * be read wrong in silence. @return the kernel's pointer size (8 or 4), or -errno (-EPROTO: @why
 * names the first field that differs from the closest layout)
 */
int kpace_tp_layout(const char *path, char *why, size_t len)
{
	const char *env = getenv("TXPACE_TP_FORMAT");
	unsigned off[TP_NFIELDS] = { 0 }, size[TP_NFIELDS] = { 0 }, seen, best = 0, nbad[2] = { 0 };
	int first[2] = { -1, -1 };
	FILE *f;

	if (!path) {
		path = env ? env : "/sys/kernel/tracing/events/net/net_dev_start_xmit/format";
	}
	f = fopen(path, "r");
	if (!f) {
		int rc = -errno;

		snprintf(why, len, "no format file for net:net_dev_start_xmit in tracefs: %s",
			 strerror(errno));
		return rc;
	}
	seen = tp_read_format(f, off, size);
	fclose(f);
	for (size_t i = 0; i < TP_NFIELDS; i++) {
		if (!(seen & (1u << i))) {
			snprintf(why, len, "net:net_dev_start_xmit has no field %s here",
				 tp_fields[0][i].name);
			return -EPROTO;
		}
	}
	for (unsigned l = 0; l < 2; l++) {
		for (size_t i = 0; i < TP_NFIELDS; i++) {
			if (off[i] != tp_fields[l][i].off || size[i] != tp_fields[l][i].size) {
				nbad[l]++;
				first[l] = first[l] < 0 ? (int)i : first[l];
			}
		}
		if (!nbad[l]) {
			return l ? 4 : 8;
		}
	}
	best = nbad[1] < nbad[0];
	const struct tp_field *w = &tp_fields[best][first[best]];

	snprintf(why, len, "net:net_dev_start_xmit records %s at offset %u (%u bytes) here, txpace "
		 "reads it at %u (%u bytes)", w->name, off[first[best]], size[first[best]], w->off,
		 w->size);
	return -EPROTO;
}

/*
 * Where the kernel has BTF: the tp_btf hand-off program (CO-RE reads of skb->head and the
 * header offsets, nothing found by guessing), on tc_egress's maps. TXPACE_NO_BTF=1 skips it
 * (the tests of the classic path, which is what the Pi runs). @return 0, or -errno to fall back
 */
static int attach_btf_xmit(struct kpace *k)
{
	struct tc_egress *s = k->skel;
	struct xmit_btf *b;
	const char *no = getenv("TXPACE_NO_BTF");

	if ((no && *no && strcmp(no, "0")) || access("/sys/kernel/btf/vmlinux", R_OK)) {
		return -ENOENT;
	}
	b = xmit_btf__open();
	if (!b) {
		return -errno;
	}
	if (bpf_map__reuse_fd(b->maps.sched_ring, bpf_map__fd(s->maps.sched_ring)) ||
	    bpf_map__reuse_fd(b->maps.flows, bpf_map__fd(s->maps.flows)) ||
	    bpf_map__reuse_fd(b->maps.wstats, bpf_map__fd(s->maps.wstats)) ||
	    bpf_map__reuse_fd(b->maps.conf, bpf_map__fd(s->maps.conf)) || xmit_btf__load(b)) {
		int rc = -errno;

		pr_debug("the tp_btf hand-off program does not load here (%s): the classic "
			 "tracepoint instead", strerror(-rc));
		xmit_btf__destroy(b);
		return rc ? rc : -EINVAL;
	}
	k->tp_link = bpf_program__attach(b->progs.txp_xmit_btf);
	if (!k->tp_link) {
		int rc = -errno;

		xmit_btf__destroy(b);
		return rc;
	}
	k->btf_skel = b;
	return 0;
}

/* libbpf finds the tracepoint's id in tracefs: mounted for the reads only. @return 1: unmount */
static int tracefs_for_now(struct kpace *k)
{
	return ensure_fs(k, "/sys/kernel/tracing", "tracefs", TRACEFS_MAGIC, 0);
}

/* Before loading: which classic tracepoint program fits the kernel's record (tp_psize). */
static void tp_select(struct kpace *k)
{
	int mounted = tracefs_for_now(k), rc;

	rc = kpace_tp_layout(NULL, k->tp_why, sizeof(k->tp_why));
	k->tp_psize = rc > 0 ? (unsigned)rc : 0;
	k->tp_rc = rc < 0 ? rc : 0;
	if (mounted == 1) {
		umount2("/sys/kernel/tracing", MNT_DETACH);
	}
}

/* The classic net:net_dev_start_xmit tracepoint: the program for the kernel's record layout. */
static int attach_tracepoint(struct kpace *k, char *err, size_t errlen)
{
	struct bpf_program *p = k->tp_psize == 4 ? k->skel->progs.txp_xmit32
						 : k->skel->progs.txp_xmit;
	int mounted, rc;

	if (!k->tp_psize) {
		return kpace_fail(err, errlen, k->tp_rc, "cannot --watch: %s", k->tp_why);
	}
	mounted = tracefs_for_now(k);
	k->tp_link = bpf_program__attach_tracepoint(p, "net", "net_dev_start_xmit");
	rc = k->tp_link ? 0 : -errno;
	if (mounted == 1) {
		umount2("/sys/kernel/tracing", MNT_DETACH);
	}
	if (rc) {
		return kpace_fail(err, errlen, rc, "cannot attach to the net:net_dev_start_xmit "
				  "tracepoint: %s", strerror(-rc));
	}
	return 0;
}

#define ENOTSUPP_KERNEL 524	/* the kernel's internal ENOTSUPP, which bpf() passes on */
#define JIT_REFUSES                                                                        \
	"the BPF JIT cannot compile them (ENOTSUPP: 32-bit ARM's has no BPF atomics); with " \
	"net.core.bpf_jit_enable=0 the interpreter runs them"

/*
 * The kernel interprets BPF programs (no JIT, or net.core.bpf_jit_enable=0, 32-bit ARM's
 * default): txp_egress, loaded alone, has no machine code. (The sysctl itself is not visible
 * from a network namespace other than the first.)
 */
static int interpreted(void)
{
	struct tc_egress *s = tc_egress__open_and_load();
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	int r = 0;

	memset(&info, 0, sizeof(info));
	if (s && !bpf_obj_get_info_by_fd(bpf_program__fd(s->progs.txp_egress), &info, &len)) {
		r = info.xlated_prog_len && !info.jited_prog_len;
	}
	tc_egress__destroy(s);
	return r;
}

/* Open and load tc_egress (the watchdog's programs only with --watch), map the schedule ring. */
static int load_objects(struct kpace *k, char *err, size_t errlen)
{
	const struct kpace_cfg *c = &k->cfg;
	struct tc_egress *s;
	int rc;

	libbpf_set_print(log_libbpf);	/* (its messages at -v only: the error below says why) */
	s = tc_egress__open();
	if (!s) {
		return kpace_fail(err, errlen, -errno, "cannot open the BPF object: %s",
				  strerror(errno));
	}
	k->skel = s;
	/* (txp_egress always; the others only when used: "?" in their section names) */
	bpf_program__set_autoload(s->progs.txp_egress_watch, k->timer);
	bpf_map__set_autocreate(s->maps.watch, k->timer);
	bpf_program__set_autoload(s->progs.txp_xmit, c->watch && k->tp_psize == 8);
	bpf_program__set_autoload(s->progs.txp_xmit32, c->watch && k->tp_psize == 4);
	rc = tc_egress__load(s);
	if (rc) {
		return kpace_fail(err, errlen, rc, "cannot load txpace's BPF programs: %s",
				  rc == -ENOTSUPP_KERNEL ? JIT_REFUSES : strerror(-rc));
	}
	k->flows_fd = bpf_map__fd(s->maps.flows);
	k->wstats_fd = bpf_map__fd(s->maps.wstats);
	k->conf_fd = bpf_map__fd(s->maps.conf);
	k->ring = mmap(NULL, sizeof(struct txp_slot) * TXP_RING_SLOTS, PROT_READ | PROT_WRITE,
		       MAP_SHARED, bpf_map__fd(s->maps.sched_ring), 0);
	if (k->ring == MAP_FAILED) {
		k->ring = NULL;
		return kpace_fail(err, errlen, -errno, "cannot mmap the schedule ring: %s",
				  strerror(errno));
	}
	return 0;
}

/* The socket's flow in the flows map, and the programs' configuration. */
static int register_flow(struct kpace *k, int fd, char *err, size_t errlen)
{
	struct txp_flow flow = { 0 };
	uint32_t zero = 0;
	int rc;

	rc = flow_key_of(fd, &k->flow_key);
	if (rc) {
		return kpace_fail(err, errlen, rc, "the socket has no addresses: %s", strerror(-rc));
	}
	struct txp_conf conf = { .grace_ns = (uint64_t)k->cfg.grace_ns, .cal_sport = k->flow_key.sport,
				 .cal_dport = k->flow_key.dport, .l3_off = k->l3_off };

	if (bpf_map_update_elem(k->flows_fd, &k->flow_key, &flow, BPF_ANY) ||
	    bpf_map_update_elem(k->conf_fd, &zero, &conf, BPF_ANY)) {
		return kpace_fail(err, errlen, -errno, "cannot register the flow: %s",
				  strerror(errno));
	}
	return 0;
}

/* Every created map (not .rodata/.bss) under the pin directory, bpffs mounted if need be. */
static int pin_maps(struct kpace *k, char *err, size_t errlen)
{
	struct bpf_map *m;
	int rc;

	/* pinned with BTF, so `bpftool map dump pinned` prints field names */
	rc = ensure_fs(k, "/sys/fs/bpf", "bpf", BPF_FS_MAGIC, 1);
	if (rc < 0) {
		return kpace_fail(err, errlen, rc, "cannot mount bpffs on /sys/fs/bpf: %s",
				  strerror(-rc));
	}
	snprintf(k->pin_dir, sizeof(k->pin_dir), "%s/%s", KPACE_PIN_DIR, k->key);
	JOURNAL_OR_FAIL(k, err, errlen, "did pin %s", k->pin_dir);
	kpace_rm_pins(k->pin_dir);	/* a dead txpace's pins, if any (also drops an empty parent) */
	mkdir(KPACE_PIN_DIR, 0755);
	if (mkdir(k->pin_dir, 0755) && errno != EEXIST) {
		if (errno == EACCES && geteuid() != 0) {
			/* (pins are for bpftool, which is root's anyway: bpffs is root's) */
			pr_info("maps not pinned: %s is not writable for uid %d", KPACE_PIN_DIR,
				(int)geteuid());
			snprintf(k->pin_dir, sizeof(k->pin_dir), "(not pinned)");
			return 0;
		}
		return kpace_fail(err, errlen, -errno, "cannot create %s: %s", k->pin_dir,
				  strerror(errno));
	}
	bpf_object__for_each_map(m, k->skel->obj) {
		char p[256];

		if (bpf_map__fd(m) < 0 || strchr(bpf_map__name(m), '.')) {
			continue;	/* not created, or .rodata/.bss */
		}
		snprintf(p, sizeof(p), "%s/%s", k->pin_dir, bpf_map__name(m));
		rc = bpf_map__pin(m, p);
		if (rc) {
			return kpace_fail(err, errlen, rc, "cannot pin %s: %s", p, strerror(-rc));
		}
	}
	return 0;
}

int kpace_load_bpf(struct kpace *k, int fd, char *err, size_t errlen)
{
	const struct kpace_cfg *c = &k->cfg;
	struct bpf_program *prog;
	char why[160], pp[256];
	int rc;

	k->timer = c->watch && kpace_probe_timer_abs(why, sizeof(why));
	if (c->watch && !k->timer) {
		pr_warn("%s; recording driver hand-off times only", why);
	}
	if (c->watch) {
		tp_select(k);
	}
	rc = load_objects(k, err, errlen);
	rc = rc ? rc : register_flow(k, fd, err, errlen);
	rc = rc ? rc : pin_maps(k, err, errlen);
	if (rc) {
		return rc;
	}
	prog = k->timer ? k->skel->progs.txp_egress_watch : k->skel->progs.txp_egress;
	snprintf(pp, sizeof(pp), "%s/%s", k->pin_dir, bpf_program__name(prog));
	if (k->pin_dir[0] == '/') {
		bpf_program__pin(prog, pp);
	}
	if (c->watch) {
		if (attach_btf_xmit(k) != 0) {
			rc = attach_tracepoint(k, err, errlen);
			if (rc) {
				return rc;
			}
		}
		k->rb = ring_buffer__new(bpf_map__fd(k->skel->maps.events), on_event, k, NULL);
	}
	k->prog_fd = bpf_program__fd(prog);
	return kpace_attach_filter(k, err, errlen);
}

void kpace_bpf_free(struct kpace *k)
{
	ring_buffer__free(k->rb);
	bpf_link__destroy(k->tp_link);
	xmit_btf__destroy(k->btf_skel);
	if (k->ring) {
		munmap(k->ring, sizeof(struct txp_slot) * TXP_RING_SLOTS);
	}
	tc_egress__destroy(k->skel);
}

/*
 * The tracepoint's skb->data offset was found from one packet: a wrong find (another pointer
 * that happened to equal it) would leave every hand-off unrecorded in silence. So once a
 * second: when the egress program stamped a few hundred of the flow's packets and the
 * tracepoint matched none of them, the offset is reset to be found again, and counted.
 */
void kpace_verify_data_off(struct kpace *k)
{
	struct txp_flow f;
	struct txp_wstats w;
	struct txp_conf c;
	uint32_t zero = 0;

	if (kpace_flow(k, &f) || kpace_wstats(k, &w) ||
	    bpf_map_lookup_elem(k->conf_fd, &zero, &c)) {
		return;
	}
	if (c.skb_data_off && f.stamped - k->verify_stamped >= 256 && w.xmit_seen == k->verify_seen) {
		c.skb_data_off = 0;
		c.cal_data = 0;
		c.recalibrations++;
		bpf_map_update_elem(k->conf_fd, &zero, &c, BPF_ANY);
		pr_warn("%s: the driver hand-off tracepoint matched none of the last %llu packets: "
			"finding skb->data again", k->ifname,
			(unsigned long long)(f.stamped - k->verify_stamped));
	}
	k->verify_stamped = f.stamped;
	k->verify_seen = w.xmit_seen;
}

int kpace_probe_timer_abs(char *why, size_t len)
{
	struct tc_egress *s;
	uint8_t pkt[14 + 20 + 8 + 12] = { 0 };
	uint32_t zero = 0, idx;
	struct txp_flow_key key = { 0 };
	struct txp_flow flow = { 0 };
	struct txp_slot slot = { 0 };
	struct txp_wstats st;
	int ok = 0;

	libbpf_set_print(log_libbpf);
	s = tc_egress__open();
	if (s) {
		bpf_program__set_autoload(s->progs.txp_egress_watch, true);
	}
	if (!s || tc_egress__load(s)) {
		int e = errno;

		tc_egress__destroy(s);
		if (e == ENOTSUPP_KERNEL) {
			snprintf(why, len, "no deadline watchdog: %s", JIT_REFUSES);
		} else if (e == EINVAL && interpreted()) {
			/* (the interpreter refuses programs with callbacks: a bpf_timer's) */
			snprintf(why, len, "no deadline watchdog: its timer callback needs the BPF "
				 "JIT, which is off here (net.core.bpf_jit_enable=0)");
		} else {
			snprintf(why, len, "no bpf_timer here (kernel < 5.15): %s", strerror(e));
		}
		return 0;
	}
	/* a canned IPv4 UDP/RTP packet of a registered flow whose slot is 1 s ahead */
	pkt[12] = 0x08;
	pkt[14] = 0x45;
	pkt[14 + 9] = IPPROTO_UDP;
	memcpy(&pkt[14 + 12], "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	pkt[34] = 0x13, pkt[35] = 0x88, pkt[36] = 0x13, pkt[37] = 0x89;
	pkt[42] = 0x80, pkt[44] = 0x00, pkt[45] = 0x07;
	key.saddr[10] = key.saddr[11] = key.daddr[10] = key.daddr[11] = 0xff;
	memcpy(&key.saddr[12], &pkt[26], 4);
	memcpy(&key.daddr[12], &pkt[30], 4);
	memcpy(&key.sport, &pkt[34], 2);
	memcpy(&key.dport, &pkt[36], 2);
	idx = 7;
	slot.seq = 7;
	slot.flags = TXP_SLOT_VALID;
	slot.launch_ns = (uint64_t)mono_ns() + NSEC_PER_SEC;
	struct txp_conf conf = { .l3_off = ETH_HLEN };	/* the canned packet is an Ethernet frame */

	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = pkt, .data_size_in = sizeof(pkt), .repeat = 1);
	if (!bpf_map_update_elem(bpf_map__fd(s->maps.conf), &zero, &conf, BPF_ANY) &&
	    !bpf_map_update_elem(bpf_map__fd(s->maps.flows), &key, &flow, BPF_ANY) &&
	    !bpf_map_update_elem(bpf_map__fd(s->maps.sched_ring), &idx, &slot, BPF_ANY) &&
	    !bpf_prog_test_run_opts(bpf_program__fd(s->progs.txp_egress_watch), &t) &&
	    !bpf_map_lookup_elem(bpf_map__fd(s->maps.wstats), &zero, &st)) {
		ok = st.armed == 1;
	}
	snprintf(why, len, ok ? "bpf_timer started with BPF_F_TIMER_ABS (deadline watchdog)"
			      : "bpf_timer refused BPF_F_TIMER_ABS (kernel < 6.4): no deadline watchdog");
	tc_egress__destroy(s);
	return ok;
}
