/* SPDX-License-Identifier: GPL-2.0-only */
/* Receiver-side measurement of any RTP stream: kernel RX stamps against a fitted schedule. */
#ifndef TXPACE_MEASURE_H
#define TXPACE_MEASURE_H

#include <stddef.h>
#include <stdint.h>

#include "txpace/json.h"
#include "txpace/net.h"
#include "txpace/stop.h"

struct measure_cfg {
	struct net_addr listen;
	struct net_addr group;
	int have_group;
	const char *iface;
	int64_t seconds_ns;	/* 0 = until stopped */
	uint64_t max_packets;	/* 0 = no limit */
	const char *payload_path, *plot_path;
	uint32_t media_clock;	/* if set: compare RTP time with arrival (CLOCK_REALTIME) x rate */
	int64_t media_offset_ns;	/* PTP time - CLOCK_REALTIME for that comparison */
	const txp_stop_flag *stop;	/* ends the capture early when set */
};

struct measure_report {
	uint64_t packets;	/* RTP packets of the stream received (duplicates included) */
	uint64_t lost, reordered, duplicates, invalid, other_ssrc;
	uint64_t first_seq, last_seq;	/* extended */
	uint32_t ssrc;
	uint8_t pt;
	double dev_p50, dev_p99, dev_p999, dev_max;	/* µs, |arrival - fitted schedule| */
	double int_min, int_p50, int_max;		/* µs, inter-arrival */
	uint64_t burst_max;	/* most packets arriving within half a median interval */
	int64_t rtp_step;		/* RTP timestamp increment per packet (the most common) */
	uint64_t rtp_step_errors;	/* consecutive packets whose increment differs */
	double clock_rate;		/* RTP ticks per second of arrival time (fitted) */
	double duration_s;
	uint64_t payload_bytes;
	int media_clock;		/* the two below are set */
	double media_p50, media_max;	/* µs, RTP time - arrival time on the media clock */
};

/* One received packet, for the analysis. */
struct measure_rec {
	uint64_t seq;		/* extended sequence number */
	uint32_t ts;
	int64_t arrival_ns;
	size_t off, len;	/* payload, in the payload buffer */
};

/**
 * Receive until @cfg's time or packet limit, or until @cfg's stop request; then analyse.
 * @ready_fd if >= 0 gets one byte once the socket is bound (then it is closed)
 * @return 0, or a negative errno with a one-line reason in @err
 */
int measure_run(const struct measure_cfg *cfg, struct measure_report *out, int ready_fd, char *err,
		size_t errlen);
/**
 * Analyse @n records (in arrival order; sorted and deduplicated in place) into @r. Exposed for
 * tests. @residuals_out may be NULL, else it gets the residuals (µs) of the records kept, to free
 * @return how many records were kept, or -ENOMEM
 */
int measure_analyse(struct measure_rec *recs, size_t n, struct measure_report *r,
		    double **residuals_out);
void measure_report_json(struct json *j, const char *key, const struct measure_report *r);
void measure_report_text(FILE *f, const char *title, const struct measure_report *r);

#endif
