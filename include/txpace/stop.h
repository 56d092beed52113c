/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stopping a long-running call of the library. The caller owns the flag (a signal handler or
 * another thread sets it) and hands the library a pointer to it; the library only reads it.
 * NULL never stops.
 */
#ifndef TXPACE_STOP_H
#define TXPACE_STOP_H

#include <signal.h>

typedef volatile sig_atomic_t txp_stop_flag;

static inline int txp_stopped(const txp_stop_flag *stop)
{
	return stop && *stop;
}

#endif
