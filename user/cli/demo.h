/* SPDX-License-Identifier: GPL-2.0-only */
/* The demo's private namespaces, shared with `txpace probe --calibrate`. */
#ifndef TXPACE_CLI_DEMO_H
#define TXPACE_CLI_DEMO_H

#include "txpace/measure.h"

/* `txpace probe --calibrate`: each backend for a few seconds over a throwaway veth pair. */
struct calib_row {
	const char *name, *backend, *stamp;
	int ok;
	char why[200];		/* why it could not run (the sender's one line) */
	struct measure_report m;
};

/** @return rows filled (each available backend measured), or -errno */
int demo_calibrate(int seconds, struct calib_row *rows, int max);

#endif
