// SPDX-License-Identifier: GPL-2.0-only
/* Measure module, plots: the deviation from the fitted schedule as an SVG of two panels. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "measure_priv.h"

int measure_write_plot(const char *path, const struct measure_rec *recs, const double *res,
		       size_t n, const struct measure_report *r)
{
	const int W = 900, H = 300, M = 50;
	double maxabs = r->dev_max > 1 ? r->dev_max : 1, t_end;
	enum { BINS = 60 };
	uint64_t bins[BINS] = { 0 }, bmax = 1;
	FILE *f = fopen(path, "w");

	if (!f) {
		return -errno;
	}
	for (size_t i = 0; i < n; i++) {
		int b = (int)(fabs(res[i]) / maxabs * (BINS - 1));

		bins[b]++;
	}
	for (int b = 0; b < BINS; b++) {
		bmax = bins[b] > bmax ? bins[b] : bmax;
	}
	fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' "
		   "font-family='sans-serif' font-size='12'>\n<rect width='100%%' height='100%%' "
		   "fill='white'/>\n", W, 2 * H + 40);
	fprintf(f, "<text x='%d' y='20'>|deviation from fitted schedule|, %" PRIu64 " packets: p50 "
		   "%.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f us (count, log scale)</text>\n",
		M, r->packets, r->dev_p50, r->dev_p99, r->dev_p999, r->dev_max);
	double bw = (double)(W - 2 * M) / BINS, lmax = log10((double)bmax + 1);

	for (int b = 0; b < BINS; b++) {
		double h = bins[b] ? log10((double)bins[b] + 1) / lmax * (H - 2 * M) : 0;

		fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='steelblue'/>\n",
			M + b * bw, H - M - h, bw - 1, h);
	}
	fprintf(f, "<text x='%d' y='%d'>0</text><text x='%d' y='%d' text-anchor='end'>%.1f us</text>\n",
		M, H - M + 15, W - M, H - M + 15, maxabs);
	t_end = n > 1 ? (double)(recs[n - 1].arrival_ns - recs[0].arrival_ns) : 1;
	fprintf(f, "<text x='%d' y='%d'>deviation over time (us), %.1f s</text>\n", M, H + 30,
		t_end / 1e9);
	fprintf(f, "<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='gray'/>\n", M, H + 40 + H / 2 - 20,
		W - M, H + 40 + H / 2 - 20);
	/* at most one min/max pair per pixel column */
	int cols = W - 2 * M;

	fprintf(f, "<path fill='none' stroke='darkred' stroke-width='1' d='");
	for (int cx = 0; cx < cols && n; cx++) {
		size_t a = (size_t)((double)cx / cols * (double)n), b = (size_t)((double)(cx + 1) / cols * (double)n);
		double lo = 1e300, hi = -1e300;

		if (b <= a) {
			b = a + 1;
		}
		for (size_t i = a; i < b && i < n; i++) {
			lo = fmin(lo, res[i]);
			hi = fmax(hi, res[i]);
		}
		double mid = H + 40 + H / 2 - 20, sc = (H / 2 - 30) / maxabs;

		fprintf(f, "M%d %.1fL%d %.1f", M + cx, mid - hi * sc, M + cx, mid - lo * sc + 0.5);
	}
	fprintf(f, "'/>\n<text x='%d' y='%d'>+%.1f</text><text x='%d' y='%d'>-%.1f</text>\n</svg>\n",
		5, H + 40 + 15, maxabs, 5, 2 * H + 30, maxabs);
	return fclose(f) ? -errno : 0;
}
