// SPDX-License-Identifier: GPL-2.0-only
/* Profile rtp: plain RTP (L16/L24), unicast or multicast, an SDP description on request. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "txpace/clock.h"
#include "txpace/log.h"
#include "txpace/profile.h"
#include "txpace/rtp.h"
#include "txpace/sdp.h"

#define UDP_MAX_PAYLOAD 65507

struct rtp_prof {
	uint8_t pt;
	unsigned bits;
};

static int write_sdp(const struct profile_opts *o, const struct stream_desc *d, int64_t ptime_ns)
{
	struct sdp_stream sd = {
		.name = "txpace", .dest = d->dest, .ttl = (int)o->ttl, .pt = (uint8_t)o->pt,
		.encoding = d->bits == 16 ? "L16" : "L24", .rate = d->rate, .channels = d->channels,
		.ptime_ns = ptime_ns, .session_id = (uint64_t)clock_ns(CLOCK_REALTIME) / NSEC_PER_SEC,
	};
	char buf[2048];
	FILE *f;
	int n;

	sd.origin.len = sizeof(sd.origin.ss);
	getsockname(d->fd, (struct sockaddr *)&sd.origin.ss, &sd.origin.len);
	n = sdp_format(&sd, buf, sizeof(buf));
	if (n < 0) {
		return n;
	}
	f = fopen(o->sdp_path, "w");
	if (!f) {
		return -errno;
	}
	if (fwrite(buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		return -EIO;
	}
	return fclose(f) ? -errno : 0;
}

static void *rtp_open(const struct profile_opts *o, struct stream_desc *d, char *err, size_t errlen)
{
	struct net_tx_opts to = { o->iface, (int)o->ttl, (int)o->dscp, -1 };
	struct rtp_prof *p;
	struct schedule tmp;
	char dst[80];
	int rc;

	if (!o->dest_s) {
		snprintf(err, errlen, "the rtp profile needs DEST (--to is for AirPlay receivers)");
		return NULL;
	}
	rc = net_parse(o->dest_s, 5004, &d->dest);
	if (rc) {
		snprintf(err, errlen, "%s: %s", o->dest_s,
			 rc == -ENOENT ? "unknown host" : "not HOST[:PORT] or [IPV6]:PORT");
		return NULL;
	}
	rc = sched_init(&tmp, (uint32_t)o->rate, o->ptime_ns, 0, 0, &d->spp);
	if (rc < 0) {
		snprintf(err, errlen, "invalid packet time");
		return NULL;
	}
	if (rc == 1) {
		pr_info("packet time %.3f us is not a whole number of samples at %ld Hz: using %u "
			"samples (%.3f us)", (double)o->ptime_ns / 1e3, o->rate, d->spp,
			(double)d->spp * 1e6 / (double)o->rate);
	}
	d->rate = (uint32_t)o->rate;
	d->channels = (uint32_t)o->channels;
	d->bits = o->bits;
	d->max_packet = RTP_HDR_LEN + (size_t)d->spp * d->channels * (d->bits / 8);
	if (d->max_packet > UDP_MAX_PAYLOAD) {
		snprintf(err, errlen, "a packet would be %zu bytes, more than UDP carries: shorten "
			 "--ptime or use fewer channels", d->max_packet);
		return NULL;
	}
	d->fd = net_udp_connect(&d->dest, &to);
	if (d->fd < 0) {
		rc = d->fd;
		snprintf(err, errlen, "cannot send to %s: %s%s", net_fmt(&d->dest, dst, sizeof(dst)),
			 strerror(-rc), rc == -ENETUNREACH && net_is_multicast(&d->dest) && !o->iface
			 ? " (give --iface for multicast)" : rc == -ENODEV ? " (--iface)" : "");
		return NULL;
	}
	{
		int mtu = 0, v4 = d->dest.ss.ss_family == AF_INET;
		socklen_t ml = sizeof(mtu);

		if (!getsockopt(d->fd, v4 ? IPPROTO_IP : IPPROTO_IPV6, v4 ? IP_MTU : IPV6_MTU, &mtu,
				&ml) && mtu > 0 && d->max_packet + (v4 ? 28 : 48) > (size_t)mtu) {
			pr_warn("packets of %zu bytes exceed the path MTU %d: they will be fragmented",
				d->max_packet + (v4 ? 28 : 48), mtu);
		}
	}
	if (getrandom(&d->seq0, sizeof(d->seq0), 0) != sizeof(d->seq0) ||
	    getrandom(&d->ts0, sizeof(d->ts0), 0) != sizeof(d->ts0) ||
	    getrandom(&d->ssrc, sizeof(d->ssrc), 0) != sizeof(d->ssrc)) {
		snprintf(err, errlen, "no random numbers: %s", strerror(errno));
		goto fail;
	}
	if (o->have_ssrc) {
		d->ssrc = o->ssrc;
	}
	if (o->sdp_path) {
		rc = write_sdp(o, d, (int64_t)((uint64_t)d->spp * NSEC_PER_SEC / d->rate));
		if (rc) {
			snprintf(err, errlen, "cannot write SDP %s: %s", o->sdp_path, strerror(-rc));
			goto fail;
		}
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	p->pt = (uint8_t)o->pt;
	p->bits = d->bits;
	return p;
fail:
	close(d->fd);
	d->fd = -1;
	return NULL;
}

static int rtp_packetize(void *priv, const struct stream_desc *d, uint64_t k, const int32_t *pcm,
			 uint32_t frames, uint8_t *out)
{
	struct rtp_prof *p = priv;

	/* a short last packet is padded with silence by the caller: always spp frames */
	(void)frames;
	rtp_write_hdr(out, p->pt, k == d->marker_k, (uint16_t)(d->seq0 + k),
		      d->ts0 + (uint32_t)(k * d->spp), d->ssrc);
	return RTP_HDR_LEN + (int)pcm_pack_be(out + RTP_HDR_LEN, pcm, (size_t)d->spp * d->channels,
					      p->bits);
}

static int rtp_start(void *priv, struct schedule *s, int64_t earliest, char *err, size_t errlen)
{
	s->start_ns = earliest;
	return 0;
}

static void rtp_close(void *priv)
{
	free(priv);
}

const struct profile_ops profile_rtp = {
	.name = "rtp",
	.open = rtp_open,
	.packetize = rtp_packetize,
	.start = rtp_start,
	.close = rtp_close,
};
