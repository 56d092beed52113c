/* SPDX-License-Identifier: GPL-2.0-only */
/* The pacer: takes built packets from the ring and makes each leave at its launch time. */
#ifndef TXPACE_PACER_H
#define TXPACE_PACER_H

#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "txpace/hist.h"

struct ring;
struct history;
struct clocks;
struct kpace;

struct pacer_cfg {
	const char *backend;	/* "rt" or "sleep" (the relative-sleep baseline) */
	int64_t spin_ns;	/* rt: sleep to deadline - spin, then spin; 0 = no spin; PACER_SPIN_AUTO */
	int prio;		/* rt: SCHED_FIFO priority, 0 = normal scheduling */
	int cpu;		/* rt: pin to this CPU, -1 = no pinning */
	int memory_locked;	/* rt: the caller already holds mem_lock() (txpace/memlock.h) */
	unsigned max_burst;	/* at most this many packets back to back when catching up */
	int64_t late_ns;	/* a packet leaving later than launch + this is late */
	int64_t ptime_ns;	/* packet interval of the schedule */
	int timestamps;		/* ask the kernel for SCHED/SND departure stamps */
	clockid_t clock;	/* the clock launch times are in: MONOTONIC, or REALTIME for PTP */
	/* kernel backends (edt, etf) */
	struct kpace *kp;	/* edt with BPF stamps: the schedule ring (NULL: SO_TXTIME) */
	int64_t lead_ns;	/* hand packets to the kernel this long before their launch time */
	int64_t txtime_offset_ns;	/* added to SO_TXTIME times (software etf: its delta) */
};

/* Counters are atomics so the status line can read them while the pacer runs. */
#define PACER_SPIN_AUTO (-1)	/* spin_ns: the window follows the wake-up lateness (txpace/spin.h) */

struct pacer_stats {
	_Atomic uint64_t sent, late, send_errors, refused, icmp_errors, underruns, burst_limited;
	_Atomic uint64_t early;		/* stamps before the launch time (clock conversion) */
	_Atomic uint64_t dropped;	/* refused by the qdisc (ENOBUFS: fq horizon or flow limit) */
	_Atomic uint64_t txtime_invalid, txtime_missed;	/* etf's error-queue reports */
	_Atomic uint32_t first_drop_seq, last_drop_seq;
	_Atomic uint64_t xmit_reordered;	/* --watch: reached the driver before an earlier packet */
	_Atomic int last_error;		/* errno of the last send/ICMP error */
	/* the first and last datagram that came back (their first bytes; read after the join) */
	uint8_t first_bounce[16], last_bounce[16];
	_Atomic int fifo, mlocked, pinned; /* what the rt backend obtained */
	struct hist dep_user;	/* |sendmsg entry - launch| */
	struct hist dep_sched;	/* |SCHED stamp - launch| (before the qdisc) */
	struct hist dep_snd;	/* |SND stamp - launch| (driver hand-off) */
	struct hist dep_xmit;	/* |net_dev_start_xmit - launch|, from the schedule ring (--watch) */
	/* what pacing cost: the pacer thread's wake-ups, how late they came, its spinning, CPU */
	struct hist wake_late;	/* clock_nanosleep's return - the time asked for */
	_Atomic uint64_t wakeups;	/* returns from a timed sleep (slices of long waits included) */
	_Atomic uint64_t spin_ns;	/* time spent spinning before deadlines */
	_Atomic int64_t cpu_ns;		/* the pacer thread's CPU time, set when it ends */
	_Atomic int64_t spin_window_ns, spin_window_min_ns, spin_window_max_ns; /* auto: the window */
	_Atomic uint64_t spin_window_changes;
};

struct pacer;

/**
 * @fd a connected UDP socket; packets come from @ring, copies go to @hist (may be NULL)
 * @return the pacer or NULL (errno EINVAL for an unknown backend)
 */
struct pacer *pacer_new(const struct pacer_cfg *cfg, int fd, struct ring *ring,
			struct history *hist, struct clocks *clk);
void pacer_free(struct pacer *p);
/** Start the pacer thread and wait until its setup is done. @return 0 or -errno */
int pacer_start(struct pacer *p);
/* The pacer ends when the producer has closed the ring and every packet in it has left. */
/** Ask the pacer to stop now, leaving the rest of the ring unsent. */
void pacer_abort(struct pacer *p);
/** @return 1 once pacer_abort() was called (backends poll it in long waits) */
int pacer_aborted(const struct pacer *p);
/** @return 1 once the pacer thread has ended */
int pacer_done(struct pacer *p);
/** Wait for the thread. @return 0, or the negative errno that stopped it */
int pacer_join(struct pacer *p);
struct pacer_stats *pacer_stats(struct pacer *p);
/** @return the departure-error histogram that best describes departure (SND > SCHED > user) */
const struct hist *pacer_departure(struct pacer *p, const char **which);

/* Backends: one file each. */
struct pacer_backend {
	const char *name;
	const char *desc;
	int (*setup)(struct pacer *p);		/* in the pacer thread, before the first packet */
	void (*wait)(struct pacer *p, int64_t deadline_ns);
	/*
	 * Kernel backends: packets are handed over lead_ns before their launch time and the kernel
	 * releases them; txtime_clock is the SO_TXTIME clock (-1: none, the BPF ring stamps).
	 */
	int kernel;
	clockid_t txtime_clock;
};

extern const struct pacer_backend pacer_rt, pacer_sleep, pacer_edt, pacer_edt_txtime, pacer_etf;
/** @return the backend called @name, or NULL */
const struct pacer_backend *pacer_backend_find(const char *name);
const struct pacer_cfg *pacer_cfg(const struct pacer *p);
/** rt with PACER_SPIN_AUTO: the window's state (NULL otherwise) */
struct spin_auto *pacer_spin(struct pacer *p);
/** A timed sleep ended @late_ns after the time asked for (backends call it after each). */
void pacer_woke(struct pacer *p, int64_t late_ns);
/** @return CLOCK_MONOTONIC time the previous packet was handed to the kernel (0 before any) */
int64_t pacer_last_send(const struct pacer *p);

#endif
