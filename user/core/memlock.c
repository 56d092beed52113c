// SPDX-License-Identifier: GPL-2.0-only
/* Memory locking: MCL_ONFAULT, prefaulting, and the process's RSS and locked size. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "txpace/memlock.h"

#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif

int mem_lock(void)
{
	if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) == 0) {
		return 0;
	}
	if (errno == EINVAL && mlockall(MCL_CURRENT | MCL_FUTURE) == 0) {
		return 0;
	}
	return -errno;
}

void mem_prefault(void *p, size_t n)
{
	long pg = sysconf(_SC_PAGESIZE);
	volatile char *c = p;

	if (pg <= 0) {
		pg = 4096;
	}
	for (size_t i = 0; i < n; i += (size_t)pg) {
		c[i] = c[i];
	}
	if (n) {
		c[n - 1] = c[n - 1];
	}
}

void mem_prefault_stack(size_t bytes)
{
	/* a VLA, not alloca: its size is bounded by the caller and the compiler keeps it */
	volatile char buf[bytes];

	memset((char *)buf, 0, bytes);
	__asm__ __volatile__("" : : "r"(buf) : "memory");
}

/*
 * smaps_rollup's Locked counts the resident pages of locked mappings; status's VmLck counts
 * whole mappings, which under MCL_ONFAULT is every library's size whether touched or not.
 */
int mem_usage(long *rss_kib, long *locked_kib)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "re");
	const char *lck = "Locked: %ld kB", *rss = "Rss: %ld kB";
	char line[256];

	*rss_kib = *locked_kib = -1;
	if (!f) {
		f = fopen("/proc/self/status", "re");	/* before 4.14 */
		lck = "VmLck: %ld kB";
		rss = "VmRSS: %ld kB";
	}
	if (!f) {
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, rss, rss_kib);
		sscanf(line, lck, locked_kib);
	}
	fclose(f);
	return *rss_kib >= 0 && *locked_kib >= 0 ? 0 : -ENOENT;
}
