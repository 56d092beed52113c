/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The machine's own noise during a run (/proc/stat's aggregate cpu line): time stolen by the
 * hypervisor and spent in interrupts, so that a researcher can tell a loud host from a bad
 * pacer; and the process's CPU time (getrusage).
 */
#ifndef TXPACE_SYSSTAT_H
#define TXPACE_SYSSTAT_H

#include <stdint.h>

struct sys_stat {
	uint64_t total_ms, irq_ms, softirq_ms, steal_ms;	/* all CPUs together */
	int64_t proc_cpu_ns;					/* this process, user + system */
	int64_t proc_sleeps;	/* this process's voluntary context switches, every thread: its sleeps */
	int ncpu;
};

/** Read now's counters. @return 0, or -errno (the fields that could not be read are 0) */
int sys_stat_read(struct sys_stat *s);
/** @out = @b - @a, field by field */
void sys_stat_delta(const struct sys_stat *a, const struct sys_stat *b, struct sys_stat *out);

#endif
