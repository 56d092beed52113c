// SPDX-License-Identifier: GPL-2.0-only
/* Measure module: RX-stamped RTP capture, schedule fit, deviation and loss statistics, plots. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "txpace/stop.h"
#include "txpace/clock.h"
#include "txpace/log.h"
#include "txpace/measure.h"
#include "txpace/rtp.h"

struct capture {
	struct measure_rec *recs;
	size_t n, cap;
	uint8_t *pay;
	size_t pay_len, pay_cap;
	int keep_payload;
	int have_ssrc;
	uint32_t ssrc;
	uint8_t pt;
	uint64_t ext_max;
	uint64_t invalid, other_ssrc;
};

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t nc = *cap ? *cap : 1024;
	void *np;

	if (need <= *cap) {
		return 0;
	}
	while (nc < need) {
		nc *= 2;
	}
	np = realloc(*p, nc * elem);
	if (!np) {
		return -ENOMEM;
	}
	*p = np;
	*cap = nc;
	return 0;
}

static int on_packet(struct capture *c, const uint8_t *b, size_t len, int64_t arrival)
{
	struct rtp_hdr h;
	struct measure_rec *r;
	uint64_t ext;

	if (rtp_parse(b, len, &h)) {
		c->invalid++;
		return 0;
	}
	if (!c->have_ssrc) {
		c->have_ssrc = 1;
		c->ssrc = h.ssrc;
		c->pt = h.pt;
		/* start high enough that an early reordered packet cannot go below zero */
		ext = (1ull << 32) + h.seq;
	} else if (h.ssrc != c->ssrc) {
		c->other_ssrc++;
		return 0;
	} else {
		ext = c->ext_max + (uint64_t)(int64_t)(int16_t)(h.seq - (uint16_t)c->ext_max);
	}
	if (c->n == 0 || ext > c->ext_max) {
		c->ext_max = ext;
	}
	if (grow((void **)&c->recs, &c->cap, c->n + 1, sizeof(*c->recs))) {
		return -ENOMEM;
	}
	r = &c->recs[c->n++];
	r->seq = ext;
	r->ts = h.ts;
	r->arrival_ns = arrival;
	r->off = c->pay_len;
	r->len = h.payload_len;
	if (c->keep_payload) {
		if (grow((void **)&c->pay, &c->pay_cap, c->pay_len + h.payload_len, 1)) {
			return -ENOMEM;
		}
		memcpy(c->pay + c->pay_len, b + h.payload_off, h.payload_len);
		c->pay_len += h.payload_len;
	}
	return 0;
}

/* Read every queued datagram; @block waits up to @timeout_ms for the first. */
static int receive(int fd, struct capture *c, int timeout_ms, uint64_t limit)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	uint8_t buf[65536];

	if (timeout_ms != 0 && poll(&pfd, 1, timeout_ms) <= 0) {
		return 0;
	}
	for (;;) {
		char ctrl[256];
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl,
				      .msg_controllen = sizeof(ctrl) };
		int64_t arrival;
		ssize_t n;

		if (limit && c->n >= limit) {
			return 0;
		}
		n = recvmsg(fd, &msg, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR) {
				return 0;
			}
			return -errno;
		}
		arrival = net_rx_stamp(&msg);
		if (on_packet(c, buf, (size_t)n, arrival)) {
			return -ENOMEM;
		}
	}
}

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

int measure_analyse(struct measure_rec *recs, size_t n, struct measure_report *r,
		    double **residuals_out)
{
	uint64_t max_seen = 0, *steps = NULL;
	double *iv = NULL, *dev = NULL, *res = NULL;
	size_t nu = 0, ns = 0;

	r->packets = n;
	if (residuals_out) {
		*residuals_out = NULL;
	}
	if (n == 0) {
		return 0;
	}
	/* arrival order: reordering and inter-arrival intervals */
	iv = malloc(n * sizeof(*iv));
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
	/* bursts: the most packets inside any window of half the median interval */
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
	r->duration_s = (double)(recs[n - 1].arrival_ns - recs[0].arrival_ns) / 1e9;

	/* sequence order: duplicates, loss, RTP timestamp steps, schedule fit */
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
	steps = malloc(nu * sizeof(*steps));
	dev = malloc(nu * sizeof(*dev));
	res = malloc(nu * sizeof(*res));
	if (!steps || !dev || !res) {
		free(steps);
		free(dev);
		free(res);
		return -ENOMEM;
	}
	for (size_t i = 1; i < nu; i++) {
		if (recs[i].seq == recs[i - 1].seq + 1) {
			steps[ns++] = (uint32_t)(recs[i].ts - recs[i - 1].ts);
		}
	}
	if (ns) {
		uint64_t best = 0, cnt = 0, bestcnt = 0;

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
	 * Least-squares line through (RTP time, arrival): removes offset and clock drift. Centred
	 * on the means (two passes), so hours of nanoseconds keep their precision in doubles.
	 */
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
		dev[i] = fabs(res[i]);
	}
	qsort(dev, nu, sizeof(*dev), cmp_dbl);
	r->dev_p50 = pct(dev, nu, 0.5);
	r->dev_p99 = pct(dev, nu, 0.99);
	r->dev_p999 = pct(dev, nu, 0.999);
	r->dev_max = dev[nu - 1];
	free(steps);
	free(dev);
	if (residuals_out) {
		*residuals_out = res;
	} else {
		free(res);
	}
	return (int)nu;
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

/* Two panels: |deviation| histogram (log counts) and deviation over time. */
static int write_plot(const char *path, const struct measure_rec *recs, const double *res, size_t n,
		      const struct measure_report *r)
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

int measure_run(const struct measure_cfg *cfg, struct measure_report *out, int ready_fd)
{
	struct capture c = { .keep_payload = cfg->payload_path != NULL };
	int fd, on = 1, rc = 0;
	int64_t end = cfg->seconds_ns ? mono_ns() + cfg->seconds_ns : 0;
	char a[80];
	double *res = NULL;

	memset(out, 0, sizeof(*out));
	fd = net_udp_listen(&cfg->listen, cfg->have_group ? &cfg->group : NULL, cfg->iface);
	if (fd < 0) {
		pr_err("cannot listen on %s%s%s: %s", net_fmt(&cfg->listen, a, sizeof(a)),
		       cfg->iface ? " on " : "", cfg->iface ? cfg->iface : "", strerror(-fd));
		return fd;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on))) {
		rc = -errno;
		pr_err("no kernel receive timestamps: %s", strerror(errno));
		goto out;
	}
	pr_debug("listening on %s", net_fmt(&cfg->listen, a, sizeof(a)));
	if (ready_fd >= 0) {
		if (write(ready_fd, "r", 1) != 1) {
			pr_debug("ready notification failed");
		}
		close(ready_fd);
	}
	while (!txp_stopped(cfg->stop)) {
		int64_t now = mono_ns();
		int tmo = 100;

		if (end && now >= end) {
			break;
		}
		if (cfg->max_packets && c.n >= cfg->max_packets) {
			break;
		}
		if (end && (end - now) / NSEC_PER_MSEC < tmo) {
			tmo = (int)((end - now) / NSEC_PER_MSEC) + 1;
		}
		rc = receive(fd, &c, tmo, cfg->max_packets);
		if (rc) {
			break;
		}
	}
	/* whatever the sender handed over before we were told to stop is already queued */
	if (!rc) {
		rc = receive(fd, &c, 0, cfg->max_packets);
	}
	if (rc) {
		pr_err("receive failed: %s", strerror(-rc));
		goto out;
	}
	out->invalid = c.invalid;
	out->other_ssrc = c.other_ssrc;
	out->ssrc = c.ssrc;
	out->pt = c.pt;
	if (cfg->media_clock && c.n) {
		/* RTP time of each packet against its arrival on the media clock (PTP = REALTIME + off) */
		double *d = malloc(c.n * sizeof(*d));

		if (d) {
			for (size_t i = 0; i < c.n; i++) {
				unsigned __int128 t = (unsigned __int128)(uint64_t)(c.recs[i].arrival_ns +
									    cfg->media_offset_ns);
				uint32_t expect = (uint32_t)(t * cfg->media_clock / NSEC_PER_SEC);
				int32_t diff = (int32_t)(c.recs[i].ts - expect);

				d[i] = (double)diff * 1e6 / cfg->media_clock;
			}
			qsort(d, c.n, sizeof(*d), cmp_dbl);
			out->media_clock = 1;
			out->media_p50 = d[c.n / 2];
			out->media_max = fmax(fabs(d[0]), fabs(d[c.n - 1]));
			free(d);
		}
	}
	rc = measure_analyse(c.recs, c.n, out, cfg->plot_path ? &res : NULL);
	if (rc < 0) {
		pr_err("analysis failed: %s", strerror(-rc));
		goto out;
	}
	size_t nu = (size_t)rc;

	rc = 0;
	if (cfg->payload_path) {
		FILE *f = fopen(cfg->payload_path, "w");
		int werr = 0;

		for (size_t i = 0; f && i < nu && !werr; i++) {
			werr = fwrite(c.pay + c.recs[i].off, 1, c.recs[i].len, f) != c.recs[i].len;
			out->payload_bytes += c.recs[i].len;
		}
		if (f && (werr || ferror(f))) {
			fclose(f);
			f = NULL;
			errno = EIO;
		}
		if (!f || fclose(f)) {
			rc = -errno;
			pr_err("cannot write %s: %s", cfg->payload_path, strerror(errno));
			goto out;
		}
	}
	if (cfg->plot_path) {
		rc = write_plot(cfg->plot_path, c.recs, res, nu, out);
		if (rc) {
			pr_err("cannot write %s: %s", cfg->plot_path, strerror(-rc));
		}
	}
out:
	free(res);
	free(c.recs);
	free(c.pay);
	close(fd);
	return rc;
}
