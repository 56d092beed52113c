/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Locking only what the hot path touches. mlockall(MCL_CURRENT | MCL_FUTURE) faults in and
 * locks every page of every mapped library (FFmpeg's pull in 260 MB: icudata, codec2, x265,
 * ...); with MCL_ONFAULT only the pages already resident and those faulted later are locked,
 * so the buffers the hot path uses are touched (prefaulted) before it runs.
 */
#ifndef TXPACE_MEMLOCK_H
#define TXPACE_MEMLOCK_H

#include <stddef.h>

/**
 * mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT), or without MCL_ONFAULT where the kernel
 * has none (before 4.4). @return 0 or -errno
 */
int mem_lock(void);
/** Touch every page of [@p, @p + @n) (written, so a private page is the process's own). */
void mem_prefault(void *p, size_t n);
/** Touch @bytes of the calling thread's stack below the caller's frame. */
void mem_prefault_stack(size_t bytes);
/** This process's resident and locked (resident in locked mappings) memory, KiB. @return 0 or -errno */
int mem_usage(long *rss_kib, long *locked_kib);

#endif
