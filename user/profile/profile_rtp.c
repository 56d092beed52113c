// SPDX-License-Identifier: GPL-2.0-only
/*
 * Profiles rtp and aes67: RTP L16/L24, unicast or multicast, with an SDP on request. aes67 adds
 * the PTP media clock (RTP time = PTP time in samples, launch times on the PTP grid, paced on
 * CLOCK_REALTIME as ptp4l disciplines it), RFC 7273 SDP attributes and SAP announcements.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "txpace/muldiv.h"
#include "txpace/stop.h"
#include "txpace/clock.h"
#include "txpace/log.h"
#include "txpace/profile.h"
#include "txpace/ptp.h"
#include "txpace/rtp.h"
#include "txpace/sap.h"
#include "txpace/sdp.h"

#define UDP_MAX_PAYLOAD 65507

struct rtp_prof {
	uint8_t pt;
	unsigned bits;
	int aes67;
	struct stream_desc *d;
	/* aes67 */
	const char *ptp_socket;
	uint8_t domain;			/* --ptp-domain: asked of ptp4l, written into the SDP */
	struct ptp_status ptp;
	int have_ptp;
	int64_t lock_wait_ns;		/* how long open waited for ptp4l's lock */
	int64_t ptp_off;		/* PTP time - CLOCK_REALTIME */
	uint32_t mediaclk_offset;
	int64_t next_ptp, next_sap, sap_interval;
	int sap_fd, sap_sent, sap_deleted;
	uint16_t sap_hash;
	struct in_addr origin4;
	char sdp[2048];
	char note[64];
};

static int make_sdp(struct rtp_prof *p, const struct profile_opts *o, const struct stream_desc *d,
		    int64_t ptime_ns)
{
	struct sdp_stream sd = {
		.name = o->session_name ? o->session_name : "txpace", .dest = d->dest,
		.ttl = (int)o->ttl, .pt = (uint8_t)o->pt, .encoding = d->bits == 16 ? "L16" : "L24",
		.rate = d->rate, .channels = d->channels, .ptime_ns = ptime_ns,
		.session_id = (uint64_t)clock_ns(CLOCK_REALTIME) / NSEC_PER_SEC,
		.ptp = p->aes67, .ptp_domain = p->domain, .mediaclk_offset = p->mediaclk_offset,
	};

	ptp_format_id(p->ptp.gm_id, sd.ptp_gmid, sizeof(sd.ptp_gmid));
	sd.origin.len = sizeof(sd.origin.ss);
	getsockname(d->fd, (struct sockaddr *)&sd.origin.ss, &sd.origin.len);
	if (sd.origin.ss.ss_family == AF_INET) {
		p->origin4 = ((struct sockaddr_in *)&sd.origin.ss)->sin_addr;
	}
	return sdp_format(&sd, p->sdp, sizeof(p->sdp));
}

static int write_sdp(const struct rtp_prof *p, const char *path)
{
	size_t n = strlen(p->sdp);
	FILE *f = fopen(path, "w");
	if (!f) {
		return -errno;
	}
	if (fwrite(p->sdp, 1, n, f) != n) {
		fclose(f);
		return -EIO;
	}
	return fclose(f) ? -errno : 0;
}

/* PTP state from ptp4l; with --require-lock, wait for the lock (bounded). */
static int ptp_setup(struct rtp_prof *p, const struct profile_opts *o, char *err, size_t errlen)
{
	int64_t begin = mono_ns(), end = begin + o->lock_timeout_ns;
	int rc;

	for (;;) {
		rc = ptp_query(p->ptp_socket, p->domain, &p->ptp, 1000, err, errlen);
		if (rc == 0 && (p->ptp.locked || !o->require_lock)) {
			break;
		}
		if (rc && !o->require_lock) {
			pr_warn("%s: the media clock is the unsynchronised system clock", err);
			err[0] = '\0';
			return 0;
		}
		if (mono_ns() >= end || txp_stopped(o->stop)) {
			if (rc == 0) {
				snprintf(err, errlen, "PTP not locked after %.0f s (port state %d, "
					 "grandmaster %s, offset %" PRId64 " ns)",
					 (double)o->lock_timeout_ns / 1e9, p->ptp.port_state,
					 p->ptp.gm_present ? "present" : "absent",
					 p->ptp.master_offset_ns);
			}
			return -ETIMEDOUT;
		}
		struct timespec ts = { 0, 250 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	p->have_ptp = 1;
	p->lock_wait_ns = mono_ns() - begin;
	p->ptp_off = ptp_realtime_offset(&p->ptp);
	if (!p->ptp.locked) {
		pr_warn("PTP clock not locked (port state %d): sending anyway", p->ptp.port_state);
	}
	return 0;
}

/* DEST, and the stream's shape: the packet size from --ptime, the formats AES67 allows. */
static int stream_shape(const struct profile_opts *o, struct stream_desc *d, int aes67, char *err,
			size_t errlen)
{
	struct schedule tmp;
	int rc;

	if (aes67 && o->rate != 44100 && o->rate != 48000 && o->rate != 96000) {
		snprintf(err, errlen, "AES67 streams are 44100, 48000 or 96000 Hz, not %ld", o->rate);
		return -EINVAL;
	}
	if (!o->dest_s) {
		snprintf(err, errlen, "the rtp profile needs DEST (--to is for AirPlay receivers)");
		return -EINVAL;
	}
	rc = net_parse(o->dest_s, 5004, &d->dest);
	if (rc) {
		snprintf(err, errlen, "%s: %s", o->dest_s,
			 rc == -ENOENT ? "unknown host" : "not HOST[:PORT] or [IPV6]:PORT");
		return rc;
	}
	rc = sched_init(&tmp, (uint32_t)o->rate, o->ptime_ns, 0, 0, &d->spp);
	if (rc < 0) {
		snprintf(err, errlen, "invalid packet time");
		return rc;
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
		return -EMSGSIZE;
	}
	return 0;
}

/* The audio socket, connected to DEST; a warning when the packets exceed the path MTU. */
static int open_socket(const struct profile_opts *o, struct stream_desc *d, char *err,
		       size_t errlen)
{
	struct net_tx_opts to = { o->iface, (int)o->ttl, (int)o->dscp, -1 };
	int mtu = 0, v4 = d->dest.ss.ss_family == AF_INET;
	socklen_t ml = sizeof(mtu);
	char dst[80];
	int rc;

	d->fd = net_udp_connect(&d->dest, &to);
	if (d->fd < 0) {
		rc = d->fd;
		snprintf(err, errlen, "cannot send to %s: %s%s", net_fmt(&d->dest, dst, sizeof(dst)),
			 strerror(-rc), rc == -ENETUNREACH && net_is_multicast(&d->dest) && !o->iface
			 ? " (give --iface for multicast)" : rc == -ENODEV ? " (--iface)" : "");
		return rc;
	}
	if (!getsockopt(d->fd, v4 ? IPPROTO_IP : IPPROTO_IPV6, v4 ? IP_MTU : IPV6_MTU, &mtu, &ml) &&
	    mtu > 0 && d->max_packet + (v4 ? 28 : 48) > (size_t)mtu) {
		pr_warn("packets of %zu bytes exceed the path MTU %d: they will be fragmented",
			d->max_packet + (v4 ? 28 : 48), mtu);
	}
	return 0;
}

static int random_ids(const struct profile_opts *o, struct stream_desc *d, char *err,
		      size_t errlen)
{
	if (getrandom(&d->seq0, sizeof(d->seq0), 0) != sizeof(d->seq0) ||
	    getrandom(&d->ts0, sizeof(d->ts0), 0) != sizeof(d->ts0) ||
	    getrandom(&d->ssrc, sizeof(d->ssrc), 0) != sizeof(d->ssrc)) {
		snprintf(err, errlen, "no random numbers: %s", strerror(errno));
		return -EIO;
	}
	if (o->have_ssrc) {
		d->ssrc = o->ssrc;
	}
	return 0;
}

/* SAP's socket (IPv4 multicast only: an IPv6 stream goes unannounced, with a warning). */
static int open_sap(struct rtp_prof *p, const struct profile_opts *o, const struct stream_desc *d,
		    char *err, size_t errlen)
{
	struct net_tx_opts so = { o->iface, (int)o->ttl, (int)o->dscp, -1 };
	struct net_addr sap;

	if (d->dest.ss.ss_family != AF_INET) {
		pr_warn("SAP is announced over IPv4 only: no SAP for this stream");
		p->sap_interval = 0;
	} else if (net_parse(SAP_GROUP, SAP_PORT, &sap) ||
		   (p->sap_fd = net_udp_connect(&sap, &so)) < 0) {
		snprintf(err, errlen, "cannot send SAP announcements: %s",
			 strerror(p->sap_fd < 0 ? -p->sap_fd : EINVAL));
		return -EIO;
	}
	return 0;
}

/* aes67: the media clock from ptp4l (launch times then on CLOCK_REALTIME), and SAP. */
static int aes67_setup(struct rtp_prof *p, const struct profile_opts *o, struct stream_desc *d,
		       char *err, size_t errlen)
{
	int rc;

	p->ptp_socket = o->ptp_socket ? o->ptp_socket : PTP_DEFAULT_SOCKET;
	p->domain = (uint8_t)o->ptp_domain;
	p->mediaclk_offset = o->mediaclk_offset;
	p->sap_interval = o->sap_interval_ns;
	/* launch times live on the PTP-disciplined clock */
	d->clock = CLOCK_REALTIME;
	rc = ptp_setup(p, o, err, errlen);
	if (rc) {
		return rc;
	}
	return p->sap_interval ? open_sap(p, o, d, err, errlen) : 0;
}

/* The stream's SDP, kept for SAP and written to --sdp when asked. */
static int publish_sdp(struct rtp_prof *p, const struct profile_opts *o,
		       const struct stream_desc *d, char *err, size_t errlen)
{
	int rc;

	if (make_sdp(p, o, d, (int64_t)((uint64_t)d->spp * NSEC_PER_SEC / d->rate)) < 0) {
		snprintf(err, errlen, "SDP too long");
		return -E2BIG;
	}
	p->sap_hash = (uint16_t)(d->ssrc ^ (d->ssrc >> 16));
	if (o->sdp_path) {
		rc = write_sdp(p, o->sdp_path);
		if (rc) {
			snprintf(err, errlen, "cannot write SDP %s: %s", o->sdp_path, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

static void *open_common(const struct profile_opts *o, struct stream_desc *d, char *err,
			 size_t errlen, int aes67)
{
	struct rtp_prof *p;

	if (stream_shape(o, d, aes67, err, errlen) || open_socket(o, d, err, errlen)) {
		return NULL;
	}
	if (random_ids(o, d, err, errlen)) {
		goto fail;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	p->pt = (uint8_t)o->pt;
	p->bits = d->bits;
	p->aes67 = aes67;
	p->d = d;
	p->sap_fd = -1;
	if ((aes67 && aes67_setup(p, o, d, err, errlen)) || publish_sdp(p, o, d, err, errlen)) {
		goto fail_p;
	}
	return p;
fail_p:
	if (p->sap_fd >= 0) {
		close(p->sap_fd);
	}
	free(p);
fail:
	close(d->fd);
	d->fd = -1;
	return NULL;
}

static void *rtp_open(const struct profile_opts *o, struct stream_desc *d, char *err, size_t errlen)
{
	return open_common(o, d, err, errlen, 0);
}

static void *aes67_open(const struct profile_opts *o, struct stream_desc *d, char *err,
			size_t errlen)
{
	return open_common(o, d, err, errlen, 1);
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

static void sap_send(struct rtp_prof *p, int deletion)
{
	uint8_t b[2200];
	int n = sap_build(b, sizeof(b), deletion, p->sap_hash, p->origin4, p->sdp);

	if (n > 0 && send(p->sap_fd, b, (size_t)n, 0) == n) {
		p->sap_sent++;
		p->sap_deleted |= deletion;
	}
}

/*
 * The first packet starts on the PTP grid: its sample position S (PTP time in samples since
 * the epoch) is a multiple of the packet size, and its RTP time is S + the media-clock offset.
 */
static int aes67_start(void *priv, struct schedule *s, int64_t earliest, char *err, size_t errlen)
{
	struct rtp_prof *p = priv;
	uint64_t ptp = (uint64_t)(earliest + p->ptp_off), rem;
	uint64_t sample = mul_div_u64(ptp, s->rate, NSEC_PER_SEC, &rem);
	uint64_t start_sample, start;

	sample += rem != 0;	/* ceil(ptp x rate / 1 s) */
	start_sample = (sample + s->spp - 1) / s->spp * s->spp;
	start = mul_div_u64(start_sample, NSEC_PER_SEC, s->rate, &rem);
	s->start_ns = (int64_t)(start + (rem != 0)) - p->ptp_off;
	s->ts0 = (uint32_t)start_sample + p->mediaclk_offset;
	p->d->ts0 = s->ts0;
	if (p->sap_fd >= 0) {
		sap_send(p, 0);
	}
	p->next_sap = clock_ns(CLOCK_REALTIME) + p->sap_interval;
	p->next_ptp = clock_ns(CLOCK_REALTIME) + 2 * NSEC_PER_SEC;
	return 0;
}

static int aes67_service(void *priv, const struct schedule *s, int64_t now, int64_t *next,
			 char *err, size_t errlen)
{
	struct rtp_prof *p = priv;

	if (p->sap_fd >= 0 && now >= p->next_sap) {
		sap_send(p, 0);
		p->next_sap += p->sap_interval;
	}
	if (p->have_ptp && now >= p->next_ptp) {
		struct ptp_status st;
		char e[128];

		if (ptp_query(p->ptp_socket, p->domain, &st, 200, e, sizeof(e)) == 0) {
			p->ptp.locked = st.locked;
			p->ptp.master_offset_ns = st.master_offset_ns;
		} else {
			p->ptp.locked = 0;
		}
		p->next_ptp = now + 2 * NSEC_PER_SEC;
	}
	*next = p->sap_fd >= 0 && p->next_sap < p->next_ptp ? p->next_sap : p->next_ptp;
	return 0;
}

static int aes67_finish(void *priv, const struct schedule *s, int64_t last_launch, int interrupted,
			char *err, size_t errlen)
{
	struct rtp_prof *p = priv;

	if (p->sap_fd >= 0 && !p->sap_deleted) {
		sap_send(p, 1);
	}
	return 0;
}

static const char *aes67_status(void *priv)
{
	struct rtp_prof *p = priv;

	snprintf(p->note, sizeof(p->note), "%s", !p->have_ptp ? "  [no PTP]" :
		 p->ptp.locked ? "" : "  [PTP unlocked]");
	return p->note;
}

static int aes67_clock_locked(void *priv)
{
	struct rtp_prof *p = priv;

	return p->have_ptp && p->ptp.locked;
}

static void aes67_report(void *priv, struct json *j)
{
	struct rtp_prof *p = priv;
	char gm[24];

	ptp_format_id(p->ptp.gm_id, gm, sizeof(gm));
	json_obj(j, "aes67");
	json_bool(j, "ptp", p->have_ptp);
	json_bool(j, "locked", p->ptp.locked);
	json_str(j, "grandmaster", gm);
	json_uint(j, "domain", p->domain);
	json_num(j, "lock_wait_ms", (double)p->lock_wait_ns / 1e6);
	json_int(j, "ptp_minus_realtime_ns", p->ptp_off);
	json_int(j, "master_offset_ns", p->ptp.master_offset_ns);
	json_uint(j, "mediaclk_offset", p->mediaclk_offset);
	json_uint(j, "sap_sent", (uint64_t)p->sap_sent);
	json_bool(j, "sap_deleted", p->sap_deleted);
	json_end(j, '}');
}

static void rtp_close(void *priv)
{
	struct rtp_prof *p = priv;

	if (!p) {
		return;
	}
	/* however the stream ended, its announcement is withdrawn */
	if (p->sap_fd >= 0) {
		if (!p->sap_deleted && p->sap_sent) {
			sap_send(p, 1);
		}
		close(p->sap_fd);
	}
	free(p);
}

const struct profile_ops profile_rtp = {
	.name = "rtp",
	.open = rtp_open,
	.packetize = rtp_packetize,
	.start = rtp_start,
	.close = rtp_close,
};

/* SAP goes out on the stream's interface without a launch time */
static const char *aes67_untimed(const struct profile_opts *o)
{
	return o->sap_interval_ns ? "SAP announcements (--sap-interval 0: none)" : NULL;
}

const struct profile_ops profile_aes67 = {
	.name = "aes67",
	.untimed_for = aes67_untimed,
	.open = aes67_open,
	.packetize = rtp_packetize,
	.start = aes67_start,
	.service = aes67_service,
	.finish = aes67_finish,
	.status = aes67_status,
	.clock_locked = aes67_clock_locked,
	.report = aes67_report,
	.close = rtp_close,
};
