// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hardware TX stamps for the PTP master: the interface's timestamping configuration (journaled
 * in "<interface>+ptp", a journal of its own that paces nothing) and the PHC-to-system offset.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/net_tstamp.h>
#include <linux/ptp_clock.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kpace_int.h"
#include "txpace/caps.h"
#include "txpace/ethtool.h"
#include "txpace/hwts.h"
#include "txpace/log.h"

#define SAMPLES 5

struct hwts {
	struct kpace *k;	/* lock + journal of "<if>+ptp"; NULL when nothing was changed */
	int phc_fd;
	int extended;		/* PTP_SYS_OFFSET_EXTENDED works (else PTP_SYS_OFFSET) */
	char desc[128];
};

static int hwtstamp_ioctl(const char *ifname, unsigned long req, struct hwtstamp_config *c)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

	if (fd < 0) {
		return -errno;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)c;
	rc = ioctl(fd, req, &ifr) ? -errno : 0;
	close(fd);
	return rc;
}

int kpace_hwtstamp_set(const char *ifname, int tx_type, int rx_filter)
{
	struct hwtstamp_config c = { .tx_type = tx_type, .rx_filter = rx_filter };

	return hwtstamp_ioctl(ifname, SIOCSHWTSTAMP, &c);
}

int hwts_pick(const int64_t (*s)[3], unsigned n, int64_t *offset, int64_t *window)
{
	int64_t best = -1;

	for (unsigned i = 0; i < n; i++) {
		int64_t w = s[i][2] - s[i][0];

		if (w < 0 || (best >= 0 && w >= best)) {
			continue;
		}
		best = w;
		*offset = s[i][0] + w / 2 - s[i][1];
	}
	if (best < 0) {
		return -EINVAL;
	}
	*window = best;
	return 0;
}

static int64_t pct_ns(const struct ptp_clock_time *t)
{
	return (int64_t)t->sec * 1000000000 + t->nsec;
}

int hwts_to_realtime(struct hwts *h, int64_t phc_ns, int64_t *rt_ns)
{
	int64_t s[SAMPLES][3], off, win;
	unsigned n = SAMPLES;

	if (h->extended) {
		struct ptp_sys_offset_extended x = { .n_samples = SAMPLES };

		if (ioctl(h->phc_fd, PTP_SYS_OFFSET_EXTENDED, &x) == 0) {
			for (unsigned i = 0; i < n; i++) {
				for (int j = 0; j < 3; j++) {
					s[i][j] = pct_ns(&x.ts[i][j]);
				}
			}
			goto pick;
		}
		if (errno != EOPNOTSUPP && errno != ENOTTY && errno != EINVAL) {
			return -errno;
		}
		h->extended = 0;
	}
	{
		/* system, PHC, system, ... system: 2n + 1 interleaved readings */
		struct ptp_sys_offset x = { .n_samples = SAMPLES };

		if (ioctl(h->phc_fd, PTP_SYS_OFFSET, &x)) {
			return -errno;
		}
		for (unsigned i = 0; i < n; i++) {
			s[i][0] = pct_ns(&x.ts[2 * i]);
			s[i][1] = pct_ns(&x.ts[2 * i + 1]);
			s[i][2] = pct_ns(&x.ts[2 * i + 2]);
		}
	}
pick:
	if (hwts_pick((const int64_t (*)[3])s, n, &off, &win)) {
		return -EINVAL;
	}
	*rt_ns = phc_ns + off;
	return 0;
}

static struct hwts *fail(struct hwts *h, char *why, size_t len, const char *fmt, const char *ifname,
			 const char *detail)
{
	snprintf(why, len, fmt, ifname, detail);
	hwts_close(h);
	return NULL;
}

struct hwts *hwts_open(const char *ifname, char *why, size_t whylen)
{
	struct hwts *h;
	struct hwtstamp_config c = { 0 };
	uint32_t ts = 0;
	int phc = -1, ifindex = (int)if_nametoindex(ifname), rc;
	char dev[32], err[200];

	if (!ifindex || ethtool_tsinfo(ifindex, &ts, &phc) ||
	    !(ts & SOF_TIMESTAMPING_TX_HARDWARE) || !(ts & SOF_TIMESTAMPING_RAW_HARDWARE)) {
		snprintf(why, whylen, "%s has no hardware TX stamps", ifname);
		return NULL;
	}
	if (phc < 0) {
		snprintf(why, whylen, "%s has hardware TX stamps but no PHC to read them on", ifname);
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	h->extended = 1;
	snprintf(dev, sizeof(dev), "/dev/ptp%d", phc);
	h->phc_fd = open(dev, O_RDONLY | O_CLOEXEC);
	if (h->phc_fd < 0) {
		return fail(h, why, whylen, "%s: cannot open its PHC: %s", ifname, strerror(errno));
	}
	rc = hwtstamp_ioctl(ifname, SIOCGHWTSTAMP, &c);
	if (rc) {
		return fail(h, why, whylen, "%s: cannot read its timestamping configuration "
			    "(SIOCGHWTSTAMP): %s", ifname, strerror(-rc));
	}
	if (c.tx_type != HWTSTAMP_TX_OFF) {
		snprintf(h->desc, sizeof(h->desc), "%s, %s, on already (left as it was)", ifname, dev);
		return h;
	}
	h->k = calloc(1, sizeof(*h->k));
	if (!h->k) {
		return fail(h, why, whylen, "%s: %s", ifname, "out of memory");
	}
	*h->k = (struct kpace){ .lock_fd = -1, .state_fd = -1, .ifindex = ifindex };
	snprintf(h->k->ifname, sizeof(h->k->ifname), "%s", ifname);
	snprintf(h->k->tag, sizeof(h->k->tag), "ptp");
	if (kpace_state_open(h->k, err, sizeof(err))) {
		return fail(h, why, whylen, "%s: %s", ifname, err);
	}
	if (kpace_journal(h->k, "did hwtstamp %d %d", c.tx_type, c.rx_filter)) {
		return fail(h, why, whylen, "%s: cannot journal the timestamping change: %s", ifname,
			    h->k->state_path);
	}
	rc = kpace_hwtstamp_set(ifname, HWTSTAMP_TX_ON, c.rx_filter);
	if (rc) {
		return fail(h, why, whylen, "%s: its driver refused TX timestamping (SIOCSHWTSTAMP): "
			    "%s", ifname, strerror(-rc));
	}
	snprintf(h->desc, sizeof(h->desc), "%s, %s, turned on for the stream", ifname, dev);
	return h;
}

const char *hwts_describe(const struct hwts *h)
{
	return h->desc;
}

void hwts_close(struct hwts *h)
{
	uint64_t saved;

	if (!h) {
		return;
	}
	if (h->k) {
		caps_raise(CAPS_BIT(CAP_NET_ADMIN), &saved);
		kpace_state_close(h->k);
		caps_restore(saved);
		free(h->k);
	}
	if (h->phc_fd >= 0) {
		close(h->phc_fd);
	}
	free(h);
}
