// SPDX-License-Identifier: GPL-2.0-only
/* Shared options of send and relay: stream format, network, PTP/SAP, pacer. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "txpace/pacer.h"
#include "txpace/clock.h"
#include "txpace/ptp.h"
#include "stream_opts.h"

int stream_opt(const struct cli *c, int key, const char *arg, struct profile_opts *po,
	       struct pace_opts *pace)
{
	int rc = 0;

	switch (key) {
	case SO_FORMAT:
		if (!strcasecmp(arg, "L16") || !strcasecmp(arg, "L24")) {
			po->bits = !strcasecmp(arg, "L16") ? 16 : 24;
		} else {
			cli_usage_error(c, "--format: '%s' is not L16 or L24", arg);
			rc = -EINVAL;
		}
		break;
	case SO_RATE:
		rc = cli_long(c, "rate", arg, 8000, 192000, &po->rate);
		break;
	case SO_CHANNELS:
		rc = cli_long(c, "channels", arg, 1, 8, &po->channels);
		break;
	case SO_PTIME:
		rc = cli_duration(c, "ptime", arg, NSEC_PER_MSEC, 125 * NSEC_PER_USEC, 20 * NSEC_PER_MSEC,
				  &po->ptime_ns);
		break;
	case SO_IFACE:
		po->iface = arg;
		break;
	case SO_TTL:
		rc = cli_long(c, "ttl", arg, 1, 255, &po->ttl);
		break;
	case SO_DSCP:
		if (!strcmp(arg, "aes67")) {
			po->dscp = 34;
		} else if (!strcmp(arg, "dante")) {
			po->dscp = 46;
		} else {
			rc = cli_long(c, "dscp", arg, 0, 63, &po->dscp);
		}
		break;
	case SO_PTP_SOCKET:
		po->ptp_socket = arg;
		break;
	case SO_PTP_DOMAIN:
		rc = cli_long(c, "ptp-domain", arg, 0, PTP_DOMAIN_MAX, &po->ptp_domain);
		break;
	case SO_REQUIRE_LOCK:
		po->require_lock = 1;
		break;
	case SO_LOCK_TIMEOUT:
		rc = cli_duration(c, "lock-timeout", arg, NSEC_PER_SEC, NSEC_PER_SEC / 10,
				  3600 * NSEC_PER_SEC, &po->lock_timeout_ns);
		break;
	case SO_SAP:
		rc = cli_duration(c, "sap-interval", arg, NSEC_PER_SEC, 0, 3600 * NSEC_PER_SEC,
				  &po->sap_interval_ns);
		break;
	case SO_NAME:
		po->session_name = arg;
		break;
	case SO_SPIN:
		if (!strcmp(arg, "auto")) {
			pace->spin_ns = PACER_SPIN_AUTO;
			break;
		}
		rc = cli_duration(c, "spin", arg, NSEC_PER_USEC, 0, 20 * NSEC_PER_MSEC, &pace->spin_ns);
		break;
	case SO_PRIO:
		rc = cli_long(c, "prio", arg, 0, 99, &pace->prio);
		break;
	case SO_CPU:
		rc = cli_long(c, "cpu", arg, 0, 4095, &pace->cpu);
		break;
	default:
		return 0;
	}
	return rc ? -EINVAL : 1;
}
