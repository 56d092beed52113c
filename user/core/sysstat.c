// SPDX-License-Identifier: GPL-2.0-only
/* /proc/stat's cpu line and getrusage, for the report's machine and cost figures. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "txpace/sysstat.h"

int sys_stat_read(struct sys_stat *s)
{
	unsigned long long v[10] = { 0 };
	long hz = sysconf(_SC_CLK_TCK);
	struct rusage ru;
	FILE *f = fopen("/proc/stat", "re");
	int n = 0;

	memset(s, 0, sizeof(*s));
	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		s->proc_cpu_ns = ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL +
				 ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
		s->proc_sleeps = ru.ru_nvcsw;
	}
	s->ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (!f) {
		return -errno;
	}
	/* cpu user nice system idle iowait irq softirq steal guest guest_nice (USER_HZ ticks) */
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
		   &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
	fclose(f);
	if (n < 8 || hz <= 0) {
		return -EIO;
	}
	for (int i = 0; i < 8; i++) {
		s->total_ms += v[i] * 1000 / (unsigned long long)hz;
	}
	s->irq_ms = v[5] * 1000 / (unsigned long long)hz;
	s->softirq_ms = v[6] * 1000 / (unsigned long long)hz;
	s->steal_ms = v[7] * 1000 / (unsigned long long)hz;
	return 0;
}

void sys_stat_delta(const struct sys_stat *a, const struct sys_stat *b, struct sys_stat *out)
{
	out->total_ms = b->total_ms - a->total_ms;
	out->irq_ms = b->irq_ms - a->irq_ms;
	out->softirq_ms = b->softirq_ms - a->softirq_ms;
	out->steal_ms = b->steal_ms - a->steal_ms;
	out->proc_cpu_ns = b->proc_cpu_ns - a->proc_cpu_ns;
	out->proc_sleeps = b->proc_sleeps - a->proc_sleeps;
	out->ncpu = b->ncpu;
}
