/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Measure module, inside: the calls between its files. measure.c captures (kernel RX stamps) and
 * runs the whole measurement; measure_analyse.c fits the schedule and computes the statistics
 * (txpace/measure.h); measure_plot.c draws them.
 */
#ifndef TXPACE_MEASURE_PRIV_H
#define TXPACE_MEASURE_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "txpace/measure.h"

/**
 * Compare the RTP time of @n records with their arrival on the media clock (CLOCK_REALTIME +
 * @offset_ns, at @rate): @r's media_p50 and media_max. Without memory it leaves @r as it is.
 */
void measure_media_clock(const struct measure_rec *recs, size_t n, uint32_t rate,
			 int64_t offset_ns, struct measure_report *r);
/**
 * Two SVG panels into @path: the |deviation| histogram (log counts) and the deviation over time.
 * @res the residuals of the @n records measure_analyse() kept. @return 0 or a negative errno
 */
int measure_write_plot(const char *path, const struct measure_rec *recs, const double *res,
		       size_t n, const struct measure_report *r);

#endif
