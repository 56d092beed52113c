/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One outgoing stream: source -> the profile's packetizer (producer thread) -> SPSC ring ->
 * pacer (its own thread) -> UDP, with the kernel set up for the backend. The two threads are the
 * library's; everything else runs in the caller's thread: either stream_run(), or the caller's
 * own poll loop over stream_poll_prepare() and stream_service(), which can drive several
 * streams at once. Nothing here prints: the report and the summary go to the caller's FILE,
 * warnings to the log, and errors come back as a negative errno with one line in @err.
 *
 * Life of a stream:
 *	stream_cfg_init(&cfg); ... set cfg ...
 *	s = stream_open(&cfg, err, errlen);	profile session, source, kernel, pacer
 *	stream_start(s, err, errlen);		pacer thread, the receiver's start, producer thread
 *	stream_run(s, NULL);			or: while (!stream_done(s)) { prepare; poll; service; }
 *	stream_join(s);				every built packet has left
 *	stream_finish(s, err, errlen);		the receiver plays the rest, the session closes
 *	stream_summary(s, stdout); stream_report(s, f); stream_complete(s);
 *	stream_close(s);			the interface as it was (also after any failure)
 */
#ifndef TXPACE_STREAM_H
#define TXPACE_STREAM_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "txpace/profile.h"
#include "txpace/stop.h"

/* What to send and how; stream_cfg_init() sets the defaults. Strings must outlive the stream. */
struct stream_cfg {
	const struct profile_ops *profile;	/* &profile_rtp (default), _aes67, _raop */
	struct profile_opts p;		/* the stream and the receiver (p.stop is set from @stop) */
	const char *source;		/* a file FFmpeg reads, "-" (raw PCM on stdin), tone:HZ, ... */
	const char *input_format;	/* "-": s16le|s24le|s32le|f32le:RATE:CHANNELS */
	const char *backend;		/* auto (default: what probe_choose() says), edt, etf, rt, sleep */
	const char *stamp;		/* edt: bpf or txtime; NULL: what auto chose, else bpf */
	int64_t spin_ns;		/* rt: spin this long before each deadline (default 200 us) */
	long prio;			/* rt: SCHED_FIFO priority, 0 = normal (default 80) */
	long cpu;			/* rt: pin the pacer to this CPU, -1 = not pinned (default) */
	long max_burst;			/* catching up, at most this many per packet time (4) */
	int64_t late_ns;		/* a packet leaving after launch + this is late (1 ms) */
	int64_t lookahead_ns;		/* packets built ahead of their launch (100 ms) */
	int64_t start_delay_ns;		/* the first launch, after stream_start()'s setup (50 ms) */
	int64_t seconds_ns;		/* audio to send, 0 = the whole source */
	double start_at;		/* CLOCK_REALTIME seconds of the first launch, 0 = the delay */
	int timestamps;			/* ask the kernel for departure stamps (default 1) */
	int64_t lead_ns;		/* edt, etf: packets handed to the kernel this early (20 ms) */
	int64_t grace_ns;		/* watch: not at the driver by launch + this is missed (1 ms) */
	int64_t fq_horizon_ns;		/* edt: fq's horizon, 0 = max(1 s, 4 x lead) */
	int64_t etf_delta_ns;		/* etf: dequeue this long before the launch time (1 ms) */
	int watch;			/* kernel deadline watchdog + driver hand-off times */
	int keep_powersave;		/* leave Wi-Fi power save on (default: off while sending) */
	const txp_stop_flag *stop;	/* the caller's stop request: as stream_stop(), and ends waits */
};

struct stream;

enum stream_pause { STREAM_RUNNING, STREAM_PAUSING, STREAM_PAUSED };

/* A snapshot for a status line or a web page (read it in the thread that services the stream). */
struct stream_status {
	double elapsed_s;		/* since the first launch (0 before it) */
	double total_s;			/* the audio to send, -1 when the source's length is unknown */
	uint64_t built, sent, late, send_errors, underruns;
	uint64_t p99_ns;		/* departure error (stamp - launch), 99th percentile */
	const char *departure;		/* the stamp that measures it: snd, sched or user */
	enum stream_pause pause;
	const char *note;		/* the profile's note ("PTP unlocked"), or "" */
	const char *backend;		/* the backend in use (auto resolved) */
	int done;			/* the pacer has ended: every packet left or was dropped */
	int interrupted;		/* stopped early (stream_stop(), or the caller's stop flag) */
	int session_error;		/* -errno: the receiver was lost (why: stream_finish()) */
	int source_error;		/* -errno: the source failed */
};

/* Hooks of stream_run(). */
struct stream_hooks {
	int fd;				/* also watched, -1 for none (e.g. a terminal's keys) */
	/** @fd has an event: called after the profile's duties, before pause and stop handling */
	void (*on_input)(void *arg, struct stream *s);
	/** every status period (250 ms, 5 ms while pausing), after stream_service()'s duties */
	void (*on_tick)(void *arg, struct stream *s);
	void *arg;
};

/* The most descriptors stream_poll_prepare() asks for. */
#define STREAM_POLL_MAX 8

/** The defaults of every field (rtp, L24 48 kHz stereo, 1 ms packets, backend auto). */
void stream_cfg_init(struct stream_cfg *cfg);
/**
 * Open the profile's session, the source, the ring, and set the kernel up for the backend.
 * @return the stream, or NULL with a one-line reason in @err (everything undone)
 */
struct stream *stream_open(const struct stream_cfg *cfg, char *err, size_t errlen);
/**
 * Start the pacer, anchor the schedule (the profile's start: it may wait for the receiver or a
 * PTP lock) and the producer. The library's threads never take the caller's signals.
 * @return 0, or -errno with a one-line reason in @err (then only stream_close())
 */
int stream_start(struct stream *s, char *err, size_t errlen);
/**
 * Before poll(): the profile's descriptors (at most @max, STREAM_POLL_MAX suffices) and the
 * longest the caller may sleep, in ms, in @timeout_ms. @return the number of @pfd entries
 */
int stream_poll_prepare(struct stream *s, struct pollfd *pfd, int max, int *timeout_ms);
/**
 * After poll(): the profile's duties (its sockets, keep-alive, a flush while paused), the
 * caller's stop flag, the clock and kernel checks (warnings go to the log).
 * @return 1 when a status period has passed (time to redraw a status), else 0
 */
int stream_service(struct stream *s);
/** @return 1 once the pacer has ended (the loop is over; then stream_join()) */
int stream_done(struct stream *s);
/** Service @s until it is done: the blocking loop, with @hooks (may be NULL). */
void stream_run(struct stream *s, const struct stream_hooks *hooks);
/** Stop building packets; the stream pauses once every built one has left. @return 0, -EALREADY */
int stream_pause(struct stream *s);
/** Restart a paused stream 100 ms from now. @return 0, or -EAGAIN while still pausing / running */
int stream_resume(struct stream *s);
/** Move the source by @delta_ms (a pause and a resume around it when running). */
void stream_seek(struct stream *s, int64_t delta_ms);
/** End early: the packets already built still leave (nothing does before the first launch). */
void stream_stop(struct stream *s);
void stream_status(struct stream *s, struct stream_status *st);
/**
 * The one-line status ("   3.2/10.0 s  packets 3200  late 0  p99 12.0 us snd"), no newline.
 * @return its length (as snprintf)
 */
int stream_status_text(struct stream *s, char *buf, size_t len);
/** Wait for both threads (after stream_done(), or to stop the stream now: see stream_stop()). */
void stream_join(struct stream *s);
/**
 * After stream_join(): the profile lets the receiver play what it holds and closes the session.
 * @return 0, or -errno when the receiver was lost (now or while streaming), the reason in @err
 */
int stream_finish(struct stream *s, char *err, size_t errlen);
/** The text summary (what send prints at the end) to @f. */
void stream_summary(struct stream *s, FILE *f);
/** Log each way the stream fell short (bounced packets, qdisc drops, unpaced packets, ...). */
void stream_log_problems(struct stream *s);
/** The JSON report to @f. @return 0, or -EIO when writing failed */
int stream_report(struct stream *s, FILE *f);
/**
 * @return 1 when every built packet was sent, none early or unpaced, none came back or was
 * dropped, the source decoded cleanly and the profile met every duty; else 0
 */
int stream_complete(struct stream *s);
/** Stop what still runs, undo the kernel setup, close everything. NULL is a no-op. */
void stream_close(struct stream *s);

#endif
