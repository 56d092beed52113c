/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared by the AirPlay profiles (raop, airplay2): the one line a failed RTSP exchange gets. */
#ifndef TXPACE_AP_RTSP_H
#define TXPACE_AP_RTSP_H

#include <stddef.h>
#include <stdint.h>

#include "txpace/rtsp.h"

/*
 * The one line a user needs when an RTSP exchange with @rname fails: @rc from the client
 * (@method, the request it was waiting for, may be NULL), or else @resp's status; @mid once the
 * stream runs. @return @rc, or -EBUSY (453), -EACCES (401), -EPROTO (another refusal), 0 for 200
 */
int ap_rtsp_describe(const char *rname, int mid, int64_t timeout_ms, const char *method, int rc,
		     const struct rtsp_resp *resp, char *err, size_t errlen);

#endif
