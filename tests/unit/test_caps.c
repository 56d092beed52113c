// SPDX-License-Identifier: GPL-2.0-only
/*
 * The least-privilege table (caps_plan): per command and backend, what is needed (refused
 * without), wanted (a warning), effective in set-up, in the pacer thread, for the whole run,
 * and kept permitted for the restore; and who the refusal names. Pure: no capability is read.
 */
#include <linux/capability.h>
#include <string.h>

#include "txpace/caps.h"
#include "unit.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

#define B(c) CAPS_BIT(CAP_##c)

static struct caps_plan plan(struct caps_req r)
{
	struct caps_plan p;

	r.root = r.root ? 1 : 0;
	caps_plan(&r, &p);
	return p;
}

/* A machine with BTF, bpffs and tracefs mounted, run by root unless said. */
#define SEND(...) plan((struct caps_req){ .cmd = CAPS_SEND, .btf = 1, .root = 1, __VA_ARGS__ })
/* ... or with every fact said */
#define ANY(...) plan((struct caps_req){ .cmd = CAPS_SEND, __VA_ARGS__ })

int main(void)
{
	struct caps_plan p;
	char buf[256];

	/* rt: nothing needed; SCHED_FIFO and mlock wanted; nothing kept but the lock */
	p = SEND(.backend = "rt", .fifo = 1);
	CHECK_EQ(p.need, 0);
	CHECK_EQ(p.want, B(SYS_NICE) | B(IPC_LOCK));
	CHECK_EQ(p.thread, B(SYS_NICE) | B(IPC_LOCK));
	CHECK_EQ(p.run, B(IPC_LOCK));
	CHECK_EQ(p.keep, 0);
	/* --prio 0: no SCHED_FIFO asked */
	p = SEND(.backend = "rt");
	CHECK_EQ(p.want, B(IPC_LOCK));
	/* sleep: nothing at all */
	p = SEND(.backend = "sleep", .fifo = 1);
	CHECK_EQ(p.need | p.want | p.setup | p.thread | p.keep | p.run, 0);
	/*
	 * edt with BPF stamps: NET_ADMIN (kept for the restore) and BPF (set-up only); PERFMON wanted
	 * in set-up (6.1's verifier refused the egress program without it: EACCES on x86_64 under
	 * probe --calibrate, and on 32-bit ARM with its JIT on)
	 */
	p = SEND(.backend = "edt", .bpf_stamp = 1, .fifo = 1);
	CHECK_EQ(p.need, B(NET_ADMIN) | B(BPF));
	CHECK_EQ(p.keep, B(NET_ADMIN));
	CHECK_EQ(p.setup, B(NET_ADMIN) | B(BPF) | B(PERFMON));
	CHECK_EQ(p.want, B(IPC_LOCK) | B(PERFMON));	/* (edt's pacer is not SCHED_FIFO) */
	CHECK(strstr(p.who[CAP_BPF], "edt") != NULL);
	CHECK(strstr(p.what[CAP_BPF], "egress program") != NULL);
	/* edt with SO_TXTIME: no BPF */
	p = SEND(.backend = "edt");
	CHECK_EQ(p.need, B(NET_ADMIN));
	/* etf: NET_ADMIN (also for SO_TXTIME on CLOCK_TAI), no BPF */
	p = SEND(.backend = "etf");
	CHECK_EQ(p.need, B(NET_ADMIN));
	CHECK(strstr(p.what[CAP_NET_ADMIN], "CLOCK_TAI") != NULL);
	/* --watch on rt: NET_ADMIN, BPF, PERFMON; only NET_ADMIN kept */
	p = SEND(.backend = "rt", .watch = 1);
	CHECK_EQ(p.need, B(NET_ADMIN) | B(BPF) | B(PERFMON));
	CHECK_EQ(p.keep, B(NET_ADMIN));
	CHECK(!strcmp(p.who[CAP_PERFMON], "--watch"));
	/* --watch without BTF: tracefs is root's, so another user needs DAC_READ_SEARCH */
	p = ANY(.backend = "rt", .watch = 1, .root = 1);
	CHECK_EQ(p.need & B(DAC_READ_SEARCH), 0);
	p = plan((struct caps_req){ .cmd = CAPS_SEND, .backend = "rt", .watch = 1 });
	CHECK_EQ(p.need & B(DAC_READ_SEARCH), B(DAC_READ_SEARCH));
	CHECK_EQ(p.keep & B(DAC_READ_SEARCH), 0);
	/* ... and with tracefs not mounted, SYS_ADMIN to mount it (not kept) */
	p = ANY(.backend = "rt", .watch = 1, .root = 1, .no_tracefs = 1);
	CHECK_EQ(p.need & B(SYS_ADMIN), B(SYS_ADMIN));
	CHECK_EQ(p.keep & B(SYS_ADMIN), 0);
	/* bpffs not mounted: SYS_ADMIN, kept (unmounted at exit) */
	p = SEND(.backend = "edt", .bpf_stamp = 1, .no_bpffs = 1);
	CHECK_EQ(p.keep, B(NET_ADMIN) | B(SYS_ADMIN));
	p = SEND(.backend = "edt", .no_bpffs = 1);	/* (SO_TXTIME: no BPF, no bpffs) */
	CHECK_EQ(p.need & B(SYS_ADMIN), 0);
	/* Wi-Fi power save to turn off: NET_ADMIN, even on rt; not known yet (2): wanted */
	p = SEND(.backend = "rt", .powersave = 1);
	CHECK_EQ(p.need, B(NET_ADMIN));
	CHECK(!strcmp(p.who[CAP_NET_ADMIN], "Wi-Fi"));
	p = SEND(.backend = "rt", .powersave = 2);
	CHECK_EQ(p.need, 0);
	CHECK_EQ(p.want & B(NET_ADMIN), B(NET_ADMIN));
	/* the edt backend's reason outranks Wi-Fi's for the same capability */
	p = SEND(.backend = "edt", .powersave = 2);
	CHECK(!strcmp(p.who[CAP_NET_ADMIN], "the edt backend"));
	/* PTP ports below 1024 (AirPlay 2) */
	p = SEND(.backend = "rt", .low_port = 1);
	CHECK_EQ(p.need, B(NET_BIND_SERVICE));
	/* and its hardware PTP stamps: the NIC's timestamping, turned back at exit */
	CHECK_EQ(p.want & B(NET_ADMIN), B(NET_ADMIN));
	CHECK_EQ(p.keep & B(NET_ADMIN), B(NET_ADMIN));
	CHECK(strstr(p.what[CAP_NET_ADMIN], "SIOCSHWTSTAMP") != NULL);
	/* auto: nothing needed before the choice, but what any choice could use is allowed */
	p = SEND(.backend = "auto", .watch = 1, .fifo = 1);
	CHECK_EQ(p.need, 0);
	CHECK_EQ(p.want & (B(NET_ADMIN) | B(BPF) | B(PERFMON) | B(SYS_ADMIN) | B(SYS_NICE) |
			   B(IPC_LOCK)),
		 B(NET_ADMIN) | B(BPF) | B(PERFMON) | B(SYS_ADMIN) | B(SYS_NICE) | B(IPC_LOCK));
	/* nothing beyond these for any send */
	p = ANY(.backend = "auto", .watch = 1, .fifo = 1, .powersave = 1, .no_bpffs = 1,
		.no_tracefs = 1, .low_port = 1);
	CHECK_EQ((p.need | p.want) & ~(B(NET_ADMIN) | B(BPF) | B(PERFMON) | B(SYS_ADMIN) |
				      B(SYS_NICE) | B(IPC_LOCK) | B(DAC_READ_SEARCH) |
				      B(NET_BIND_SERVICE)), 0);
	CHECK_EQ((p.need | p.want) & B(NET_RAW), 0);
	/* the other commands */
	p = plan((struct caps_req){ .cmd = CAPS_MEASURE });
	CHECK_EQ(p.need | p.want, 0);
	p = plan((struct caps_req){ .cmd = CAPS_LIST });
	CHECK_EQ(p.need | p.want, 0);
	p = plan((struct caps_req){ .cmd = CAPS_PROBE });
	CHECK_EQ(p.need, 0);	/* probe needs nothing: without them, it reports "not permitted" */
	CHECK_EQ(p.want & (B(SYS_ADMIN) | B(NET_ADMIN) | B(BPF)), B(SYS_ADMIN) | B(NET_ADMIN) | B(BPF));
	p = plan((struct caps_req){ .cmd = CAPS_CALIBRATE });
	CHECK_EQ(p.need, B(SYS_ADMIN) | B(NET_ADMIN) | B(BPF) | B(PERFMON));
	p = plan((struct caps_req){ .cmd = CAPS_DEMO });
	CHECK_EQ(p.need, B(SYS_ADMIN) | B(NET_ADMIN));
	p = plan((struct caps_req){ .cmd = CAPS_CLEANUP });
	CHECK_EQ(p.need, B(NET_ADMIN));
	CHECK(strstr(p.what[CAP_NET_ADMIN], "restore") != NULL);
	p = plan((struct caps_req){ .cmd = CAPS_RELAY, .fifo = 1 });
	CHECK_EQ(p.need, 0);
	CHECK_EQ(p.want, B(SYS_NICE) | B(IPC_LOCK));
	/* names and formatting */
	CHECK(!strcmp(caps_name(CAP_NET_ADMIN), "CAP_NET_ADMIN"));
	CHECK(!strcmp(caps_name(CAP_BPF), "CAP_BPF"));
	CHECK(!strcmp(caps_name(CAP_PERFMON), "CAP_PERFMON"));
	CHECK(!strcmp(caps_format(B(NET_ADMIN) | B(BPF), buf, sizeof(buf)),
		      "CAP_NET_ADMIN,CAP_BPF"));
	CHECK(!strcmp(caps_format(0, buf, sizeof(buf)), "none"));
	/* every capability any plan uses has a PRIVILEGES line */
	p = ANY(.backend = "auto", .watch = 1, .fifo = 1, .powersave = 1, .no_bpffs = 1,
		.no_tracefs = 1, .low_port = 1);
	for (unsigned i = 0; i < 64; i++) {
		int documented = 0;

		for (const struct caps_doc *d = caps_docs; d->text; d++) {
			documented |= d->cap == i;
		}
		if ((p.need | p.want) & CAPS_BIT(i)) {
			CHECK(documented);
		}
	}
	return unit_done("test_caps");
}
