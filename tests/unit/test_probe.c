// SPDX-License-Identifier: GPL-2.0-only
/*
 * The choice table of `--backend auto` (probe_decide) on facts made up here: brcmfmac always
 * gets the real-time thread (its firmware queues after the qdisc), launch-time hardware with
 * etf gets etf, fq + cls_bpf + bpf_skb_set_tstamp gets edt with the egress program, fq with only
 * SO_TXTIME gets edt txtime, anything less the real-time thread. The brcmfmac rule is the
 * driver's, not Wi-Fi's: other Wi-Fi drivers (mac80211_hwsim in the Wi-Fi guest, brcmsmac)
 * follow the kernel's facts.
 */
#include <string.h>

#include "txpace/probe.h"
#include "unit.h"

static struct probe facts(const char *driver, const int *ok)
{
	struct probe p;

	memset(&p, 0, sizeof(p));
	snprintf(p.ifname, sizeof(p.ifname), "eth0");
	snprintf(p.driver, sizeof(p.driver), "%s", driver);
	for (; *ok >= 0; ok++) {
		p.c[*ok].ok = 1;
	}
	return p;
}

static int chose(const struct probe *p, const char *backend, const char *stamp)
{
	struct probe_choice ch;

	memset(&ch, 0, sizeof(ch));
	probe_decide(p, &ch);
	if (!ch.backend || !ch.reason[0]) {
		return 0;
	}
	return !strcmp(ch.backend, backend) && (!stamp || !strcmp(ch.stamp, stamp));
}

int main(void)
{
	static const int everything[] = { PROBE_HRT, PROBE_FIFO, PROBE_MLOCK, PROBE_TXTIME,
					  PROBE_TSTAMP, PROBE_SETTS, PROBE_MMAP, PROBE_TIMER,
					  PROBE_CLSACT, PROBE_CLSBPF, PROBE_FQ, PROBE_ETF,
					  PROBE_DRIVER, PROBE_ETF_OFFLOAD, PROBE_HWTS, -1 };
	static const int edt_bpf[] = { PROBE_FQ, PROBE_CLSBPF, PROBE_SETTS, PROBE_MMAP,
				       PROBE_TXTIME, -1 };
	static const int fq_txtime[] = { PROBE_FQ, PROBE_TXTIME, -1 };
	static const int fq_no_mmap[] = { PROBE_FQ, PROBE_CLSBPF, PROBE_SETTS, PROBE_TXTIME, -1 };
	static const int etf_no_hw[] = { PROBE_ETF, PROBE_TXTIME, PROBE_FIFO, -1 };
	static const int nothing[] = { -1 };
	static const int pi[] = { PROBE_HRT, PROBE_FIFO, PROBE_MLOCK, PROBE_TXTIME, PROBE_TSTAMP,
				  PROBE_SETTS, PROBE_MMAP, PROBE_TIMER, PROBE_CLSACT, PROBE_CLSBPF,
				  PROBE_FQ, PROBE_ETF, PROBE_DRIVER, PROBE_WIFI_PS, -1 };
	struct probe p;
	struct probe_choice ch;

	/* brcmfmac: rt even when the kernel has everything (launch-time hardware and etf
	 * included), and the reason names the chip and why: its firmware queues after the qdisc */
	p = facts("brcmfmac", everything);
	CHECK(chose(&p, "rt", NULL));
	probe_decide(&p, &ch);
	CHECK(strstr(ch.reason, "brcmfmac") != NULL);
	CHECK(strstr(ch.reason, "firmware queues after the qdisc") != NULL);
	/* the Pi Zero 2 W as probe sees it: fq, cls_bpf, the helper, no kernel BTF, power save
	 * on (Raspberry Pi OS's default): still rt */
	p = facts("brcmfmac", pi);
	CHECK(chose(&p, "rt", NULL));
	/* brcmfmac on a kernel with nothing: rt for the chip's reason, not for the kernel's */
	p = facts("brcmfmac", nothing);
	CHECK(chose(&p, "rt", NULL));
	probe_decide(&p, &ch);
	CHECK(strstr(ch.reason, "brcmfmac") != NULL);
	/* the same facts on other Wi-Fi drivers: the kernel's facts decide (edt) */
	p = facts("mac80211_hwsim", pi);
	CHECK(chose(&p, "edt", "bpf"));
	probe_decide(&p, &ch);
	CHECK(strstr(ch.reason, "brcmfmac") == NULL);
	p = facts("brcmsmac", pi);
	CHECK(chose(&p, "edt", "bpf"));
	/* launch-time hardware + etf + SO_TXTIME: etf */
	p = facts("igc", everything);
	CHECK(chose(&p, "etf", NULL));
	/* the same hardware without etf in the kernel: edt with the egress program */
	p = facts("igc", edt_bpf);
	CHECK(chose(&p, "edt", "bpf"));
	/* fq and SO_TXTIME only: edt txtime */
	p = facts("virtio_net", fq_txtime);
	CHECK(chose(&p, "edt", "txtime"));
	/* no mmapable array maps (the schedule ring): not the egress program */
	p = facts("virtio_net", fq_no_mmap);
	CHECK(chose(&p, "edt", "txtime"));
	/* etf without launch-time hardware is not chosen (software etf is only on request) */
	p = facts("virtio_net", etf_no_hw);
	CHECK(chose(&p, "rt", NULL));
	/* nothing at all: rt, and the reason says SCHED_FIFO is missing too */
	p = facts("", nothing);
	CHECK(chose(&p, "rt", NULL));
	probe_decide(&p, &ch);
	CHECK(strstr(ch.reason, "SCHED_FIFO") != NULL);
	return unit_done("test_probe");
}
