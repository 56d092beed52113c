/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The library's worker threads: small stacks, and the stop signals (SIGINT, SIGTERM, SIGHUP)
 * blocked in them, so that the caller's handler runs on the caller's thread and ends its waits.
 */
#ifndef TXPACE_WORKER_H
#define TXPACE_WORKER_H

#include <pthread.h>
#include <signal.h>
#include <stddef.h>

/*
 * Under mlockall every stack page is faulted in when the thread is created: the default 8 MiB
 * costs milliseconds. A worker's loop needs a few KiB.
 */
#define WORKER_STACK (256 * 1024)

/**
 * Block the stop signals in the calling thread (threads it creates inherit that); @saved gets
 * the mask worker_restore() puts back.
 */
void worker_block(sigset_t *saved);
/** Restore the mask worker_block() saved. */
void worker_restore(const sigset_t *saved);
/** Start @fn(@arg) with a WORKER_STACK stack and the stop signals blocked. @return 0 or -errno */
int worker_start(pthread_t *t, void *(*fn)(void *), void *arg);

#endif
