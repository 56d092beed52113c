// SPDX-License-Identifier: GPL-2.0-only
/*
 * Least privilege, the decision table: which capability each command and backend takes, for
 * what, and how long it is kept. Pure: the process side is caps.c's.
 */
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>

#include "txpace/caps.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

enum { NEED = 1, WANT = 2 };		/* (a rule's kind; MAYBE: need unless not yet known) */
enum { SETUP = 1, THREAD = 2, KEEP = 4, RUN = 8 };	/* when it is effective or permitted */

/* One row: capability, kind, when, whether it applies, who needs it and what for. */
struct rule {
	unsigned cap;
	int kind, when;
	int (*applies)(const struct caps_req *r);
	const char *who, *what;
};

static int is(const struct caps_req *r, const char *b)
{
	return r->backend && !strcmp(r->backend, b);
}

static int send_like(const struct caps_req *r)
{
	return r->cmd == CAPS_SEND;
}

static int edt(const struct caps_req *r) { return send_like(r) && is(r, "edt"); }
static int etf(const struct caps_req *r) { return send_like(r) && is(r, "etf"); }
static int edt_bpf(const struct caps_req *r) { return edt(r) && r->bpf_stamp; }
static int watch(const struct caps_req *r) { return send_like(r) && r->watch; }
static int watch_tracefs(const struct caps_req *r) { return watch(r) && !r->btf && !r->root; }
static int watch_mount(const struct caps_req *r) { return watch(r) && !r->btf && r->no_tracefs; }
static int bpffs(const struct caps_req *r)
{
	return (edt_bpf(r) || watch(r)) && r->no_bpffs;
}
static int powersave(const struct caps_req *r) { return send_like(r) && r->powersave; }
static int rt_fifo(const struct caps_req *r)
{
	return (send_like(r) && is(r, "rt") && r->fifo) || (r->cmd == CAPS_RELAY && r->fifo);
}
static int paced(const struct caps_req *r)
{
	return (send_like(r) && !is(r, "sleep")) || r->cmd == CAPS_RELAY;
}
static int low_port(const struct caps_req *r) { return send_like(r) && r->low_port; }
static int probing(const struct caps_req *r) { return r->cmd == CAPS_PROBE; }
static int probing_fifo(const struct caps_req *r)
{
	return r->cmd == CAPS_PROBE || r->cmd == CAPS_CALIBRATE || r->cmd == CAPS_DEMO;
}
static int calibrate(const struct caps_req *r) { return r->cmd == CAPS_CALIBRATE; }
static int demo(const struct caps_req *r) { return r->cmd == CAPS_DEMO; }
static int cleanup(const struct caps_req *r) { return r->cmd == CAPS_CLEANUP; }

#define NS_TEST "test fq, etf and cls_bpf on a veth pair in a throwaway network namespace"
static const struct rule rules[] = {
	{ CAP_NET_ADMIN, NEED, SETUP | KEEP, edt, "the edt backend",
	  "install root fq, and restore the qdiscs at exit" },
	{ CAP_BPF, NEED, SETUP, edt_bpf, "the edt backend", "load the egress program" },
	{ CAP_PERFMON, WANT, SETUP, edt_bpf, "the edt backend",
	  "load the egress program as root does (the verifier is stricter with its pointer reads "
	  "without it: a 32-bit ARM kernel with its JIT on refused it with EACCES)" },
	{ CAP_NET_ADMIN, NEED, SETUP | KEEP, etf, "the etf backend",
	  "install etf, SO_TXTIME on CLOCK_TAI, and restore the qdiscs at exit" },
	{ CAP_NET_ADMIN, NEED, SETUP | KEEP, watch, "--watch",
	  "attach the egress program on clsact, and remove it at exit" },
	{ CAP_BPF, NEED, SETUP, watch, "--watch", "load the deadline watchdog" },
	{ CAP_PERFMON, NEED, SETUP, watch, "--watch",
	  "load and attach the driver hand-off tracepoint program" },
	{ CAP_DAC_READ_SEARCH, NEED, SETUP, watch_tracefs, "--watch without kernel BTF",
	  "read the tracepoint's format and id in tracefs, which is root's" },
	{ CAP_SYS_ADMIN, NEED, SETUP, watch_mount, "--watch without kernel BTF",
	  "mount tracefs for the tracepoint's format and id" },
	{ CAP_SYS_ADMIN, NEED, SETUP | KEEP, bpffs, "the BPF programs",
	  "mount bpffs on /sys/fs/bpf for their pinned maps, and unmount it at exit" },
	{ CAP_NET_ADMIN, NEED, SETUP | KEEP, powersave, "Wi-Fi",
	  "turn power save off for the stream (nl80211), and back on at exit" },
	{ CAP_NET_BIND_SERVICE, NEED, SETUP, low_port, "AirPlay 2", "bind the PTP ports 319 and 320" },
	{ CAP_NET_ADMIN, WANT, SETUP | KEEP, low_port, "AirPlay 2",
	  "hardware PTP stamps: turn the NIC's TX timestamping on for the stream (SIOCSHWTSTAMP), and "
	  "back at exit (else software stamps)" },
	{ CAP_SYS_NICE, WANT, THREAD, rt_fifo, "the rt backend",
	  "SCHED_FIFO for the pacer thread (else it runs at normal priority; --prio 0 asks none)" },
	{ CAP_IPC_LOCK, WANT, THREAD | RUN, paced, "the pacer",
	  "lock its memory (mlockall: no page faults on the send path)" },
	{ CAP_SYS_ADMIN, WANT, SETUP, probing, "probe", NS_TEST " (else: not permitted)" },
	{ CAP_NET_ADMIN, WANT, SETUP, probing, "probe", NS_TEST " (else: not permitted)" },
	{ CAP_BPF, WANT, SETUP, probing, "probe",
	  "load the egress program and the bpf_timer test program (else: not permitted)" },
	{ CAP_SYS_NICE, WANT, SETUP | THREAD, probing_fifo, "probe",
	  "say whether SCHED_FIFO is allowed; demo and --calibrate: the rt pacer's priority" },
	{ CAP_IPC_LOCK, WANT, SETUP | THREAD, probing_fifo, "probe",
	  "say whether mlockall is allowed; demo and --calibrate: lock the pacer's memory" },
	{ CAP_SYS_ADMIN, NEED, SETUP, calibrate, "probe --calibrate",
	  "create the throwaway network namespaces it measures in" },
	{ CAP_NET_ADMIN, NEED, SETUP, calibrate, "probe --calibrate",
	  "create the veth pair and install fq and etf on it" },
	{ CAP_BPF, NEED, SETUP, calibrate, "probe --calibrate", "load the egress program" },
	{ CAP_PERFMON, NEED, SETUP, calibrate, "probe --calibrate",
	  "load the egress program's tracing helpers" },
	{ CAP_SYS_ADMIN, NEED, SETUP, demo, "demo", "create its two network namespaces" },
	{ CAP_NET_ADMIN, NEED, SETUP, demo, "demo", "create the veth pair between them" },
	{ CAP_NET_ADMIN, NEED, SETUP, cleanup, "cleanup",
	  "restore the qdiscs, filters and Wi-Fi power save a crashed txpace left" },
	{ CAP_SYS_ADMIN, WANT, SETUP, cleanup, "cleanup", "unmount a bpffs txpace mounted" },
};
#define NRULES (sizeof(rules) / sizeof(rules[0]))

/* One backend's rows added to @p; @soft: what it needs is only wanted (auto: not chosen yet). */
static void plan_add(const struct caps_req *r, struct caps_plan *p, int soft)
{
	for (size_t i = 0; i < NRULES; i++) {
		const struct rule *u = &rules[i];
		uint64_t b = CAPS_BIT(u->cap);
		int need = u->kind == NEED && !soft;

		if (!u->applies(r)) {
			continue;
		}
		/* Wi-Fi power save not known yet (2): only wanted */
		if (u->applies == powersave && r->powersave == 2) {
			need = 0;
		}
		/* the first row names it, but a need outranks a want */
		if (!p->who[u->cap] || (need && !(p->need & b))) {
			p->who[u->cap] = u->who;
			p->what[u->cap] = u->what;
		}
		if (need) {
			p->need |= b;
		} else {
			p->want |= b;
		}
		if (u->when & SETUP) {
			p->setup |= b;
		}
		if (u->when & THREAD) {
			p->thread |= b;
		}
		if (u->when & KEEP) {
			p->keep |= b;
		}
		if (u->when & RUN) {
			p->run |= b;
		}
	}
}

void caps_plan(const struct caps_req *r, struct caps_plan *p)
{
	memset(p, 0, sizeof(*p));
	if (r->cmd == CAPS_SEND && is(r, "auto")) {
		/* the backend is chosen during set-up: what any choice could use, none needed yet */
		static const char *const any[] = { "edt", "etf", "rt" };
		struct caps_req c = *r;

		for (size_t i = 0; i < sizeof(any) / sizeof(any[0]); i++) {
			c.backend = any[i];
			c.bpf_stamp = !strcmp(any[i], "edt");
			plan_add(&c, p, 1);
		}
		c.cmd = CAPS_PROBE;	/* its choice is probe's: the throwaway namespace */
		plan_add(&c, p, 1);
		return;
	}
	plan_add(r, p, 0);
	p->want &= ~p->need;
}

static const char *const names[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
	"CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
	"CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
	"CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
};

const char *caps_name(unsigned n)
{
	return n < sizeof(names) / sizeof(names[0]) ? names[n] : "CAP_?";
}

char *caps_format(uint64_t set, char *buf, size_t len)
{
	size_t l = 0;

	if (len) {
		buf[0] = 0;
	}
	for (unsigned i = 0; i < 64 && len; i++) {
		if (set & CAPS_BIT(i)) {
			int n = snprintf(buf + l, len - l, "%s%s", l ? "," : "", caps_name(i));

			if (n < 0 || (size_t)n >= len - l) {
				break;
			}
			l += (size_t)n;
		}
	}
	if (len && !l) {
		snprintf(buf, len, "none");
	}
	return buf;
}

const struct caps_doc caps_docs[] = {
	{ CAP_NET_ADMIN, "send --backend edt|etf, --watch, Wi-Fi power save, AirPlay 2's hardware "
	  "PTP stamps; cleanup; demo; probe --calibrate: change the root qdisc, clsact and its "
	  "filter, SO_TXTIME on CLOCK_TAI (etf), power save (nl80211), the NIC's TX timestamping "
	  "(SIOCSHWTSTAMP; without it AirPlay 2 uses software stamps). Kept permitted but not "
	  "effective while the stream runs, raised to restore the interface (and to re-attach a "
	  "removed qdisc)." },
	{ CAP_BPF, "send --backend edt (BPF stamps), --watch; probe --calibrate: load the egress "
	  "program, the deadline watchdog and their maps. Dropped after set-up." },
	{ CAP_PERFMON, "--watch: load and attach the driver hand-off tracepoint program. Dropped "
	  "after set-up." },
	{ CAP_SYS_NICE, "the rt backend (and relay, demo, --calibrate): SCHED_FIFO for the pacer "
	  "thread (--prio). Without it (and without RLIMIT_RTPRIO) the pacer runs at normal "
	  "priority and says so. Dropped once the pacer thread is set up." },
	{ CAP_IPC_LOCK, "every pacer but sleep: mlockall, so the send path takes no page faults. "
	  "Without it (and without an unlimited RLIMIT_MEMLOCK) it says so and runs unlocked. "
	  "Kept effective while the stream runs: under mlockall(MCL_FUTURE) every later mapping "
	  "(a thread's stack, a large buffer) is locked, and counted against RLIMIT_MEMLOCK "
	  "without it." },
	{ CAP_SYS_ADMIN, "demo and probe --calibrate: network namespaces; probe and --backend auto: "
	  "the throwaway namespace that shows whether fq, etf and cls_bpf work (without it they "
	  "are reported as not permitted and auto picks rt); mounting bpffs or tracefs where they "
	  "are not mounted. Not given by the package." },
	{ CAP_DAC_READ_SEARCH, "--watch on a kernel without BTF run by a user other than root: "
	  "tracefs is root's, and the tracepoint's format and id are read there. Not given by "
	  "the package." },
	{ CAP_NET_BIND_SERVICE, "AirPlay 2 (not yet): binding the PTP ports 319 and 320." },
	{ 0, NULL },
};
