// SPDX-License-Identifier: GPL-2.0-only
/*
 * Profile airplay2, its timing: the PTP master (aptp.h) on the RTSP connection's address, on
 * ptp4l's timeline where ptp4l runs here (CLOCK_REALTIME: AirPlay 2 and AES67 receivers play the
 * same instant), else on CLOCK_MONOTONIC; the control port; and what the session serves between
 * its exchanges (the PTP master, the event connection).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "txpace/clock.h"
#include "txpace/log.h"
#include "txpace/ptp.h"
#include "ap2_priv.h"

int64_t ap2_to_ptp_clock(const struct ap2 *a)
{
	/* (REALTIME - MONOTONIC changes only when the clock is stepped: read it each time) */
	return a->ptp_rt ? clock_ns(CLOCK_REALTIME) - mono_ns() : 0;
}

int ap2_bg_poll_fds(struct ap2 *a, struct pollfd *pfd, int max)
{
	int n = aptp_poll_fds(a->ptp, pfd, max);

	if (a->ev.fd >= 0 && n < max) {
		pfd[n++] = (struct pollfd){ a->ev.fd, POLLIN, 0 };
	}
	return n;
}

int ap2_ptp_service(struct ap2 *a, int64_t now, int64_t *next, char *err, size_t errlen)
{
	int64_t off = ap2_to_ptp_clock(a), n = INT64_MAX;
	int rc = aptp_service(a->ptp, now + off, &n);

	ap2_events_service(a);
	if (rc) {
		snprintf(err, errlen, "PTP master: %s", strerror(-rc));
		return rc;
	}
	if (n != INT64_MAX && n - off < *next) {
		*next = n - off;
	}
	return 0;
}

/*
 * The PTP timeline: ptp4l's where it runs here and is locked (an AES67 installation: AirPlay 2
 * and AES67 receivers then play one instant), else CLOCK_MONOTONIC (never stepped).
 */
static void ptp_timeline(struct ap2 *a, const struct profile_opts *o, struct aptp_cfg *cfg)
{
	const char *sock = o->ptp_socket ? o->ptp_socket : PTP_DEFAULT_SOCKET;
	struct ptp_status st = { 0 };
	char e[256] = "is not locked";
	int rc = ptp_query(sock, (uint8_t)o->ptp_domain, &st, 200, e, sizeof(e));

	if (rc || !st.locked) {
		if (o->ptp_socket) {
			pr_warn("airplay2: ptp4l at %s: %s: the PTP timeline is this host's own "
				"(CLOCK_MONOTONIC)", sock, rc ? e : "not locked");
		}
		return;
	}
	a->ptp_rt = 1;
	cfg->clock = CLOCK_REALTIME;
	cfg->offset_ns = ptp_realtime_offset(&st);
	cfg->ptp_timescale = st.ptp_timescale;
	cfg->utc_offset = st.utc_offset;
	cfg->share_with_ptp4l = 1;
	pr_info("airplay2: PTP timeline: ptp4l's (domain %ld, %s), as AES67 receivers play it",
		o->ptp_domain, st.ptp_timescale ? "TAI" : "arbitrary timescale");
}

int ap2_open_ports(struct ap2 *a, const struct profile_opts *o, char *err, size_t errlen)
{
	struct aptp_cfg cfg = { .local = rtsp_local(a->rtsp), .iface = o->iface,
				.clock = CLOCK_MONOTONIC, .hw_stamps = 1 };
	int rc;

	ptp_timeline(a, o, &cfg);
	a->ctl_fd = net_udp_ephemeral(rtsp_local(a->rtsp), &a->ctl_port);
	if (a->ctl_fd < 0) {
		snprintf(err, errlen, "cannot open the control port: %s", strerror(-a->ctl_fd));
		return a->ctl_fd;
	}
	a->ptp = aptp_new(&cfg, err, errlen);
	if (!a->ptp) {
		return -EIO;
	}
	rc = aptp_add_peer(a->ptp, &a->peer);
	if (rc) {
		snprintf(err, errlen, "PTP master: cannot add %s: %s", a->rname, strerror(-rc));
		return rc;
	}
	return 0;
}
