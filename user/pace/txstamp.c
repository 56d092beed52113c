// SPDX-License-Identifier: GPL-2.0-only
/* TX stamp module: SO_TIMESTAMPING on the error queue, and IP_RECVERR errors from the same place. */
#include <errno.h>
#include <time.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "txpace/clock.h"
#include "txpace/txstamp.h"

#ifndef SCM_TSTAMP_SND
#define SCM_TSTAMP_SND 0
#define SCM_TSTAMP_SCHED 1
#endif

int txstamp_enable(int fd)
{
	unsigned flags = SOF_TIMESTAMPING_TX_SCHED | SOF_TIMESTAMPING_TX_SOFTWARE |
			 SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_ID |
			 SOF_TIMESTAMPING_OPT_TSONLY;

	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof(flags))) {
		return -errno;
	}
	return 0;
}

int txstamp_drain(int fd, void (*cb)(void *ctx, const struct txstamp_event *ev), void *ctx)
{
	int count = 0;

	for (;;) {
		char ctrl[512];
		uint8_t data[64];
		struct iovec iov = { data, sizeof(data) };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl,
				      .msg_controllen = sizeof(ctrl) };
		ssize_t n;
		const struct scm_timestamping *ts = NULL;
		const struct sock_extended_err *serr = NULL;
		struct cmsghdr *c;

		n = recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				return count;
			}
			if (errno == EINTR) {
				continue;
			}
			return -errno;
		}
		for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPING) {
				ts = (const void *)CMSG_DATA(c);
			} else if ((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
				   (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
				serr = (const void *)CMSG_DATA(c);
			}
		}
		if (!serr) {
			continue;
		}
		struct txstamp_event ev = { 0 };

		if (serr->ee_origin == SO_EE_ORIGIN_TIMESTAMPING && serr->ee_errno == ENOMSG) {
			if (!ts || (serr->ee_info != SCM_TSTAMP_SND && serr->ee_info != SCM_TSTAMP_SCHED)) {
				continue;
			}
			ev.kind = serr->ee_info == SCM_TSTAMP_SND ? TXSTAMP_SND : TXSTAMP_SCHED;
			ev.key = serr->ee_data;
			ev.realtime_ns = ts_to_ns(&ts->ts[0]);
		} else {
			ev.is_error = 1;
			ev.err = (int)serr->ee_errno;
			ev.origin = serr->ee_origin;
			ev.code = serr->ee_code;
			ev.txtime = (uint64_t)serr->ee_data << 32 | serr->ee_info;
			ev.data = data;
			ev.len = (size_t)n;
		}
		cb(ctx, &ev);
		count++;
	}
}
