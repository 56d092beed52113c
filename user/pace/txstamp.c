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

/* One message from the error queue: a stamp or an error, to @cb. @return 1 if it was one */
static int one(struct msghdr *msg, size_t n, uint8_t *data,
	       void (*cb)(void *ctx, const struct txstamp_event *ev), void *ctx)
{
	const struct scm_timestamping *ts = NULL;
	const struct sock_extended_err *serr = NULL;
	struct txstamp_event ev = { 0 };
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPING) {
			ts = (const void *)CMSG_DATA(c);
		} else if ((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
			   (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
			serr = (const void *)CMSG_DATA(c);
		}
	}
	if (!serr) {
		return 0;
	}
	if (serr->ee_origin == SO_EE_ORIGIN_TIMESTAMPING && serr->ee_errno == ENOMSG) {
		if (!ts || (serr->ee_info != SCM_TSTAMP_SND && serr->ee_info != SCM_TSTAMP_SCHED)) {
			return 0;
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
		ev.len = n;
	}
	cb(ctx, &ev);
	return 1;
}

/*
 * messages per recvmmsg: two stamps (SCHED, SND) per packet and 8 packets between drains, with
 * room to spare, so that one call usually empties the queue (fewer than BATCH: it is empty)
 */
#define BATCH 32

int txstamp_drain(int fd, void (*cb)(void *ctx, const struct txstamp_event *ev), void *ctx)
{
	char ctrl[BATCH][512];
	uint8_t data[BATCH][64];
	struct iovec iov[BATCH];
	struct mmsghdr m[BATCH];
	int count = 0;

	for (;;) {
		int n;

		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){ data[i], sizeof(data[i]) };
			m[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1,
							      .msg_control = ctrl[i],
							      .msg_controllen = sizeof(ctrl[i]) } };
		}
		n = recvmmsg(fd, m, BATCH, MSG_ERRQUEUE | MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				return count;
			}
			if (errno == EINTR) {
				continue;
			}
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			count += one(&m[i].msg_hdr, m[i].msg_len, data[i], cb, ctx);
		}
		if (n < BATCH) {
			return count;
		}
	}
}
