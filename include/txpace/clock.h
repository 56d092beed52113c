/* SPDX-License-Identifier: GPL-2.0-only */
/* The three clocks a sender deals with, and the offsets between them, sampled and tracked. */
#ifndef TXPACE_CLOCK_H
#define TXPACE_CLOCK_H

#include <stdint.h>
#include <time.h>

#define NSEC_PER_SEC 1000000000LL
#define NSEC_PER_USEC 1000LL
#define NSEC_PER_MSEC 1000000LL

/** @return the clock's time in ns (0 on failure, which does not happen for these clocks) */
int64_t clock_ns(clockid_t id);
static inline int64_t mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}
struct timespec ns_to_ts(int64_t ns);
static inline int64_t ts_to_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * NSEC_PER_SEC + ts->tv_nsec;
}

/*
 * Offsets of CLOCK_REALTIME and CLOCK_TAI from CLOCK_MONOTONIC. Each sample takes the narrowest
 * of several mono/other/mono sandwiches; clocks_track() resamples and notices steps (an NTP or
 * PTP step, a leap-second or TAI-offset change) so conversions stay right over a long stream.
 * Offsets are atomics: one thread tracks, any thread converts.
 */
struct clocks;

struct clocks *clocks_new(void);
void clocks_free(struct clocks *c);
/** Resample the offsets. @return the largest step in ns since the previous sample (absolute) */
int64_t clocks_track(struct clocks *c);
/** @return offset (clock - MONOTONIC) in ns for CLOCK_REALTIME or CLOCK_TAI, 0 for MONOTONIC */
int64_t clocks_offset(const struct clocks *c, clockid_t id);
/** @return the uncertainty of the last sample in ns (sandwich width) */
int64_t clocks_uncertainty(const struct clocks *c);
/** @return the drift of CLOCK_REALTIME against MONOTONIC in parts per billion (0 until known) */
int64_t clocks_drift_ppb(const struct clocks *c);
static inline int64_t clocks_from_mono(const struct clocks *c, clockid_t id, int64_t mono)
{
	return mono + clocks_offset(c, id);
}
static inline int64_t clocks_to_mono(const struct clocks *c, clockid_t id, int64_t t)
{
	return t - clocks_offset(c, id);
}

#endif
