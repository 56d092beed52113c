// SPDX-License-Identifier: GPL-2.0-only
/* Pacer module: the send loop shared by every backend, burst-limited catch-up, departure stamps. */
#include <errno.h>
#include <time.h>
#include <sys/timex.h>
#include <linux/errqueue.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "txpace/caps.h"
#include "txpace/spin.h"
#include "txpace/memlock.h"
#include "txpace/clock.h"
#include "txpace/history.h"
#include "txpace/kpace.h"
#include "txpace/log.h"
#include "txpace/pacer.h"
#include "txpace/ring.h"
#include "txpace/txstamp.h"

#define KEY_WINDOW 4096		/* launch times kept for matching stamps by OPT_ID key */
#define MAX_BURST_LIMIT 256
#define DRAIN_EVERY 8		/* read the error queue every N packets (stamps wait there) */
#define PACER_STACK (256 * 1024)

#ifndef SCM_TS_OPT_ID
#define SCM_TS_OPT_ID 81	/* Linux >= 6.13: set the OPT_ID key of one datagram */
#endif

struct pacer {
	struct pacer_cfg cfg;
	const struct pacer_backend *be;
	int fd;
	struct ring *ring;
	struct history *hist;
	struct clocks *clk;
	pthread_t thread;
	int started;
	_Atomic int abort, done;
	int result;
	pthread_mutex_t lock;		/* start-up handshake only */
	pthread_cond_t cond;
	int ready;
	/*
	 * Stamps come back keyed by OPT_ID. Where the kernel takes SCM_TS_OPT_ID the key is the
	 * packet's own sequence number; elsewhere it is the kernel's count of datagrams, which we
	 * can only mirror: a datagram the qdisc drops (ENOBUFS) has taken one too.
	 */
	int key_by_seq;
	int stream_sock;	/* a TCP socket (buffered audio): records written whole */
	uint32_t key;			/* keys the kernel took (sent + qdisc drops) without key_by_seq */
	struct {
		uint32_t key;
		int64_t launch;
	} keys[KEY_WINDOW];
	int64_t last_sends[MAX_BURST_LIMIT];
	uint64_t nsent;
	int64_t last_send;
	int64_t last_launch;		/* kernel backends: the last packet handed over leaves then */
	struct spin_auto spin;		/* rt, --spin auto */
	uint32_t last_seq;
	uint64_t last_xmit;		/* the previous packet read back from the ring */
	int64_t tai_offset;		/* CLOCK_TAI - CLOCK_REALTIME (whole seconds, from the kernel) */
	struct pacer_stats st;
};

static const struct pacer_backend *const backends[] = { &pacer_rt, &pacer_sleep, &pacer_edt,
							&pacer_edt_txtime, &pacer_etf };

const struct pacer_backend *pacer_backend_find(const char *name)
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		if (!strcmp(backends[i]->name, name)) {
			return backends[i];
		}
	}
	return NULL;
}

struct pacer *pacer_new(const struct pacer_cfg *cfg, int fd, struct ring *ring,
			struct history *hist, struct clocks *clk)
{
	const struct pacer_backend *be = pacer_backend_find(cfg->backend);
	struct pacer *p;

	if (cfg->clock != CLOCK_MONOTONIC && cfg->clock != CLOCK_REALTIME && cfg->clock != CLOCK_TAI) {
		errno = EINVAL;
		return NULL;
	}
	if (!be || cfg->max_burst < 1 || cfg->max_burst > MAX_BURST_LIMIT || cfg->ptime_ns <= 0) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		return NULL;
	}
	p->cfg = *cfg;
	/*
	 * Never spin more than half a packet time: a SCHED_FIFO thread that never sleeps hits the
	 * kernel's RT throttling (sched_rt_runtime_us, 950 ms a second) and stalls 50 ms.
	 */
	if (p->cfg.spin_ns > p->cfg.ptime_ns / 2) {
		p->cfg.spin_ns = p->cfg.ptime_ns / 2;
	}
	/* auto: from the budget until the first wake-ups are counted */
	spin_auto_init(&p->spin, spin_auto_cap(p->cfg.ptime_ns), spin_auto_cap(p->cfg.ptime_ns));
	p->be = be;
	p->fd = fd;
	p->ring = ring;
	p->hist = hist;
	p->clk = clk;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	return p;
}

void pacer_free(struct pacer *p)
{
	if (!p) {
		return;
	}
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p);
}

const struct pacer_cfg *pacer_cfg(const struct pacer *p)
{
	return &p->cfg;
}

int64_t pacer_last_send(const struct pacer *p)
{
	return p->last_send;
}

struct pacer_stats *pacer_stats(struct pacer *p)
{
	return &p->st;
}

const struct hist *pacer_departure(struct pacer *p, const char **which)
{
	if (hist_count(&p->st.dep_snd)) {
		*which = "snd";
		return &p->st.dep_snd;
	}
	if (hist_count(&p->st.dep_sched)) {
		*which = "sched";
		return &p->st.dep_sched;
	}
	*which = "user";
	return &p->st.dep_user;
}

static void add_err(struct pacer_stats *st, struct hist *h, int64_t err)
{
	if (err < 0) {
		atomic_fetch_add_explicit(&st->early, 1, memory_order_relaxed);
		err = -err;
	}
	hist_add(h, (uint64_t)err);
}

static void on_event(void *ctx, const struct txstamp_event *ev)
{
	struct pacer *p = ctx;

	if (ev->is_error && ev->origin == SO_EE_ORIGIN_TXTIME) {
		/* etf/fq dropped a packet: invalid time (wrong clock, already late) or missed */
		atomic_fetch_add(ev->code == SO_EE_CODE_TXTIME_MISSED ? &p->st.txtime_missed
								      : &p->st.txtime_invalid, 1);
		atomic_store(&p->st.last_error, ev->err);
		return;
	}
	if (ev->is_error) {
		size_t n = ev->len < sizeof(p->st.last_bounce) ? ev->len : sizeof(p->st.last_bounce);

		if (!atomic_load(&p->st.icmp_errors)) {
			memcpy(p->st.first_bounce, ev->data, n);
		}
		memcpy(p->st.last_bounce, ev->data, n);
		atomic_fetch_add(&p->st.icmp_errors, 1);
		atomic_store(&p->st.last_error, ev->err);
		return;
	}
	/* a stamp whose key is no longer (or was never) in the window cannot be matched */
	if (p->keys[ev->key % KEY_WINDOW].key != ev->key) {
		return;
	}
	int64_t launch = p->keys[ev->key % KEY_WINDOW].launch;

	/* with a kernel backend the SCHED stamp is the hand-off (lead early), not the departure */
	if (p->be->kernel && ev->kind != TXSTAMP_SND) {
		return;
	}
	/* stamps are CLOCK_REALTIME; launch times are in the pacer's clock (TAI: exact offset) */
	int64_t t = p->cfg.clock == CLOCK_REALTIME ? ev->realtime_ns
		    : p->cfg.clock == CLOCK_TAI ? ev->realtime_ns + p->tai_offset
			    : clocks_from_mono(p->clk, p->cfg.clock,
					       clocks_to_mono(p->clk, CLOCK_REALTIME, ev->realtime_ns));

	add_err(&p->st, ev->kind == TXSTAMP_SND ? &p->st.dep_snd : &p->st.dep_sched, t - launch);
}

/* @txtime: the SCM_TXTIME departure time, or 0 for none */
static ssize_t send_one(struct pacer *p, const struct pkt *pk, uint64_t txtime)
{
	union {
		char buf[CMSG_SPACE(sizeof(uint32_t)) + CMSG_SPACE(sizeof(uint64_t))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { (void *)pk->data, pk->len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	size_t len = 0;

	if (!p->key_by_seq && !txtime) {
		return send(p->fd, pk->data, pk->len, MSG_NOSIGNAL);
	}
	memset(&u, 0, sizeof(u));
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof(u.buf);
	c = CMSG_FIRSTHDR(&msg);
	if (p->key_by_seq) {
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_TS_OPT_ID;
		c->cmsg_len = CMSG_LEN(sizeof(uint32_t));
		memcpy(CMSG_DATA(c), &pk->seq, sizeof(uint32_t));
		len += CMSG_SPACE(sizeof(uint32_t));
		c = CMSG_NXTHDR(&msg, c);
	}
	if (txtime) {
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_TXTIME;
		c->cmsg_len = CMSG_LEN(sizeof(uint64_t));
		memcpy(CMSG_DATA(c), &txtime, sizeof(uint64_t));
		len += CMSG_SPACE(sizeof(uint64_t));
	}
	msg.msg_controllen = len;
	return sendmsg(p->fd, &msg, MSG_NOSIGNAL);
}

/*
 * A stream socket takes part of a record when its buffer is nearly full (or a signal comes):
 * the rest follows, or every later record is misframed at the receiver. MSG_NOSIGNAL: a closed
 * connection is an error to report, not a SIGPIPE for a library's caller.
 */
static int xmit_stream(struct pacer *p, const struct pkt *pk)
{
	size_t off = 0;

	while (off < pk->len) {
		ssize_t n = send(p->fd, pk->data + off, pk->len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			int e = n < 0 ? errno : EPIPE;

			atomic_store(&p->st.last_error, e);
			return -e;
		}
		off += (size_t)n;
	}
	return 0;
}

static int xmit(struct pacer *p, const struct pkt *pk, uint64_t txtime)
{
	if (p->stream_sock) {
		return xmit_stream(p, pk);
	}
	for (int tries = 0; tries < 3; tries++) {
		if (send_one(p, pk, txtime) == (ssize_t)pk->len) {
			return 0;
		}
		/* the qdisc refused it (fq horizon, flow limit): reported, not retried */
		if (errno == ENOBUFS) {
			/*
			 * The qdisc dropped it after the kernel had taken its OPT_ID key (the key is
			 * assigned while the datagram is built, before the qdisc sees it): without
			 * SCM_TS_OPT_ID the mirrored counter must skip that key too, or every later
			 * stamp is matched with the next packet's launch time.
			 */
			if (!p->key_by_seq) {
				p->key++;
			}
			if (!atomic_fetch_add(&p->st.dropped, 1)) {
				atomic_store(&p->st.first_drop_seq, pk->seq);
			}
			atomic_store(&p->st.last_drop_seq, pk->seq);
			break;
		}
		/* a kernel older than 6.13 refuses the per-datagram key: count datagrams instead */
		if (errno == EINVAL && p->key_by_seq) {
			p->key_by_seq = 0;
			continue;
		}
		/*
		 * A pending ICMP error (port unreachable from an earlier packet) fails this send
		 * without transmitting it; the error is now cleared, so try once more.
		 */
		if (errno == ECONNREFUSED) {
			atomic_fetch_add(&p->st.refused, 1);
			continue;
		}
		if (errno == EINTR) {
			continue;
		}
		break;
	}
	atomic_store(&p->st.last_error, errno);
	return -errno;
}

/* Wait for the producer without a lock: it is never more than a packet time away when healthy. */
static struct pkt *next_packet(struct pacer *p)
{
	int counted = 0;

	for (;;) {
		struct pkt *pk = ring_consume_peek(p->ring);

		if (pk) {
			return pk;
		}
		if (ring_drained(p->ring) || atomic_load(&p->abort)) {
			return NULL;
		}
		if (!counted && p->nsent > 0) {
			atomic_fetch_add(&p->st.underruns, 1);
			counted = 1;
		}
		struct timespec ts = { 0, 50 * 1000 };

		nanosleep(&ts, NULL);
	}
}

/* After the last packet: collect the stamps still on their way (bounded wait). */
static void drain_stamps(struct pacer *p)
{
	int64_t until = mono_ns() + 100 * NSEC_PER_MSEC;

	while (mono_ns() < until) {
		uint64_t have = hist_count(&p->st.dep_snd) + hist_count(&p->st.dep_sched);

		txstamp_drain(p->fd, on_event, p);
		/* every datagram sent has its SND and SCHED stamps (kernel backends: SND only) */
		uint64_t sent = atomic_load(&p->st.sent);

		if (hist_count(&p->st.dep_snd) >= sent &&
		    (p->be->kernel || hist_count(&p->st.dep_sched) >= sent)) {
			return;
		}
		/* nothing at all stamped (a device without stamps): nothing more will come */
		if (have == 0 && hist_count(&p->st.dep_snd) + hist_count(&p->st.dep_sched) == 0 &&
		    mono_ns() > until - 80 * NSEC_PER_MSEC) {
			return;
		}
		struct timespec ts = { 0, 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
}

#define HARVEST_BEHIND 512	/* slots read back this many packets later (long gone by then) */

/* The kernel's record of packet @seq (--watch: when it reached the driver). */
static void harvest(struct pacer *p, uint16_t seq)
{
	struct txp_slot sl;

	if (kpace_slot(p->cfg.kp, seq, &sl) == 0 && sl.xmit_ns) {
		add_err(&p->st, &p->st.dep_xmit, (int64_t)(sl.xmit_ns - sl.launch_ns));
		if (sl.xmit_ns < p->last_xmit) {
			atomic_fetch_add(&p->st.xmit_reordered, 1);
		}
		p->last_xmit = sl.xmit_ns;
	}
}

/* Publish @pk's launch time to the schedule ring; read back an old slot. */
static void publish(struct pacer *p, const struct pkt *pk, int64_t mono)
{
	if (!p->cfg.kp) {
		return;
	}
	if (p->nsent >= HARVEST_BEHIND) {
		harvest(p, (uint16_t)(pk->seq - HARVEST_BEHIND));
	}
	kpace_publish(p->cfg.kp, (uint16_t)pk->seq, (uint64_t)mono);
}

/* Remember @pk's launch time under its stamp key, once it was handed over. */
static void sent_ok(struct pacer *p, const struct pkt *pk, int64_t t0, int64_t user_err)
{
	uint32_t key = p->key_by_seq ? pk->seq : p->key;

	p->keys[key % KEY_WINDOW].key = key;
	p->keys[key % KEY_WINDOW].launch = pk->launch_ns;
	p->key++;
	atomic_fetch_add_explicit(&p->st.sent, 1, memory_order_relaxed);
	add_err(&p->st, &p->st.dep_user, user_err);
	/* handed over after its launch time (+ the threshold): it leaves late */
	if (t0 - pk->launch_ns > p->cfg.late_ns) {
		atomic_fetch_add_explicit(&p->st.late, 1, memory_order_relaxed);
	}
}

/* After the send, whether it worked or not: history, bookkeeping, the ring slot back. */
static void packet_done(struct pacer *p, const struct pkt *pk, int64_t t0)
{
	/* kept for retransmits even when this send failed: the receiver may ask for it */
	if (p->hist) {
		history_put(p->hist, pk->seq, pk->data, pk->len);
	}
	p->last_send = t0;
	p->last_launch = pk->launch_ns;
	p->last_seq = pk->seq;
	p->nsent++;
	ring_consume_release(p->ring);
	if (p->nsent % DRAIN_EVERY == 0) {
		txstamp_drain(p->fd, on_event, p);
	}
}

static int64_t launch_mono(const struct pacer *p, const struct pkt *pk)
{
	return p->cfg.clock == CLOCK_MONOTONIC ? pk->launch_ns
					       : clocks_to_mono(p->clk, p->cfg.clock, pk->launch_ns);
}

/*
 * edt/etf: hand the packet over lead_ns ahead with its departure time (in the ring or in
 * SCM_TXTIME); the kernel's qdisc releases it. User-side lateness is the hand-off's.
 */
static int kernel_send(struct pacer *p, struct pkt *pk)
{
	struct pacer_stats *st = &p->st;
	int64_t handoff = pk->launch_ns - p->cfg.lead_ns, t0, mono;
	uint64_t txtime = 0;

	p->be->wait(p, handoff);
	if (atomic_load(&p->abort)) {
		return 1;
	}
	t0 = clock_ns(p->cfg.clock);
	mono = launch_mono(p, pk);
	if (p->be->txtime_clock == CLOCK_MONOTONIC) {
		txtime = (uint64_t)mono;
	} else if (p->be->txtime_clock == CLOCK_TAI) {
		/* TAI - REALTIME is the kernel's whole-second offset: no sampled conversion */
		txtime = (uint64_t)((p->cfg.clock == CLOCK_TAI ? pk->launch_ns
				     : p->cfg.clock == CLOCK_REALTIME ? pk->launch_ns + p->tai_offset
				     : clocks_from_mono(p->clk, CLOCK_TAI, mono)) +
				    p->cfg.txtime_offset_ns);
	}
	publish(p, pk, mono);
	if (xmit(p, pk, txtime)) {
		atomic_fetch_add(&st->send_errors, 1);
	} else {
		sent_ok(p, pk, t0, t0 > handoff ? t0 - handoff : 0);
	}
	packet_done(p, pk, t0);
	return 0;
}

static void *pacer_main(void *arg)
{
	struct pacer *p = arg;
	struct pacer_stats *st = &p->st;
	int rc;

	rc = p->be->setup ? p->be->setup(p) : 0;
	caps_thread_settle();	/* (SCHED_FIFO and mlockall done: this thread needs nothing more) */
	/* under mem_lock (MCL_ONFAULT) the stack is locked as it is touched: touch it now */
	mem_prefault_stack(PACER_STACK / 4);
	pthread_mutex_lock(&p->lock);
	p->result = rc;
	p->ready = 1;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	if (rc) {
		atomic_store(&p->done, 1);
		return NULL;
	}
	for (;;) {
		struct pkt *pk = next_packet(p);
		int64_t deadline, t0;

		/* aborted: the rest of the ring stays unsent (a wait cut short must not send early) */
		if (!pk || atomic_load(&p->abort)) {
			break;
		}
		if (p->be->kernel) {
			if (kernel_send(p, pk)) {
				break;
			}
			continue;
		}
		deadline = pk->launch_ns;
		/*
		 * Catch up after a stall at most max_burst packets per packet time. A quarter packet
		 * time of slack keeps ordinary wake-up latency (the previous send is always a little
		 * after its deadline) from pushing every deadline back.
		 */
		if (p->nsent >= p->cfg.max_burst) {
			int64_t earliest = p->last_sends[p->nsent % p->cfg.max_burst] + p->cfg.ptime_ns;

			if (earliest > deadline + p->cfg.ptime_ns / 4) {
				deadline = earliest;
				if (earliest > clock_ns(p->cfg.clock)) {
					atomic_fetch_add_explicit(&st->burst_limited, 1, memory_order_relaxed);
				}
			}
		}
		p->be->wait(p, deadline);
		if (atomic_load(&p->abort)) {
			break;
		}
		t0 = clock_ns(p->cfg.clock);
		publish(p, pk, launch_mono(p, pk));
		rc = xmit(p, pk, 0);
		if (rc) {
			atomic_fetch_add(&st->send_errors, 1);
		} else {
			sent_ok(p, pk, t0, t0 - pk->launch_ns);
		}
		p->last_sends[p->nsent % p->cfg.max_burst] = t0;
		packet_done(p, pk, t0);
	}
	if (p->be->kernel && p->nsent) {
		/* the last packets are still in the qdisc: the caller must not remove it before */
		struct timespec ts = ns_to_ts(p->last_launch + 2 * NSEC_PER_MSEC);

		while (clock_nanosleep(p->cfg.clock, TIMER_ABSTIME, &ts, NULL) == EINTR) {
		}
	}
	if (p->cfg.timestamps) {
		drain_stamps(p);
	} else {
		txstamp_drain(p->fd, on_event, p);
	}
	if (p->cfg.kp && p->nsent) {
		/* the slots not read back yet (all have left: the stamps were waited for) */
		uint64_t n = p->nsent < HARVEST_BEHIND ? p->nsent : HARVEST_BEHIND;

		if (!p->cfg.timestamps) {
			struct timespec ts = { 0, 5 * 1000 * 1000 };

			nanosleep(&ts, NULL);	/* the last hand-off to the driver: a few us */
		}
		for (uint64_t i = n; i > 0; i--) {
			harvest(p, (uint16_t)(p->last_seq - (i - 1)));
		}
	}
	{
		struct timespec cpu;

		if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu) == 0) {
			atomic_store(&st->cpu_ns, (int64_t)cpu.tv_sec * NSEC_PER_SEC + cpu.tv_nsec);
		}
	}
	atomic_store(&p->done, 1);
	return NULL;
}

struct spin_auto *pacer_spin(struct pacer *p)
{
	return p->cfg.spin_ns == PACER_SPIN_AUTO ? &p->spin : NULL;
}

void pacer_woke(struct pacer *p, int64_t late_ns)
{
	struct pacer_stats *st = &p->st;

	atomic_store_explicit(&st->wakeups, atomic_load_explicit(&st->wakeups, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	hist_add(&st->wake_late, late_ns > 0 ? (uint64_t)late_ns : 0);
	if (p->cfg.spin_ns == PACER_SPIN_AUTO) {
		int64_t w = spin_auto_add(&p->spin, late_ns);

		atomic_store_explicit(&st->spin_window_ns, w, memory_order_relaxed);
		atomic_store_explicit(&st->spin_window_min_ns, p->spin.min_seen, memory_order_relaxed);
		atomic_store_explicit(&st->spin_window_max_ns, p->spin.max_seen, memory_order_relaxed);
		atomic_store_explicit(&st->spin_window_changes, p->spin.changes, memory_order_relaxed);
	}
}

int pacer_start(struct pacer *p)
{
	int rc;

	p->key_by_seq = 1;
	{
		int type = 0;
		socklen_t tl = sizeof(type);

		p->stream_sock = !getsockopt(p->fd, SOL_SOCKET, SO_TYPE, &type, &tl) &&
				 type == SOCK_STREAM;
	}
	if (p->stream_sock && p->cfg.timestamps) {
		/* a TCP socket's departure stamps count bytes, not packets: they match no launch */
		pr_info("no departure stamps on a stream socket (buffered audio): none asked for");
		p->cfg.timestamps = 0;
	}
	{
		struct timex tx = { .modes = 0 };

		p->tai_offset = adjtimex(&tx) >= 0 ? (int64_t)tx.tai * NSEC_PER_SEC : 0;
	}
	for (size_t i = 0; i < KEY_WINDOW; i++) {
		p->keys[i].key = (uint32_t)i + 1;	/* matches no key until written */
	}
	if (p->cfg.timestamps) {
		rc = txstamp_enable(p->fd);
		if (rc) {
			pr_warn("no departure stamps on this socket: %s", strerror(-rc));
			p->cfg.timestamps = 0;
		}
	}
	/*
	 * Once the process holds mlockall(MCL_FUTURE) a new thread's whole stack is faulted in at
	 * creation: 8 MiB by default, 2.5 to 6 ms here, which a relay starting on its first input
	 * packet cannot spare. The send loop needs a few KiB.
	 */
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, PACER_STACK);
	rc = pthread_create(&p->thread, &attr, pacer_main, p);
	pthread_attr_destroy(&attr);
	if (rc) {
		return -rc;
	}
	p->started = 1;
	/* setup (mlockall, SCHED_FIFO) can take a while: the caller fixes the schedule after it */
	pthread_mutex_lock(&p->lock);
	while (!p->ready) {
		pthread_cond_wait(&p->cond, &p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return p->result;
}

void pacer_abort(struct pacer *p)
{
	atomic_store(&p->abort, 1);
}

int pacer_aborted(const struct pacer *p)
{
	return atomic_load(&((struct pacer *)p)->abort);
}

int pacer_done(struct pacer *p)
{
	return atomic_load(&p->done);
}

int pacer_join(struct pacer *p)
{
	if (p->started) {
		pthread_join(p->thread, NULL);
		p->started = 0;
	}
	return p->result;
}
