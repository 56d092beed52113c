// SPDX-License-Identifier: GPL-2.0-only
/* Shared by the AirPlay profiles: the one line a failed RTSP exchange gets. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ap_rtsp.h"

int ap_rtsp_describe(const char *rname, int mid, int64_t timeout_ms, const char *method, int rc,
		     const struct rtsp_resp *resp, char *err, size_t errlen)
{
	if (rc == -ETIMEDOUT) {
		snprintf(err, errlen, "%s: no answer to %s within %" PRId64 " ms", rname,
			 method ? method : "RTSP", timeout_ms);
	} else if (rc == -ECONNRESET && mid) {
		snprintf(err, errlen, "%s closed the RTSP connection mid-stream%s%s%s", rname,
			 method ? " (" : "", method ? method : "", method ? " unanswered)" : "");
	} else if (rc == -ECONNRESET) {
		snprintf(err, errlen, "%s closed the connection during %s", rname,
			 method ? method : "RTSP");
	} else if (rc == -EPROTO && method) {
		snprintf(err, errlen, "%s answered %s with something that is not RTSP", rname,
			 method);
	} else if (rc == -EPROTO) {
		snprintf(err, errlen, "%s sent something that is not RTSP", rname);
	} else if (rc == -EBADMSG) {
		snprintf(err, errlen, "%s sent an encrypted RTSP block that does not authenticate "
			 "(corrupt or forged): the session is closed", rname);
	} else if (rc) {
		snprintf(err, errlen, "%s: %s failed: %s", rname, method ? method : "RTSP",
			 strerror(-rc));
	} else if (resp->status == 453) {
		snprintf(err, errlen, "%s is busy (453 %s): another sender is playing to it", rname,
			 resp->reason);
		rc = -EBUSY;
	} else if (resp->status == 401) {
		snprintf(err, errlen, "%s wants a password (401), which txpace does not support",
			 rname);
		rc = -EACCES;
	} else if (resp->status != 200) {
		snprintf(err, errlen, "%s refused %s%s: %d %s", rname, method,
			 mid ? " mid-stream" : "", resp->status, resp->reason);
		rc = -EPROTO;
	}
	return rc;
}

