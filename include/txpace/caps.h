/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Least privilege. What a command needs is a pure table (caps_plan(): which capability, for
 * what, kept how long); the process side (libcap, user/core/caps.c only) checks it before
 * anything changes, limits the process to it, and lowers it once set up: CAP_NET_ADMIN stays
 * permitted but not effective, raised around the qdisc changes and the restore; the rest goes.
 * Capabilities are per thread: the main thread settles before the threads that need nothing
 * are created, and the pacer thread settles itself once its SCHED_FIFO and mlockall are done.
 * Every call but caps_plan() and the names is a no-op until caps_begin() armed it (a program
 * that links the library and never calls caps_begin() keeps its capabilities as they are).
 */
#ifndef TXPACE_CAPS_H
#define TXPACE_CAPS_H

#include <stddef.h>
#include <stdint.h>

/* a set of capabilities: bit N is capability N of <linux/capability.h> */
#define CAPS_BIT(n) (UINT64_C(1) << (n))

enum caps_cmd {
	CAPS_SEND, CAPS_RELAY, CAPS_MEASURE, CAPS_PROBE, CAPS_CALIBRATE, CAPS_CLEANUP, CAPS_DEMO,
	CAPS_LIST,
};

/* What a run will do, and the machine facts that change what that takes. */
struct caps_req {
	enum caps_cmd cmd;
	const char *backend;	/* send: edt, etf, rt, sleep, or auto (not chosen yet) */
	int bpf_stamp;		/* edt: the egress program stamps (not SO_TXTIME) */
	int watch;		/* --watch: watchdog + driver hand-off program */
	int powersave;		/* Wi-Fi power save is to be turned off */
	int fifo;		/* --prio > 0: a SCHED_FIFO thread */
	int low_port;		/* binds a port below 1024 (PTP 319/320: AirPlay 2) */
	/* facts (caps_req_facts()) */
	int root;		/* euid 0: root-owned files (tracefs) are the process's own */
	int btf;		/* kernel BTF: the tp_btf hand-off program, no tracefs */
	int no_bpffs;		/* /sys/fs/bpf is not bpffs: it is mounted (and unmounted) */
	int no_tracefs;		/* /sys/kernel/tracing is not tracefs: mounted for the reads */
};

struct caps_plan {
	uint64_t need;		/* refused without any of them, before anything changes */
	uint64_t want;		/* without them: one warning each, and less precise pacing */
	uint64_t setup;		/* effective while setting up (need | want) */
	uint64_t thread;	/* effective in the pacer thread while it sets itself up */
	uint64_t keep;		/* permitted after set-up, effective only around changes */
	uint64_t run;		/* effective in every thread for the whole run (CAP_IPC_LOCK: under
				 * mlockall(MCL_FUTURE) every later mapping, a thread's stack, is
				 * locked and counted against RLIMIT_MEMLOCK without it) */
	/* per capability (bit index): who needs it and for what, "" when unused */
	const char *who[64], *what[64];
};

/** The decision table: what @r takes. Pure (no system calls). */
void caps_plan(const struct caps_req *r, struct caps_plan *p);
/** Fill @r's facts from this machine (euid, BTF, bpffs, tracefs). */
void caps_req_facts(struct caps_req *r);
/** "CAP_NET_ADMIN" for bit @n ("CAP_?" beyond the known ones). */
const char *caps_name(unsigned n);
/** @set as "CAP_A,CAP_B" (or "none") into @buf. @return @buf */
char *caps_format(uint64_t set, char *buf, size_t len);
/** One row per capability the table knows: its bit, and a line for txpace(8)'s PRIVILEGES. */
struct caps_doc {
	unsigned cap;
	const char *text;
};
extern const struct caps_doc caps_docs[];

/** The calling thread's effective and permitted sets. @return 0 or -errno */
int caps_get(uint64_t *eff, uint64_t *prm);
/**
 * Is everything @p needs permitted? Before anything changes. A missing "want" is a warning.
 * @return 0, or -EPERM with one line in @err naming the first missing capability and its use
 */
int caps_check(const struct caps_plan *p, char *err, size_t errlen);
/**
 * Arm, and limit the process to what @p can use: no new privileges on execve, the bounding set
 * reduced (where CAP_SETPCAP allows), no inheritable or ambient capabilities, permitted =
 * what @p uses, effective = its set-up set. @return 0 or -errno with @err
 */
int caps_begin(const struct caps_plan *p, char *err, size_t errlen);
/** Set-up is over but for the threads: permitted keep | thread | run, effective thread | run. */
void caps_setup_done(const struct caps_plan *p);
/** The threads are set up: this (main) thread keeps keep | run permitted, run effective. */
void caps_settle(const struct caps_plan *p);
/** A worker thread done with its set-up: it keeps only the run set (its own sets only). */
void caps_thread_settle(void);
/** Raise the permitted ones of @mask to effective; @saved: the effective set before. */
void caps_raise(uint64_t mask, uint64_t *saved);
/** Put the effective set back to what caps_raise() saved. */
void caps_restore(uint64_t saved);
/** @return 1 once caps_begin() has run */
int caps_armed(void);

#endif
