// SPDX-License-Identifier: GPL-2.0-only
/* Worker threads of the library: small stacks, the stop signals left to the caller's threads. */
#include <pthread.h>
#include <signal.h>

#include "txpace/worker.h"

void worker_block(sigset_t *saved)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, saved);
}

void worker_restore(const sigset_t *saved)
{
	pthread_sigmask(SIG_SETMASK, saved, NULL);
}

int worker_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	pthread_attr_t a;
	sigset_t saved;
	int rc;

	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, WORKER_STACK);
	worker_block(&saved);
	rc = pthread_create(t, &a, fn, arg);
	worker_restore(&saved);
	pthread_attr_destroy(&a);
	return -rc;
}
