/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Hardware transmit stamps for the PTP master (AirPlay 2's Sync messages). Where the interface's
 * driver has them (ethtool's tsinfo: SOF_TIMESTAMPING_TX_HARDWARE and a PHC), its TX
 * timestamping is turned on for the stream (SIOCSHWTSTAMP, tx_type ON, rx_filter kept) after a
 * line in the restore journal "<interface>+ptp" (its own lock, beside a kernel-paced stream's),
 * and turned back at close and by `txpace cleanup`; where it is on already (ptp4l -H, or
 * hwstamp_ctl) it is used and left as it is. A stamp in the PHC's time is put on CLOCK_REALTIME
 * with PTP_SYS_OFFSET_EXTENDED (PTP_SYS_OFFSET on drivers without it), read at that moment.
 */
#ifndef TXPACE_HWTS_H
#define TXPACE_HWTS_H

#include <stddef.h>
#include <stdint.h>

struct hwts;

/**
 * Hardware TX stamps on @ifname, turned on when they are off.
 * @return the handle, or NULL with why not in @why (no hardware stamps, no PHC, not permitted,
 *         the driver refused, another txpace holds "<ifname>+ptp"): software stamps then
 */
struct hwts *hwts_open(const char *ifname, char *why, size_t whylen);
/** A PHC time (ns) as CLOCK_REALTIME ns, measured now. @return 0 or -errno */
int hwts_to_realtime(struct hwts *h, int64_t phc_ns, int64_t *rt_ns);
/** "eth0, /dev/ptp0, turned on for the stream" or "..., on already (left as it was)" */
const char *hwts_describe(const struct hwts *h);
/** Turn the interface's TX stamping back as it was (if this turned it on); NULL is a no-op. */
void hwts_close(struct hwts *h);

/**
 * Pure: from @n readings (system time before, PHC time, system time after, ns), the offset
 * system - PHC of the one read in the shortest window (its midpoint), and that window.
 * @return 0, or -EINVAL when no reading has before <= after
 */
int hwts_pick(const int64_t (*s)[3], unsigned n, int64_t *offset, int64_t *window);

#endif
