/* SPDX-License-Identifier: GPL-2.0-only */
/* The stream's state, shared by its three files (pipeline, main-thread control, results). */
#ifndef TXPACE_STREAM_INT_H
#define TXPACE_STREAM_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "txpace/caps.h"
#include "txpace/sysstat.h"
#include "txpace/profile.h"
#include "txpace/sched.h"
#include "txpace/stream.h"

/* Pause and seek: the main thread <-> producer hand-off in stream.ctl. */
enum { CTL_RUN, CTL_PAUSE_REQ, CTL_PAUSED, CTL_RESUME };

struct stream {
	struct stream_cfg cfg;	/* the caller's, backend and stamp resolved */
	char auto_reason[256];	/* why auto chose the backend */
	struct stream_desc d;
	void *prof;
	struct source *src;
	struct ring *ring;
	struct clocks *clk;
	struct pacer *pacer;
	struct kpace *kp;
	struct caps_plan caps;	/* what the chosen backend takes (txpace/caps.h) */
	struct schedule sched;
	uint64_t limit;		/* packets, 0 = until the source ends */
	int64_t total_pkts;	/* -1 unknown */
	_Atomic uint64_t built;
	_Atomic int producer_done, stop;
	int producer_rc, profile_rc;
	int interrupted;
	int64_t t_begin;
	int64_t t_start;	/* stream_start: the cost figures run from here */
	struct sys_stat stat0;	/* the machine's and the process's counters then */
	pthread_t producer;
	int pacer_started, producer_started;
	char perr[256];		/* the profile's reason when it lost the receiver */
	/* pause and seek: main <-> producer hand-off */
	_Atomic int ctl;
	uint64_t pause_k;	/* producer -> main, published by CTL_PAUSED */
	int64_t seek_frames;	/* main -> producer, published by CTL_RESUME */
	int flushed, flush_sent, auto_resume;
	/* the main thread's loop */
	int64_t next_status, next_prof;
};

/** "12.3 us" below 10 ms, else "12.3 ms" */
void stream_fmt_us(char *b, size_t n, uint64_t ns);

#endif
