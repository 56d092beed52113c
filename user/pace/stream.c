// SPDX-License-Identifier: GPL-2.0-only
/* The stream pipeline: open and set up, the producer thread, start, join, finish, close. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "txpace/caps.h"
#include "txpace/muldiv.h"
#include "txpace/clock.h"
#include "txpace/history.h"
#include "txpace/kpace.h"
#include "txpace/log.h"
#include "txpace/pacer.h"
#include "txpace/probe.h"
#include "txpace/ring.h"
#include "txpace/source.h"
#include "stream_int.h"

void stream_cfg_init(struct stream_cfg *cfg)
{
	*cfg = (struct stream_cfg){
		.profile = &profile_rtp, .backend = "auto", .spin_ns = PACER_SPIN_AUTO,
		.prio = 80, .cpu = -1, .max_burst = 4, .late_ns = 1000 * NSEC_PER_USEC,
		.lookahead_ns = 100 * NSEC_PER_MSEC, .start_delay_ns = 50 * NSEC_PER_MSEC,
		.timestamps = 1, .lead_ns = 20 * NSEC_PER_MSEC, .grace_ns = 1000 * NSEC_PER_USEC,
		.etf_delta_ns = 1000 * NSEC_PER_USEC,
	};
	cfg->p = (struct profile_opts){
		.bits = 24, .rate = 48000, .channels = 2, .ttl = 1, .dscp = 34, .pt = 96,
		.ptime_ns = NSEC_PER_MSEC, .latency_ns = 2 * NSEC_PER_SEC, .alac = ALAC_COMPRESSED,
		.timeout_ms = 5000, .keepalive_ns = 25 * NSEC_PER_SEC,
		.lock_timeout_ns = 60 * NSEC_PER_SEC, .sap_interval_ns = 30 * NSEC_PER_SEC,
	};
}

static const char *pacer_name(const struct stream_cfg *o)
{
	if (!strcmp(o->backend, "edt") && o->stamp && !strcmp(o->stamp, "txtime")) {
		return "edt-txtime";
	}
	return o->backend;
}

/* What the chosen backend takes (txpace/caps.h), checked before anything changes. */
static int stream_caps(struct stream *s, int powersave, char *err, size_t errlen)
{
	const struct stream_cfg *o = &s->cfg;
	struct caps_req r = {
		.cmd = CAPS_SEND, .backend = o->backend, .watch = o->watch, .powersave = powersave,
		.bpf_stamp = !strcmp(o->backend, "edt") && !strcmp(o->stamp, "bpf"),
		.fifo = o->prio > 0, .low_port = o->profile == &profile_airplay2,
	};

	caps_req_facts(&r);
	caps_plan(&r, &s->caps);
	return caps_check(&s->caps, err, errlen);
}

/*
 * Choose the backend (auto) and set the kernel up for it: qdisc, egress program, watchdog, Wi-Fi
 * power save. Nothing is changed for rt/sleep without --watch on a wired interface.
 */
static int kernel_setup(struct stream *s, char *err, size_t errlen)
{
	struct stream_cfg *o = &s->cfg;
	struct kpace_cfg kc = {
		.ifname = o->p.iface, .ptime_ns = sched_ptime_ns(&s->sched), .lead_ns = o->lead_ns,
		.grace_ns = o->grace_ns, .fq_horizon_us = (uint32_t)(o->fq_horizon_ns / 1000),
		.etf_delta_ns = (int32_t)o->etf_delta_ns, .watch = o->watch, .powersave_off = !o->keep_powersave,
		.untimed = o->profile->untimed_for ? o->profile->untimed_for(&o->p)
						   : o->profile->untimed_traffic,
	};
	int kernel, ps;

	if (!strcmp(o->backend, "auto")) {
		struct probe_choice pc;

		probe_choose(o->p.iface, s->d.fd, &pc);
		o->backend = pc.backend;
		if (!o->stamp) {
			o->stamp = pc.stamp;
		}
		snprintf(s->auto_reason, sizeof(s->auto_reason), "%s", pc.reason);
		pr_debug("backend %s: %s", o->backend, pc.reason);
	}
	if (!strcmp(o->backend, "edt") && !o->stamp) {
		o->stamp = "bpf";
	}
	kernel = !strcmp(o->backend, "edt") || !strcmp(o->backend, "etf");
	ps = !o->keep_powersave && probe_wifi_powersave(o->p.iface, s->d.fd);
	if (stream_caps(s, ps, err, errlen)) {
		return -EPERM;	/* (before anything changes) */
	}
	if (!kernel && !o->watch && !ps) {
		return 0;
	}
	kc.qdisc = !strcmp(o->backend, "edt") ? KPACE_QDISC_FQ
		   : !strcmp(o->backend, "etf") ? KPACE_QDISC_ETF : KPACE_QDISC_KEEP;
	kc.bpf_stamp = !strcmp(o->backend, "edt") && !strcmp(o->stamp, "bpf");
	if (!strcmp(o->backend, "etf") && s->d.clock == CLOCK_MONOTONIC &&
	    o->profile == &profile_rtp) {
		/* etf's clock is TAI: schedule on it, so launch times need no conversion at all */
		s->d.clock = CLOCK_TAI;
	}
	s->kp = kpace_open(&kc, s->d.fd, err, errlen);
	return s->kp ? 0 : -EIO;
}

static int stop_requested(void *arg)
{
	struct stream *s = arg;

	return atomic_load(&s->stop) || txp_stopped(s->cfg.stop);
}

/* The profile's session, the source, the schedule, the ring and the packet history. */
static int setup(struct stream *s, char *err, size_t errlen)
{
	struct source_fmt sf;

	s->prof = s->cfg.profile->open(&s->cfg.p, &s->d, err, errlen);
	if (!s->prof) {
		return -EIO;
	}
	sf = (struct source_fmt){ s->d.rate, s->d.channels, s->d.bits };
	s->src = source_open(s->cfg.source, s->cfg.input_format, &sf, err, errlen);
	if (!s->src) {
		return errno ? -errno : -EIO;
	}
	source_set_interrupt(s->src, stop_requested, s);
	/* exact whole-sample schedule; its start is set once the pacer and the receiver are ready */
	s->sched = (struct schedule){ .rate = s->d.rate, .spp = s->d.spp, .ts0 = s->d.ts0 };
	s->clk = clocks_new();
	size_t nslots = (size_t)(s->cfg.lookahead_ns / sched_ptime_ns(&s->sched)) + 1;

	s->ring = ring_new(nslots < 8 ? 8 : nslots, s->d.max_packet);
	/* the profile's history for retransmits; none (no copy per packet) where nobody asks */
	if (s->cfg.profile->history_s) {
		s->d.hist = history_new((size_t)(s->cfg.profile->history_s * NSEC_PER_SEC /
						 sched_ptime_ns(&s->sched)) + 1, s->d.max_packet);
	}
	if (!s->clk || !s->ring || (s->cfg.profile->history_s && !s->d.hist)) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (s->cfg.seconds_ns) {
		s->limit = mul_div_u64((uint64_t)s->cfg.seconds_ns, s->sched.rate, NSEC_PER_SEC,
				       NULL) / s->sched.spp;
		if (s->limit == 0) {
			s->limit = 1;
		}
	}
	int64_t tf = source_total_frames(s->src);

	s->total_pkts = tf > 0 ? (tf + s->sched.spp - 1) / s->sched.spp : -1;
	if (s->limit && (s->total_pkts < 0 || (uint64_t)s->total_pkts > s->limit)) {
		s->total_pkts = (int64_t)s->limit;
	}
	return 0;
}

static int new_pacer(struct stream *s, char *err, size_t errlen)
{
	const struct stream_cfg *o = &s->cfg;
	struct pacer_cfg pc = {
		.backend = pacer_name(o), .spin_ns = o->spin_ns, .prio = (int)o->prio,
		.cpu = (int)o->cpu, .max_burst = (unsigned)o->max_burst, .late_ns = o->late_ns,
		.ptime_ns = sched_ptime_ns(&s->sched), .timestamps = o->timestamps,
		.clock = s->d.clock, .kp = s->kp, .lead_ns = o->lead_ns,
		.txtime_offset_ns = s->kp ? kpace_txtime_offset(s->kp) : 0,
	};

	s->pacer = pacer_new(&pc, s->d.fd, s->ring, s->d.hist, s->clk);
	if (!s->pacer) {
		int rc = errno ? -errno : -ENOMEM;

		snprintf(err, errlen, "cannot create pacer: %s", strerror(-rc));
		return rc;
	}
	return 0;
}

struct stream *stream_open(const struct stream_cfg *cfg, char *err, size_t errlen)
{
	struct stream *s = calloc(1, sizeof(*s));
	int rc;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->cfg = *cfg;
	s->cfg.p.stop = cfg->stop;
	s->d.fd = -1;
	s->d.clock = CLOCK_MONOTONIC;
	s->t_begin = mono_ns();
	if (errlen) {
		err[0] = '\0';
	}
	rc = setup(s, err, errlen);
	if (!rc) {
		rc = kernel_setup(s, err, errlen);
	}
	if (!rc) {
		rc = new_pacer(s, err, errlen);
	}
	if (!rc) {
		caps_setup_done(&s->caps);	/* (the pacer thread's set-up is still to come) */
	}
	if (rc) {
		if (errlen && !err[0]) {
			snprintf(err, errlen, "%s", strerror(-rc));
		}
		stream_close(s);
		errno = -rc;
		return NULL;
	}
	return s;
}

/* Paused before packet @k: wait for the resume, seek meanwhile. @return 0, -1 on stop */
static int producer_pause(struct stream *s, uint64_t k)
{
	/* stop building here; the main thread flushes, re-anchors, resumes */
	s->pause_k = k;
	atomic_store(&s->ctl, CTL_PAUSED);
	while (atomic_load(&s->ctl) != CTL_RESUME && !atomic_load(&s->stop)) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	if (atomic_load(&s->stop)) {
		return -1;
	}
	if (s->seek_frames) {
		int64_t pos = source_seek(s->src, s->seek_frames);

		if (pos < 0) {
			pr_debug("seek: %s", strerror((int)-pos));
		}
		s->seek_frames = 0;
	}
	atomic_store(&s->ctl, CTL_RUN);
	return 0;
}

/* A free slot for packet @k: sleep while the ring is full. @return it, or NULL on stop */
static struct pkt *producer_slot(struct stream *s, uint64_t k)
{
	int64_t ptime = sched_ptime_ns(&s->sched);
	size_t cap = ring_capacity(s->ring), batch = cap / 4;
	struct pkt *pk;

	while (!(pk = ring_produce_begin(s->ring))) {
		struct timespec ts;

		if (atomic_load(&s->stop)) {
			return NULL;
		}
		/*
		 * Full: sleep until a quarter of the ring has left, and wake half a packet
		 * time after a launch, when the pacer is asleep; waking with it would add
		 * our timer to the interrupt that wakes the pacer.
		 */
		ts = ns_to_ts(k >= cap ? sched_launch(&s->sched, k - cap + batch) + ptime / 2
				       : clock_ns(s->d.clock));
		clock_nanosleep(s->d.clock, TIMER_ABSTIME, &ts, NULL);
		if (!ring_produce_begin(s->ring)) {
			ts = ns_to_ts(ptime / 4);
			nanosleep(&ts, NULL);
		}
	}
	return pk;
}

/* Build packets into the ring ahead of their launch times; block (sleep) while it is full. */
static void *producer_main(void *arg)
{
	struct stream *s = arg;
	const struct profile_ops *ops = s->cfg.profile;
	uint32_t spp = s->d.spp, ch = s->d.channels;
	int32_t *pcm = calloc((size_t)spp * ch, sizeof(int32_t));
	unsigned tail = 0;	/* silence packets sent after the source ended */
	uint64_t k;

	if (!pcm) {
		s->producer_rc = -ENOMEM;
		goto out;
	}
	for (k = 0; !atomic_load(&s->stop); k++) {
		struct pkt *pk;
		long n;
		int len;

		if (atomic_load(&s->ctl) == CTL_PAUSE_REQ && producer_pause(s, k)) {
			break;
		}
		if (s->limit && k >= s->limit && !tail) {
			if (!ops->tail_packets) {
				break;
			}
			tail = 1;
		}
		if (tail) {
			/* after the end: whole packets of silence */
			if (tail > ops->tail_packets) {
				break;
			}
			memset(pcm, 0, (size_t)spp * ch * sizeof(int32_t));
			n = spp;
			tail++;
		} else {
			n = source_read(s->src, pcm, spp);
		}
		if (n < 0) {
			if (n != -EINTR) {
				s->producer_rc = (int)n;
			}
			break;
		}
		if (n == 0) {
			if (!ops->tail_packets) {
				break;
			}
			tail = 1;
			k--;
			continue;
		}
		if ((uint32_t)n < spp) {
			/* the last packet: silence after the source's last sample */
			memset(pcm + (size_t)n * ch, 0, (size_t)(spp - (uint32_t)n) * ch * sizeof(int32_t));
		}
		pk = producer_slot(s, k);
		if (!pk) {
			break;
		}
		len = ops->packetize(s->prof, &s->d, k, pcm, (uint32_t)n, pk->data);
		if (len < 0) {
			s->producer_rc = len;
			break;
		}
		pk->len = (uint32_t)len;
		pk->k = k;
		pk->seq = (uint16_t)(s->d.seq0 + k);
		pk->launch_ns = sched_launch(&s->sched, k);
		pk->flags = (uint32_t)n < spp ? PKT_F_LAST : 0;
		ring_produce_commit(s->ring);
		atomic_fetch_add(&s->built, 1);
		if ((uint32_t)n < spp && !tail) {
			if (!ops->tail_packets) {
				break;
			}
			tail = 1;
		}
	}
out:
	free(pcm);
	ring_close(s->ring);
	atomic_store(&s->producer_done, 1);
	return NULL;
}

/*
 * The library's threads leave the caller's signals to the caller's threads: they start with
 * every signal blocked that is not a fault of their own.
 */
static void block_signals(sigset_t *old)
{
	sigset_t set;

	sigfillset(&set);
	sigdelset(&set, SIGSEGV);
	sigdelset(&set, SIGBUS);
	sigdelset(&set, SIGFPE);
	sigdelset(&set, SIGILL);
	sigdelset(&set, SIGTRAP);
	pthread_sigmask(SIG_BLOCK, &set, old);
}

static void restore_signals(const sigset_t *old)
{
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

/* The first launch: --start-at, or the start delay from now. */
static int first_launch(struct stream *s, int64_t *earliest, char *err, size_t errlen)
{
	/* the schedule starts after the pacer is set up, so setup never makes packets late */
	*earliest = clock_ns(s->d.clock) + s->cfg.start_delay_ns;
	if (s->cfg.start_at > 0) {
		*earliest = clocks_from_mono(s->clk, s->d.clock,
					     clocks_to_mono(s->clk, CLOCK_REALTIME,
							    (int64_t)(s->cfg.start_at * 1e9)));
		if (*earliest < clock_ns(s->d.clock) + 10 * NSEC_PER_MSEC) {
			snprintf(err, errlen, "--start-at is in the past or too close (%.3f s from now)",
				 (double)(*earliest - clock_ns(s->d.clock)) / 1e9);
			return -ETIME;
		}
	}
	return 0;
}

int stream_start(struct stream *s, char *err, size_t errlen)
{
	int64_t earliest;
	sigset_t old;
	int rc;

	if (errlen) {
		err[0] = '\0';
	}
	s->t_start = mono_ns();
	sys_stat_read(&s->stat0);
	block_signals(&old);
	rc = pacer_start(s->pacer);
	restore_signals(&old);
	if (rc) {
		snprintf(err, errlen, "cannot start the pacer: %s", strerror(-rc));
		return rc;
	}
	s->pacer_started = 1;
	/* the pacer thread has its priority and locked memory: the threads after it need nothing */
	caps_settle(&s->caps);
	rc = first_launch(s, &earliest, err, errlen);
	if (rc) {
		return rc;
	}
	rc = s->cfg.profile->start(s->prof, &s->sched, earliest, err, errlen);
	if (rc) {
		if (errlen && !err[0]) {
			snprintf(err, errlen, "%s", strerror(-rc));
		}
		return rc;
	}
	block_signals(&old);
	rc = pthread_create(&s->producer, NULL, producer_main, s);
	restore_signals(&old);
	if (rc) {
		snprintf(err, errlen, "cannot start: %s", strerror(rc));
		return -rc;
	}
	s->producer_started = 1;
	s->next_status = clock_ns(s->d.clock);
	s->next_prof = 0;
	return 0;
}

void stream_join(struct stream *s)
{
	if (s->producer_started) {
		atomic_store(&s->stop, 1);
		pthread_join(s->producer, NULL);
		s->producer_started = 0;
		pacer_join(s->pacer);
		if (s->kp) {
			kpace_settle(s->kp);	/* the watchdog's last deadlines, before any report */
		}
	} else if (s->pacer_started) {
		/* the pacer waits for a ring that will never fill: close it and let the thread end */
		ring_close(s->ring);
		pacer_abort(s->pacer);
		pacer_join(s->pacer);
	}
	s->pacer_started = 0;
}

int stream_finish(struct stream *s, char *err, size_t errlen)
{
	stream_join(s);
	if (!s->profile_rc && s->cfg.profile->finish) {
		/* the last packet has left: let the receiver play it, then close the session */
		uint64_t built = atomic_load(&s->built);
		int64_t last = sched_launch(&s->sched, built ? built - 1 : 0);

		s->profile_rc = s->cfg.profile->finish(s->prof, &s->sched, last, s->interrupted,
						       s->perr, sizeof(s->perr));
	}
	if (s->profile_rc) {
		snprintf(err, errlen, "%s", s->perr);
	}
	return s->profile_rc;
}

void stream_close(struct stream *s)
{
	if (!s) {
		return;
	}
	if (s->producer_started) {
		/* closed while running: nothing more is to leave */
		stream_stop(s);
		pacer_abort(s->pacer);
	}
	stream_join(s);
	pacer_free(s->pacer);
	/* every packet has left (the pacer waited for the last launch): restore the interface */
	kpace_close(s->kp);
	if (s->prof) {
		s->cfg.profile->close(s->prof);
	}
	history_free(s->d.hist);
	ring_free(s->ring);
	clocks_free(s->clk);
	source_free(s->src);
	if (s->d.fd >= 0) {
		close(s->d.fd);
	}
	free(s);
}
