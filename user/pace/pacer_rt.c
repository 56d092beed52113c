// SPDX-License-Identifier: GPL-2.0-only
/* Pacer backend rt: SCHED_FIFO thread, mlockall, optional CPU pin, absolute sleep then spin. */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>

#include "txpace/memlock.h"
#include "txpace/clock.h"
#include "txpace/log.h"
#include "txpace/pacer.h"
#include "txpace/spin.h"

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
	__asm__ __volatile__("yield");
#endif
}

static int rt_setup(struct pacer *p)
{
	const struct pacer_cfg *c = pacer_cfg(p);
	struct pacer_stats *st = pacer_stats(p);

	/* what is resident and every later fault (txpace/memlock.h); a second mlockall walks every mapping again */
	if (c->memory_locked || mem_lock() == 0) {
		atomic_store(&st->mlocked, 1);
	} else {
		pr_warn("mlockall failed (%s): page faults may delay packets", strerror(errno));
	}
	if (c->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(c->cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) == 0) {
			atomic_store(&st->pinned, 1);
		} else {
			pr_warn("cannot pin the pacer to CPU %d (%s): running unpinned", c->cpu,
				strerror(errno));
		}
	}
	if (c->prio > 0) {
		struct sched_param sp = { .sched_priority = c->prio };

		if (sched_setscheduler(0, SCHED_FIFO, &sp) == 0) {
			atomic_store(&st->fifo, 1);
		} else {
			pr_warn("no SCHED_FIFO priority %d (%s): running at normal priority; run as "
				"root or raise RLIMIT_RTPRIO",
				c->prio, strerror(errno));
		}
	}
	return 0;
}

#define SLICE_NS (50 * NSEC_PER_MSEC)

static void rt_wait(struct pacer *p, int64_t deadline)
{
	struct spin_auto *sa = pacer_spin(p);
	int64_t spin = sa ? spin_auto_window(sa) : pacer_cfg(p)->spin_ns, wake = deadline - spin;
	clockid_t clk = pacer_cfg(p)->clock;
	struct pacer_stats *st = pacer_stats(p);
	struct timespec ts;
	int64_t now;

	/* a far deadline (--start-at) is slept in slices, so an abort is noticed */
	while (wake - clock_ns(clk) > SLICE_NS) {
		if (pacer_aborted(p)) {
			return;
		}
		ts = ns_to_ts(clock_ns(clk) + SLICE_NS);
		clock_nanosleep(clk, TIMER_ABSTIME, &ts, NULL);
	}
	now = clock_ns(clk);
	if (now < wake) {
		ts = ns_to_ts(wake);
		while (clock_nanosleep(clk, TIMER_ABSTIME, &ts, NULL) == EINTR) {
		}
		now = clock_ns(clk);
		pacer_woke(p, now - wake);
	}
	if (spin > 0 && now < deadline) {
		while (clock_ns(clk) < deadline) {
			cpu_relax();
		}
		atomic_fetch_add_explicit(&st->spin_ns, (uint64_t)(clock_ns(clk) - now),
					  memory_order_relaxed);
	}
}

const struct pacer_backend pacer_rt = {
	.name = "rt",
	.desc = "real-time thread: SCHED_FIFO, locked memory, absolute sleep to a margin (--spin, "
		"auto: the wake-ups' own p99), then spin",
	.setup = rt_setup,
	.wait = rt_wait,
};
