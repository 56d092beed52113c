// SPDX-License-Identifier: GPL-2.0-only
/*
 * PTP module: IEEE 1588 management messages over ptp4l's Unix socket (GET TIME_STATUS_NP,
 * PORT_DATA_SET, PARENT_DATA_SET, DEFAULT_DATA_SET, TIME_PROPERTIES_DATA_SET).
 */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "txpace/clock.h"
#include "txpace/ptp.h"

#define HDR_LEN 34
#define MGMT_LEN 48		/* header + management fields + TLV header + id */
#define TLV_MANAGEMENT 0x0001
#define TLV_MANAGEMENT_ERROR_STATUS 0x0002

enum {
	ID_DEFAULT_DATA_SET = 0x2000, ID_PARENT_DATA_SET = 0x2002,
	ID_TIME_PROPERTIES_DATA_SET = 0x2003, ID_PORT_DATA_SET = 0x2004, ID_TIME_STATUS_NP = 0xc000,
};

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++) {
		v = v << 8 | p[i];
	}
	return v;
}

static size_t build_get(uint8_t *b, uint16_t id, uint16_t seq, uint8_t domain)
{
	memset(b, 0, MGMT_LEN);
	b[0] = 0x0d;		/* management */
	b[1] = 0x02;		/* PTPv2 */
	b[2] = 0;
	b[3] = MGMT_LEN;
	b[4] = domain;
	b[30] = (uint8_t)(seq >> 8);
	b[31] = (uint8_t)seq;
	b[32] = 0x04;		/* control: management */
	b[33] = 0x7f;
	memset(b + 34, 0xff, 10);	/* target: every clock, every port */
	b[44] = 0;		/* starting boundary hops */
	b[45] = 0;
	b[46] = 0x00;		/* action GET */
	b[48 - 2] = 0;
	/* TLV: type MANAGEMENT, length 2 (just the id) */
	uint8_t *t = b + 48;

	t[0] = 0;
	t[1] = TLV_MANAGEMENT;
	t[2] = 0;
	t[3] = 2;
	t[4] = (uint8_t)(id >> 8);
	t[5] = (uint8_t)id;
	b[3] = MGMT_LEN + 6;
	return MGMT_LEN + 6;
}

int ptp_parse_response(const uint8_t *b, size_t len, uint8_t domain, struct ptp_status *st)
{
	size_t tlen;
	const uint8_t *d;
	uint16_t id;

	if (len < 54 || (b[0] & 0x0f) != 0x0d || (b[1] & 0x0f) != 2 || (b[46] & 0x0f) != 2) {
		return -EINVAL;	/* not a management RESPONSE */
	}
	if (b[4] != domain) {
		return -EXDEV;	/* an answer for another domain than we asked about */
	}
	if (be16(b + 2) > len) {
		return -EINVAL;
	}
	if (be16(b + 48) != TLV_MANAGEMENT) {
		return -EPROTO;
	}
	tlen = be16(b + 50);
	if (tlen < 2 || 52 + tlen > len) {
		return -EINVAL;
	}
	id = be16(b + 52);
	d = b + 54;
	tlen -= 2;
	switch (id) {
	case ID_TIME_STATUS_NP:
		if (tlen < 50) {
			return -EINVAL;
		}
		/* offset 8, ingress 8, rate 4, phase 4, base 2, last change 12, gmPresent 4, gmIdentity 8 */
		st->master_offset_ns = (int64_t)be64(d);
		st->gm_present = (d[38] | d[39] | d[40] | d[41]) != 0;
		memcpy(st->gm_id, d + 42, 8);
		break;
	case ID_PORT_DATA_SET:
		if (tlen < 11) {
			return -EINVAL;
		}
		st->port_state = d[10];
		break;
	case ID_PARENT_DATA_SET:
		if (tlen < 32) {
			return -EINVAL;
		}
		memcpy(st->gm_id, d + 24, 8);
		break;
	case ID_DEFAULT_DATA_SET:
		if (tlen < 20) {
			return -EINVAL;
		}
		memcpy(st->clock_id, d + 10, 8);
		st->domain = d[18];
		break;
	case ID_TIME_PROPERTIES_DATA_SET:
		if (tlen < 4) {
			return -EINVAL;
		}
		st->utc_offset = (int16_t)be16(d);
		st->utc_offset_valid = (d[2] & 0x04) != 0;
		st->ptp_timescale = (d[2] & 0x08) != 0;
		break;
	default:
		return -ENOENT;
	}
	return id;
}

int ptp_query(const char *path, uint8_t domain, struct ptp_status *st, int timeout_ms, char *err,
	      size_t errlen)
{
	static const uint16_t ids[] = { ID_DEFAULT_DATA_SET, ID_TIME_PROPERTIES_DATA_SET,
					ID_PARENT_DATA_SET, ID_PORT_DATA_SET, ID_TIME_STATUS_NP };
	struct sockaddr_un me = { .sun_family = AF_UNIX }, to = { .sun_family = AF_UNIX };
	int fd, rc = 0;
	unsigned got = 0;

	memset(st, 0, sizeof(*st));
	if (strlen(path) >= sizeof(to.sun_path)) {
		snprintf(err, errlen, "PTP socket path too long: %.4000s", path);
		return -ENAMETOOLONG;
	}
	snprintf(to.sun_path, sizeof(to.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open a Unix socket: %s", strerror(errno));
		return -errno;
	}
	/* an abstract address of our own: ptp4l answers to whoever asked */
	snprintf(me.sun_path + 1, sizeof(me.sun_path) - 1, "txpace-pmc-%d-%ld", getpid(),
		 (long)(mono_ns() % 1000000));
	if (bind(fd, (struct sockaddr *)&me,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(me.sun_path + 1)))) {
		rc = -errno;
		snprintf(err, errlen, "cannot bind a Unix socket: %s", strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		uint8_t req[64];
		size_t n = build_get(req, ids[i], (uint16_t)i, domain);

		if (sendto(fd, req, n, 0, (struct sockaddr *)&to, sizeof(to)) != (ssize_t)n) {
			rc = -errno;
			snprintf(err, errlen, "no ptp4l at %s (%s): start ptp4l or give --ptp-socket",
				 path, strerror(errno));
			goto out;
		}
	}
	int64_t end = mono_ns() + (int64_t)timeout_ms * NSEC_PER_MSEC;

	while (got != (1u << 5) - 1) {
		struct pollfd p = { fd, POLLIN, 0 };
		int64_t left = (end - mono_ns()) / NSEC_PER_MSEC;
		uint8_t b[1024];
		ssize_t n;
		int id;

		if (left <= 0 || poll(&p, 1, (int)left) != 1) {
			/* ptp4l drops management messages for another domain without a word */
			rc = -ETIMEDOUT;
			snprintf(err, errlen, "ptp4l at %s did not answer within %d ms on PTP domain %u "
				 "(is it on another domain? --ptp-domain)", path, timeout_ms, domain);
			goto out;
		}
		n = recv(fd, b, sizeof(b), 0);
		if (n < 0) {
			continue;
		}
		id = ptp_parse_response(b, (size_t)n, domain, st);
		for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
			if (id == ids[i]) {
				got |= 1u << i;
			}
		}
	}
	if (st->domain != domain) {
		rc = -EPROTO;
		snprintf(err, errlen, "ptp4l at %s answered on PTP domain %u but says it is on domain %u",
			 path, domain, st->domain);
		goto out;
	}
	if (st->port_state == PTP_SLAVE) {
		st->locked = st->gm_present && st->master_offset_ns < 100000 &&
			     st->master_offset_ns > -100000;
	} else if (st->port_state == PTP_MASTER) {
		/* the grandmaster is the reference itself */
		st->locked = memcmp(st->gm_id, st->clock_id, 8) == 0;
	}
out:
	close(fd);
	return rc;
}

int64_t ptp_realtime_offset(const struct ptp_status *st)
{
	/*
	 * ptp4l keeps CLOCK_REALTIME on UTC; with a grandmaster on the PTP (TAI) timescale, PTP
	 * time is UTC + currentUtcOffset. A grandmaster on an arbitrary timescale (software GMs
	 * say so) sends UTC itself.
	 */
	return st->ptp_timescale ? (int64_t)st->utc_offset * NSEC_PER_SEC : 0;
}

void ptp_format_id(const uint8_t id[8], char *out, size_t cap)
{
	snprintf(out, cap, "%02X-%02X-%02X-%02X-%02X-%02X-%02X-%02X", id[0], id[1], id[2], id[3],
		 id[4], id[5], id[6], id[7]);
}
