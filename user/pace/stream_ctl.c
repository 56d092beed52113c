// SPDX-License-Identifier: GPL-2.0-only
/* The stream's main-thread side: poll and service steps, the blocking loop, pause/seek, status. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>

#include "txpace/clock.h"
#include "txpace/kpace.h"
#include "txpace/log.h"
#include "txpace/pacer.h"
#include "stream_int.h"

void stream_fmt_us(char *b, size_t n, uint64_t ns)
{
	if (ns >= 10 * NSEC_PER_MSEC) {
		snprintf(b, n, "%.1f ms", (double)ns / 1e6);
	} else {
		snprintf(b, n, "%.1f us", (double)ns / 1e3);
	}
}

/* Paused, and not every built packet handled yet: the flush waits for the pacer. */
static int pausing(struct stream *s)
{
	return atomic_load(&s->ctl) == CTL_PAUSED && !s->flushed;
}

void stream_stop(struct stream *s)
{
	s->interrupted = 1;
	atomic_store(&s->stop, 1);
	/* before the first launch nothing has left: drop what is queued */
	if (clock_ns(s->d.clock) < s->sched.start_ns) {
		pacer_abort(s->pacer);
	}
}

/* The receiver is gone (or refused a duty): nothing more can be delivered. */
static void session_lost(struct stream *s)
{
	atomic_store(&s->stop, 1);
	pacer_abort(s->pacer);
}

int stream_pause(struct stream *s)
{
	if (atomic_load(&s->ctl) != CTL_RUN) {
		return -EALREADY;
	}
	atomic_store(&s->ctl, CTL_PAUSE_REQ);
	return 0;
}

/* Restart after a pause: packet pause_k leaves 100 ms from now; RTP time runs on unchanged. */
static void resume(struct stream *s)
{
	int64_t now = clock_ns(s->d.clock);

	s->sched.start_ns += now + 100 * NSEC_PER_MSEC - sched_launch(&s->sched, s->pause_k);
	s->d.marker_k = s->pause_k;
	if (s->cfg.profile->resume) {
		s->cfg.profile->resume(s->prof, &s->sched, now);
	}
	s->flushed = 0;
	s->auto_resume = 0;
	atomic_store(&s->ctl, CTL_RESUME);
}

int stream_resume(struct stream *s)
{
	if (atomic_load(&s->ctl) != CTL_PAUSED || !s->flushed) {
		return -EAGAIN;
	}
	resume(s);
	return 0;
}

void stream_seek(struct stream *s, int64_t delta_ms)
{
	s->seek_frames += delta_ms * (int64_t)s->sched.rate / 1000;
	if (atomic_load(&s->ctl) == CTL_RUN) {
		s->auto_resume = 1;
		atomic_store(&s->ctl, CTL_PAUSE_REQ);
	}
}

/* Paused and every built packet handled: the receiver may drop what it holds. */
static void pause_step(struct stream *s)
{
	const struct profile_ops *ops = s->cfg.profile;
	struct pacer_stats *st = pacer_stats(s->pacer);

	if (!pausing(s) || s->profile_rc ||
	    atomic_load(&st->sent) + atomic_load(&st->send_errors) < atomic_load(&s->built)) {
		return;
	}
	if (ops->flush && !s->flush_sent) {
		s->flush_sent = 1;
		s->profile_rc = ops->flush(s->prof, s->pause_k, s->perr, sizeof(s->perr));
		if (s->profile_rc) {
			session_lost(s);
			return;
		}
	}
	/* the answer comes through the profile's service, on a later turn of the loop */
	if (ops->flush && ops->flush_done && !ops->flush_done(s->prof)) {
		return;
	}
	s->flushed = 1;
	s->flush_sent = 0;
	if (s->auto_resume) {
		resume(s);
	}
}

int stream_poll_prepare(struct stream *s, struct pollfd *pfd, int max, int *timeout_ms)
{
	const struct profile_ops *ops = s->cfg.profile;
	int n = ops->poll_fds ? ops->poll_fds(s->prof, pfd, max) : 0;
	int64_t now, wake;

	if (pausing(s)) {
		s->next_status = clock_ns(s->d.clock);	/* soon: the flush waits for the pacer */
	}
	now = clock_ns(s->d.clock);
	wake = s->next_status;
	if (s->next_prof && s->next_prof < wake) {
		wake = s->next_prof;
	}
	*timeout_ms = wake > now ? (int)((wake - now) / NSEC_PER_MSEC) + 1 : 0;
	return n;
}

/* The profile's sockets and timed duties. */
static void service_profile(struct stream *s, int64_t now)
{
	if (!s->cfg.profile->service || s->profile_rc) {
		return;
	}
	s->next_prof = 0;
	s->profile_rc = s->cfg.profile->service(s->prof, &s->sched, now, &s->next_prof, s->perr,
						sizeof(s->perr));
	if (s->profile_rc) {
		session_lost(s);
	}
}

/* Pause, the caller's stop, and every status period the clock and kernel checks. */
static int service_rest(struct stream *s, int64_t now)
{
	int64_t step;
	char kmsg[256];

	pause_step(s);
	if (txp_stopped(s->cfg.stop) && !s->interrupted) {
		stream_stop(s);
	}
	if (now < s->next_status) {
		return 0;
	}
	step = clocks_track(s->clk);
	if (s->kp && kpace_poll(s->kp, kmsg, sizeof(kmsg))) {
		pr_warn("%s", kmsg);
	}
	if (step > NSEC_PER_MSEC) {
		pr_warn("a system clock stepped by %.3f ms", (double)step / 1e6);
	}
	s->next_status = now + (pausing(s) ? 5 * NSEC_PER_MSEC : 250 * NSEC_PER_MSEC);
	return 1;
}

int stream_service(struct stream *s)
{
	int64_t now = clock_ns(s->d.clock);

	service_profile(s, now);
	return service_rest(s, now);
}

int stream_done(struct stream *s)
{
	return pacer_done(s->pacer);
}

void stream_run(struct stream *s, const struct stream_hooks *h)
{
	int fd = h ? h->fd : -1;

	while (!stream_done(s)) {
		struct pollfd pfd[STREAM_POLL_MAX + 1];
		int timeout, n = stream_poll_prepare(s, pfd, STREAM_POLL_MAX, &timeout);
		int64_t now;

		if (fd >= 0) {
			pfd[n++] = (struct pollfd){ fd, POLLIN, 0 };
		}
		poll(pfd, (nfds_t)n, timeout);
		now = clock_ns(s->d.clock);
		service_profile(s, now);
		if (fd >= 0 && pfd[n - 1].revents && h->on_input) {
			h->on_input(h->arg, s);
		}
		if (service_rest(s, now) && h && h->on_tick) {
			h->on_tick(h->arg, s);
		}
	}
}

void stream_status(struct stream *s, struct stream_status *st)
{
	struct pacer_stats *ps = pacer_stats(s->pacer);
	const struct hist *h = pacer_departure(s->pacer, &st->departure);
	double el = (double)(clock_ns(s->d.clock) - s->sched.start_ns) / 1e9;
	int ctl = atomic_load(&s->ctl);

	st->elapsed_s = el > 0 && s->sched.start_ns ? el : 0;
	st->total_s = s->total_pkts > 0 ? (double)s->total_pkts * s->sched.spp / s->sched.rate : -1;
	st->built = atomic_load(&s->built);
	st->sent = atomic_load(&ps->sent);
	st->late = atomic_load(&ps->late);
	st->send_errors = atomic_load(&ps->send_errors);
	st->underruns = atomic_load(&ps->underruns);
	st->p99_ns = hist_quantile(h, 0.99);
	st->pause = ctl == CTL_RUN ? STREAM_RUNNING : s->flushed ? STREAM_PAUSED : STREAM_PAUSING;
	st->note = s->cfg.profile->status ? s->cfg.profile->status(s->prof) : "";
	st->backend = s->cfg.backend;
	st->done = pacer_done(s->pacer);
	st->interrupted = s->interrupted;
	st->session_error = s->profile_rc;
	st->source_error = s->producer_rc;
}

int stream_status_text(struct stream *s, char *buf, size_t len)
{
	static const char *const pause[] = {
		[STREAM_RUNNING] = "", [STREAM_PAUSING] = "  [pausing]", [STREAM_PAUSED] = "  [paused]",
	};
	struct stream_status st;
	char p99[32], tot[32] = "";

	stream_status(s, &st);
	stream_fmt_us(p99, sizeof(p99), st.p99_ns);
	if (st.total_s > 0) {
		snprintf(tot, sizeof(tot), "/%.1f", st.total_s);
	}
	return snprintf(buf, len, "%7.1f%s s  packets %" PRIu64 "  late %" PRIu64 "  p99 %s %s%s%s",
			st.elapsed_s, tot, st.sent, st.late, p99, st.departure, pause[st.pause],
			st.note);
}
