/* SPDX-License-Identifier: GPL-2.0-only */
/* ptp4l's state through its management socket (the protocol pmc speaks): lock, GM, timescale. */
#ifndef TXPACE_PTP_H
#define TXPACE_PTP_H

#include <stddef.h>
#include <stdint.h>

#define PTP_DEFAULT_SOCKET "/var/run/ptp4l"

enum ptp_port_state {
	PTP_INITIALIZING = 1, PTP_FAULTY, PTP_DISABLED, PTP_LISTENING, PTP_PRE_MASTER, PTP_MASTER,
	PTP_PASSIVE, PTP_UNCALIBRATED, PTP_SLAVE,
};

struct ptp_status {
	int port_state;		/* enum ptp_port_state of port 1 */
	int gm_present;
	int64_t master_offset_ns;
	uint8_t clock_id[8];	/* this ptp4l's clock */
	uint8_t gm_id[8];	/* the grandmaster's clock identity */
	uint8_t domain;
	int16_t utc_offset;	/* seconds, TAI - UTC as the grandmaster says */
	int utc_offset_valid, ptp_timescale;
	int locked;		/* slave with a grandmaster and |offset| < 100 us, or the GM itself */
};

#define PTP_DOMAIN_MAX 127	/* IEEE 1588-2008: 128..255 are reserved */

/**
 * Ask ptp4l at @socket_path for its state on PTP domain @domain (ptp4l ignores management
 * messages for a domain other than its own: on the wrong domain this times out).
 * @return 0, or -errno with a one-line reason in @err (ENOENT: no ptp4l there)
 */
int ptp_query(const char *socket_path, uint8_t domain, struct ptp_status *st, int timeout_ms,
	      char *err, size_t errlen);
/** The PTP media-clock offset (PTP time - CLOCK_REALTIME, ns) for the timescale @st reports. */
int64_t ptp_realtime_offset(const struct ptp_status *st);
/** Format a clock identity as SDP's ts-refclk wants it: "39-A7-94-FF-FE-07-CB-D0". */
void ptp_format_id(const uint8_t id[8], char *out, size_t cap);
/**
 * Parse one management response to a request on @domain; exposed for the fuzz target.
 * @return its management id, -EXDEV for a message from another domain, or another -errno
 */
int ptp_parse_response(const uint8_t *b, size_t len, uint8_t domain, struct ptp_status *st);

#endif
