// SPDX-License-Identifier: GPL-2.0-only
/*
 * Measure module: RX-stamped RTP capture and the whole measurement (measure_run). The analysis
 * is measure_analyse.c, the plot measure_plot.c.
 */
#include <errno.h>
#include <inttypes.h>
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
#include "measure_priv.h"

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

/* The socket, with kernel receive stamps. @return it, or a negative errno (the reason in @err) */
static int listen_stamped(const struct measure_cfg *cfg, char *err, size_t errlen)
{
	int fd, on = 1, rc;
	char a[80];

	fd = net_udp_listen(&cfg->listen, cfg->have_group ? &cfg->group : NULL, cfg->iface);
	if (fd < 0) {
		snprintf(err, errlen, "cannot listen on %s%s%s: %s", net_fmt(&cfg->listen, a, sizeof(a)),
			 cfg->iface ? " on " : "", cfg->iface ? cfg->iface : "", strerror(-fd));
		return fd;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on))) {
		rc = -errno;
		snprintf(err, errlen, "no kernel receive timestamps: %s", strerror(errno));
		close(fd);
		return rc;
	}
	pr_debug("listening on %s", net_fmt(&cfg->listen, a, sizeof(a)));
	return fd;
}

/* Receive until @end (0: no end), @cfg's packet limit or the stop request. @return 0 or -errno */
static int capture(int fd, struct capture *c, const struct measure_cfg *cfg, int64_t end,
		   char *err, size_t errlen)
{
	int rc = 0;

	while (!txp_stopped(cfg->stop)) {
		int64_t now = mono_ns();
		int tmo = 100;

		if (end && now >= end) {
			break;
		}
		if (cfg->max_packets && c->n >= cfg->max_packets) {
			break;
		}
		if (end && (end - now) / NSEC_PER_MSEC < tmo) {
			tmo = (int)((end - now) / NSEC_PER_MSEC) + 1;
		}
		rc = receive(fd, c, tmo, cfg->max_packets);
		if (rc) {
			break;
		}
	}
	/* whatever the sender handed over before we were told to stop is already queued */
	if (!rc) {
		rc = receive(fd, c, 0, cfg->max_packets);
	}
	if (rc) {
		snprintf(err, errlen, "receive failed: %s", strerror(-rc));
	}
	return rc;
}

/* The payloads of the @nu packets kept, in sequence order. @return 0 or -errno (and @err) */
static int write_payload(const char *path, const struct capture *c, size_t nu,
			 struct measure_report *out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "w");
	int werr = 0;

	for (size_t i = 0; f && i < nu && !werr; i++) {
		werr = fwrite(c->pay + c->recs[i].off, 1, c->recs[i].len, f) != c->recs[i].len;
		out->payload_bytes += c->recs[i].len;
	}
	if (f && (werr || ferror(f))) {
		fclose(f);
		f = NULL;
		errno = EIO;
	}
	if (!f || fclose(f)) {
		int rc = -errno;

		snprintf(err, errlen, "cannot write %s: %s", path, strerror(-rc));
		return rc;
	}
	return 0;
}

int measure_run(const struct measure_cfg *cfg, struct measure_report *out, int ready_fd, char *err,
		size_t errlen)
{
	struct capture c = { .keep_payload = cfg->payload_path != NULL };
	int64_t end = cfg->seconds_ns ? mono_ns() + cfg->seconds_ns : 0;
	double *res = NULL;
	int fd, rc;
	size_t nu;

	memset(out, 0, sizeof(*out));
	fd = listen_stamped(cfg, err, errlen);
	if (fd < 0) {
		return fd;
	}
	if (ready_fd >= 0) {
		if (write(ready_fd, "r", 1) != 1) {
			pr_debug("ready notification failed");
		}
		close(ready_fd);
	}
	rc = capture(fd, &c, cfg, end, err, errlen);
	if (rc) {
		goto out;
	}
	out->invalid = c.invalid;
	out->other_ssrc = c.other_ssrc;
	out->ssrc = c.ssrc;
	out->pt = c.pt;
	if (cfg->media_clock && c.n) {
		measure_media_clock(c.recs, c.n, cfg->media_clock, cfg->media_offset_ns, out);
	}
	rc = measure_analyse(c.recs, c.n, out, cfg->plot_path ? &res : NULL);
	if (rc < 0) {
		snprintf(err, errlen, "analysis failed: %s", strerror(-rc));
		goto out;
	}
	nu = (size_t)rc;
	rc = 0;
	if (cfg->payload_path) {
		rc = write_payload(cfg->payload_path, &c, nu, out, err, errlen);
		if (rc) {
			goto out;
		}
	}
	if (cfg->plot_path) {
		rc = measure_write_plot(cfg->plot_path, c.recs, res, nu, out);
		if (rc) {
			snprintf(err, errlen, "cannot write %s: %s", cfg->plot_path, strerror(-rc));
		}
	}
out:
	free(res);
	free(c.recs);
	free(c.pay);
	close(fd);
	return rc;
}
