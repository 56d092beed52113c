// SPDX-License-Identifier: GPL-2.0-only
/*
 * Measure module, analysis: of the packets in arrival order, reordering, intervals and bursts; in
 * sequence order, duplicates, loss, the RTP step and a least-squares schedule whose residuals are
 * the deviation; the media clock comparison; the report as JSON and text.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "txpace/muldiv.h"
#include "txpace/clock.h"
#include "measure_priv.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int cmp_rec_seq(const void *a, const void *b)
{
	const struct measure_rec *x = a, *y = b;

	if (x->seq != y->seq) {
		return x->seq < y->seq ? -1 : 1;
	}
	return x->arrival_ns < y->arrival_ns ? -1 : x->arrival_ns > y->arrival_ns;
}

static double pct(const double *sorted, size_t n, double q)
{
	size_t i;

	if (n == 0) {
		return 0;
	}
	i = (size_t)ceil(q * (double)n) - (q > 0);
	return sorted[i >= n ? n - 1 : i];
}

/* Arrival order: reordering and inter-arrival intervals. */
static int arrival_order(const struct measure_rec *recs, size_t n, struct measure_report *r)
{
	uint64_t max_seen = 0;
	double *iv = malloc(n * sizeof(*iv));

	if (!iv) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && recs[i].seq < max_seen) {
			r->reordered++;
		}
		if (recs[i].seq > max_seen) {
			max_seen = recs[i].seq;
		}
		if (i > 0) {
			iv[i - 1] = (double)(recs[i].arrival_ns - recs[i - 1].arrival_ns) / 1e3;
		}
	}
	if (n > 1) {
		qsort(iv, n - 1, sizeof(*iv), cmp_dbl);
		r->int_min = iv[0];
		r->int_p50 = pct(iv, n - 1, 0.5);
		r->int_max = iv[n - 2];
	}
	free(iv);
	return 0;
}

/* Bursts: the most packets inside any window of half the median interval. */
static void bursts(const struct measure_rec *recs, size_t n, struct measure_report *r)
{
	int64_t win = (int64_t)(r->int_p50 * 1e3 / 2);

	r->burst_max = 1;
	for (size_t i = 0, j = 0; i < n; i++) {
		while (recs[i].arrival_ns - recs[j].arrival_ns > win) {
			j++;
		}
		if (i - j + 1 > r->burst_max) {
			r->burst_max = i - j + 1;
		}
	}
}

/* Sequence order: duplicates dropped, the range and the loss. @return the packets kept */
static size_t sequence_order(struct measure_rec *recs, size_t n, struct measure_report *r)
{
	size_t nu = 0;

	qsort(recs, n, sizeof(*recs), cmp_rec_seq);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && recs[i].seq == recs[nu - 1].seq) {
			r->duplicates++;
			continue;
		}
		recs[nu++] = recs[i];
	}
	r->first_seq = recs[0].seq & 0xffff;
	r->last_seq = recs[nu - 1].seq & 0xffff;
	r->lost = recs[nu - 1].seq - recs[0].seq + 1 - nu;
	return nu;
}

/* The RTP timestamp step between consecutive packets: the most common, and how many differ. */
static void rtp_step(const struct measure_rec *recs, size_t nu, uint64_t *steps,
		     struct measure_report *r)
{
	uint64_t best = 0, cnt = 0, bestcnt = 0;
	size_t ns = 0;

	for (size_t i = 1; i < nu; i++) {
		if (recs[i].seq == recs[i - 1].seq + 1) {
			steps[ns++] = (uint32_t)(recs[i].ts - recs[i - 1].ts);
		}
	}
	if (!ns) {
		return;
	}
	qsort(steps, ns, sizeof(*steps), cmp_u64);
	for (size_t i = 0; i < ns; i++) {
		cnt = (i > 0 && steps[i] == steps[i - 1]) ? cnt + 1 : 1;
		if (cnt > bestcnt) {
			bestcnt = cnt;
			best = steps[i];
		}
	}
	r->rtp_step = (int64_t)best;
	r->rtp_step_errors = ns - bestcnt;
}

/*
 * Least-squares line through (RTP time, arrival): removes offset and clock drift. Centred on the
 * means (two passes), so hours of nanoseconds keep their precision in doubles. @res gets each
 * packet's residual in µs.
 */
static void schedule_fit(const struct measure_rec *recs, size_t nu, double *res,
			 struct measure_report *r)
{
	double mx = 0, my = 0, sxx = 0, sxy = 0, slope = 0;
	int64_t t0 = recs[0].arrival_ns;
	uint64_t x_ext = 0;

	for (size_t i = 0; i < nu; i++) {
		if (i > 0) {
			x_ext += (uint32_t)(recs[i].ts - recs[i - 1].ts);
		}
		res[i] = (double)x_ext;	/* x kept here until the fit is known */
		mx += res[i];
		my += (double)(recs[i].arrival_ns - t0);
	}
	mx /= (double)nu;
	my /= (double)nu;
	for (size_t i = 0; i < nu; i++) {
		double dx = res[i] - mx, dy = (double)(recs[i].arrival_ns - t0) - my;

		sxx += dx * dx;
		sxy += dx * dy;
	}
	if (nu > 1 && sxx > 0) {
		slope = sxy / sxx;
		r->clock_rate = slope > 0 ? 1e9 / slope : 0;
	}
	for (size_t i = 0; i < nu; i++) {
		double dy = (double)(recs[i].arrival_ns - t0) - my;

		res[i] = (dy - slope * (res[i] - mx)) / 1e3;
	}
}

/* The percentiles of |residual|, sorted in @dev. */
static void deviation(const double *res, double *dev, size_t nu, struct measure_report *r)
{
	for (size_t i = 0; i < nu; i++) {
		dev[i] = fabs(res[i]);
	}
	qsort(dev, nu, sizeof(*dev), cmp_dbl);
	r->dev_p50 = pct(dev, nu, 0.5);
	r->dev_p99 = pct(dev, nu, 0.99);
	r->dev_p999 = pct(dev, nu, 0.999);
	r->dev_max = dev[nu - 1];
}

int measure_analyse(struct measure_rec *recs, size_t n, struct measure_report *r,
		    double **residuals_out)
{
	uint64_t *steps;
	double *dev, *res;
	size_t nu;
	int rc;

	r->packets = n;
	if (residuals_out) {
		*residuals_out = NULL;
	}
	if (n == 0) {
		return 0;
	}
	rc = arrival_order(recs, n, r);
	if (rc) {
		return rc;
	}
	bursts(recs, n, r);
	r->duration_s = (double)(recs[n - 1].arrival_ns - recs[0].arrival_ns) / 1e9;
	nu = sequence_order(recs, n, r);
	steps = malloc(nu * sizeof(*steps));
	dev = malloc(nu * sizeof(*dev));
	res = malloc(nu * sizeof(*res));
	if (!steps || !dev || !res) {
		free(steps);
		free(dev);
		free(res);
		return -ENOMEM;
	}
	rtp_step(recs, nu, steps, r);
	schedule_fit(recs, nu, res, r);
	deviation(res, dev, nu, r);
	free(steps);
	free(dev);
	if (residuals_out) {
		*residuals_out = res;
	} else {
		free(res);
	}
	return (int)nu;
}

/* RTP time of each packet against its arrival on the media clock (PTP = REALTIME + off). */
void measure_media_clock(const struct measure_rec *recs, size_t n, uint32_t rate,
			 int64_t offset_ns, struct measure_report *r)
{
	double *d = malloc(n * sizeof(*d));

	if (!d) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t t = (uint64_t)(recs[i].arrival_ns + offset_ns);
		uint32_t expect = (uint32_t)mul_div_u64(t, rate, NSEC_PER_SEC, NULL);
		int32_t diff = (int32_t)(recs[i].ts - expect);

		d[i] = (double)diff * 1e6 / rate;
	}
	qsort(d, n, sizeof(*d), cmp_dbl);
	r->media_clock = 1;
	r->media_p50 = d[n / 2];
	r->media_max = fmax(fabs(d[0]), fabs(d[n - 1]));
	free(d);
}

void measure_report_json(struct json *j, const char *key, const struct measure_report *r)
{
	json_obj(j, key);
	json_uint(j, "packets", r->packets);
	json_uint(j, "lost", r->lost);
	json_uint(j, "reordered", r->reordered);
	json_uint(j, "duplicates", r->duplicates);
	json_uint(j, "invalid", r->invalid);
	json_uint(j, "other_ssrc", r->other_ssrc);
	json_uint(j, "ssrc", r->ssrc);
	json_uint(j, "pt", r->pt);
	json_uint(j, "first_seq", r->first_seq);
	json_uint(j, "last_seq", r->last_seq);
	json_obj(j, "deviation_us");
	json_num(j, "p50", r->dev_p50);
	json_num(j, "p99", r->dev_p99);
	json_num(j, "p999", r->dev_p999);
	json_num(j, "max", r->dev_max);
	json_end(j, '}');
	json_obj(j, "interval_us");
	json_num(j, "min", r->int_min);
	json_num(j, "p50", r->int_p50);
	json_num(j, "max", r->int_max);
	json_end(j, '}');
	json_uint(j, "burst_max", r->burst_max);
	json_obj(j, "rtp_step");
	json_int(j, "value", r->rtp_step);
	json_uint(j, "errors", r->rtp_step_errors);
	json_end(j, '}');
	json_num(j, "clock_rate_hz", r->clock_rate);
	json_num(j, "duration_s", r->duration_s);
	json_uint(j, "payload_bytes", r->payload_bytes);
	if (r->media_clock) {
		json_obj(j, "media_clock_offset_us");
		json_num(j, "p50", r->media_p50);
		json_num(j, "max_abs", r->media_max);
		json_end(j, '}');
	}
	json_end(j, '}');
}

void measure_report_text(FILE *f, const char *title, const struct measure_report *r)
{
	fprintf(f, "%s: %" PRIu64 " packets in %.2f s, lost %" PRIu64 ", reordered %" PRIu64
		   ", duplicates %" PRIu64 ", RTP step %" PRId64 " (%" PRIu64 " wrong)\n",
		title, r->packets, r->duration_s, r->lost, r->reordered, r->duplicates, r->rtp_step,
		r->rtp_step_errors);
	fprintf(f, "  |deviation from schedule| us: p50 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n",
		r->dev_p50, r->dev_p99, r->dev_p999, r->dev_max);
	fprintf(f, "  inter-arrival us: min %.1f  median %.1f  max %.1f; largest burst %" PRIu64
		   " packets\n", r->int_min, r->int_p50, r->int_max, r->burst_max);
}
