// SPDX-License-Identifier: GPL-2.0-only
/*
 * AirPlay 2's PTP master. nqptp (the receivers' PTP daemon) takes only unicast messages from the
 * RTSP client's address, 319 to 319 and 320 to 320, Announce first, then two-step Sync +
 * Follow_Up; it takes the offset when the Follow_Up arrives. So each Sync's own SND stamp is
 * read from the error queue as soon as the kernel queues it, and its Follow_Up goes out then.
 * One Sync is in flight at a time (over every receiver): a stamp is matched by its OPT_ID key,
 * and a Sync whose stamp never comes gets the time read just before its send.
 */
#include <errno.h>
#include <inttypes.h>
#include <time.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "txpace/aptp.h"
#include "txpace/clock.h"
#include "txpace/hwts.h"
#include "txpace/log.h"
#include "aptp_priv.h"

#ifndef SCM_TSTAMP_SND
#define SCM_TSTAMP_SND 0
#endif

#define ANNOUNCE_NS NSEC_PER_SEC		/* logAnnounceInterval 0 */
#define SYNC_NS (NSEC_PER_SEC / 8)		/* logSyncInterval -3 */
#define LOG_ANNOUNCE 0
#define LOG_SYNC (-3)
/* a software SND stamp is queued within microseconds; past this the Sync's own time is used */
#define STAMP_WAIT_NS (20 * NSEC_PER_MSEC)
/* with hardware stamps on: how long after the software stamp the hardware one may take */
#define HW_WAIT_NS (5 * NSEC_PER_MSEC)
#define HW_GIVE_UP 8	/* Syncs in a row without a hardware stamp: software only from then */
#define RX_BUDGET 32

struct aptp_peer {
	struct net_addr ev, gen;	/* its 319 and 320 */
	uint16_t seq_announce, seq_sync;
	int announced;
	int64_t next_announce, next_sync;
};

struct aptp {
	struct aptp_cfg cfg;
	int ev_fd, gen_fd;
	uint8_t id[8];
	char ifname[32];
	int id_random;
	struct clocks *clk;
	struct aptp_peer *peers;
	size_t npeers, cap;
	/* the Sync in flight */
	int pending;
	size_t pend_peer;
	uint16_t pend_seq;
	uint32_t pend_key;
	int64_t pend_sw, pend_sent, pend_deadline;	/* on cfg.clock */
	uint32_t next_key;	/* OPT_ID of the next Sync sent on ev_fd */
	int key_uncertain;	/* a send failed: the kernel may or may not have used a key */
	int pend_have_sw;	/* pend_sw is the Sync's software stamp (else the time before it) */
	struct hwts *hw;	/* hardware stamps (hwts.h), NULL: software only */
	int hw_on;		/* asked for on the socket (until HW_GIVE_UP misses in a row) */
	unsigned hw_misses;
	char hw_why[200];	/* why software stamps */
	struct aptp_stats st;
};

static void set_port(struct net_addr *a, uint16_t port)
{
	if (a->ss.ss_family == AF_INET) {
		((struct sockaddr_in *)&a->ss)->sin_port = htons(port);
	} else {
		((struct sockaddr_in6 *)&a->ss)->sin6_port = htons(port);
	}
}

static int stamps_enable(int fd, int hw)
{
	unsigned flags = SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE |
			 SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY |
			 (hw ? SOF_TIMESTAMPING_TX_HARDWARE | SOF_TIMESTAMPING_RAW_HARDWARE : 0);

	return setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof(flags)) ? -errno : 0;
}

/* The clock identity: EUI-64 of the interface's MAC, else random (said once). */
static void make_identity(struct aptp *a)
{
	uint8_t mac[6];
	int rc = aptp_sock_mac(a->cfg.local, a->cfg.iface, mac, a->ifname, sizeof(a->ifname));

	if (rc) {
		/* a locally administered, unicast random "MAC" (lo, tun: no hardware address) */
		if (getrandom(mac, sizeof(mac), 0) != sizeof(mac)) {
			memset(mac, 0x5a, sizeof(mac));
		}
		mac[0] = (uint8_t)((mac[0] & 0xfc) | 0x02);
		a->id_random = 1;
		pr_warn("PTP clock identity: interface %s has no MAC (%s); using a random one",
			a->ifname[0] ? a->ifname : "of the sender's address", strerror(-rc));
	}
	aptp_eui64(mac, a->id);
}

struct aptp *aptp_new(const struct aptp_cfg *cfg, char *err, size_t errlen)
{
	struct aptp *a = calloc(1, sizeof(*a));
	int rc;

	if (!a) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->cfg = *cfg;
	a->ev_fd = a->gen_fd = -1;
	if (cfg->clock != CLOCK_MONOTONIC && cfg->clock != CLOCK_REALTIME &&
	    cfg->clock != CLOCK_TAI) {
		snprintf(err, errlen, "PTP timescale: clock %d is not MONOTONIC, REALTIME or TAI",
			 (int)cfg->clock);
		goto err;
	}
	if (!a->cfg.priority1) {
		a->cfg.priority1 = 248;
	}
	if (!a->cfg.priority2) {
		a->cfg.priority2 = 248;
	}
	a->clk = clocks_new();
	if (!a->clk) {
		snprintf(err, errlen, "out of memory");
		goto err;
	}
	a->ev_fd = aptp_sock_bind(cfg->local, APTP_EVENT_PORT, cfg->share_with_ptp4l, err, errlen);
	if (a->ev_fd < 0) {
		goto err;
	}
	a->gen_fd = aptp_sock_bind(cfg->local, APTP_GENERAL_PORT, cfg->share_with_ptp4l, err,
				   errlen);
	if (a->gen_fd < 0) {
		goto err;
	}
	rc = stamps_enable(a->ev_fd, 0);
	if (rc) {
		snprintf(err, errlen, "SO_TIMESTAMPING on the PTP event socket: %s", strerror(-rc));
		goto err;
	}
	make_identity(a);
	snprintf(a->hw_why, sizeof(a->hw_why), "not asked for");
	if (cfg->hw_stamps && a->ifname[0]) {
		a->hw = hwts_open(a->ifname, a->hw_why, sizeof(a->hw_why));
	}
	if (a->hw) {
		rc = stamps_enable(a->ev_fd, 1);
		if (rc) {
			snprintf(a->hw_why, sizeof(a->hw_why), "%s: the socket refused hardware "
				 "stamps: %s", a->ifname, strerror(-rc));
			hwts_close(a->hw);
			a->hw = NULL;
		} else {
			a->hw_on = 1;
			snprintf(a->hw_why, sizeof(a->hw_why), "%s", hwts_describe(a->hw));
		}
	}
	a->cfg.local = NULL;	/* the caller's; not kept */
	return a;
err:
	aptp_free(a);
	return NULL;
}

void aptp_free(struct aptp *a)
{
	if (!a) {
		return;
	}
	if (a->ev_fd >= 0) {
		close(a->ev_fd);
	}
	if (a->gen_fd >= 0) {
		close(a->gen_fd);
	}
	hwts_close(a->hw);
	clocks_free(a->clk);
	free(a->peers);
	free(a);
}

static int same_host(const struct net_addr *x, const struct net_addr *y)
{
	return net_same_host(x, (const struct sockaddr *)&y->ss, y->len);
}

int aptp_add_peer(struct aptp *a, const struct net_addr *peer)
{
	struct aptp_peer *p;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(a->ev_fd, (struct sockaddr *)&ss, &sl) || ss.ss_family != peer->ss.ss_family) {
		return -EAFNOSUPPORT;
	}
	for (size_t i = 0; i < a->npeers; i++) {
		if (same_host(&a->peers[i].ev, peer)) {
			return -EEXIST;
		}
	}
	if (a->npeers == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 4;
		struct aptp_peer *n = realloc(a->peers, cap * sizeof(*n));

		if (!n) {
			return -ENOMEM;
		}
		a->peers = n;
		a->cap = cap;
	}
	p = &a->peers[a->npeers++];
	*p = (struct aptp_peer){ .ev = *peer, .gen = *peer };
	set_port(&p->ev, APTP_EVENT_PORT);
	set_port(&p->gen, APTP_GENERAL_PORT);
	return 0;
}

int aptp_remove_peer(struct aptp *a, const struct net_addr *peer)
{
	for (size_t i = 0; i < a->npeers; i++) {
		if (!same_host(&a->peers[i].ev, peer)) {
			continue;
		}
		if (a->pending && a->pend_peer == i) {
			a->pending = 0;	/* its stamp, when it comes, matches nothing */
		} else if (a->pending && a->pend_peer > i) {
			a->pend_peer--;
		}
		memmove(&a->peers[i], &a->peers[i + 1], (a->npeers - i - 1) * sizeof(a->peers[0]));
		a->npeers--;
		return 0;
	}
	return -ENOENT;
}

void aptp_clock_id(const struct aptp *a, uint8_t id[8])
{
	memcpy(id, a->id, 8);
}

uint64_t aptp_clock_id64(const struct aptp *a)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++) {
		v = v << 8 | a->id[i];
	}
	return v;
}

int64_t aptp_ptp_time(const struct aptp *a, int64_t t)
{
	return t + a->cfg.offset_ns;
}

/* A CLOCK_REALTIME stamp on cfg.clock (the offsets resampled just before). */
static int64_t from_realtime(const struct aptp *a, int64_t rt)
{
	int64_t mono = clocks_to_mono(a->clk, CLOCK_REALTIME, rt);

	return a->cfg.clock == CLOCK_MONOTONIC ? mono : clocks_from_mono(a->clk, a->cfg.clock, mono);
}

int aptp_poll_fds(struct aptp *a, struct pollfd *pfd, int max)
{
	int n = 0;

	if (n < max) {
		pfd[n++] = (struct pollfd){ .fd = a->ev_fd, .events = POLLIN | POLLERR };
	}
	if (n < max) {
		pfd[n++] = (struct pollfd){ .fd = a->gen_fd, .events = POLLIN };
	}
	return n;
}

static struct aptp_hdr hdr_for(const struct aptp *a, uint16_t seq, uint16_t flags, int8_t logi)
{
	struct aptp_hdr h = { .transport = 1, .domain = 0, .flags = flags, .port = 1, .seq = seq,
			      .log_interval = logi };

	/* transportSpecific 1 as Apple's (and nqptp's own) messages carry it */
	memcpy(h.clock_id, a->id, 8);
	return h;
}

static void send_to(struct aptp *a, int fd, const struct net_addr *to, const uint8_t *b,
		    size_t len, uint64_t *counter)
{
	if (sendto(fd, b, len, 0, (const struct sockaddr *)&to->ss, to->len) == (ssize_t)len) {
		(*counter)++;
	} else if (!a->st.send_errors++) {
		char s[80];

		pr_warn("PTP: cannot send to %s: %s", net_fmt(to, s, sizeof(s)), strerror(errno));
	}
}

static void send_announce(struct aptp *a, struct aptp_peer *p)
{
	uint8_t b[APTP_ANNOUNCE_LEN];
	struct aptp_hdr h = hdr_for(a, p->seq_announce++, APTP_FLAG_UNICAST |
				    (a->cfg.ptp_timescale ? APTP_FLAG_PTP_TIMESCALE | APTP_FLAG_UTC_VALID : 0),
				    LOG_ANNOUNCE);
	/* clockClass 248 (default), accuracy unknown, Apple's variance; stepsRemoved 0: we are GM */
	struct aptp_announce an = { .utc_offset = a->cfg.ptp_timescale ? a->cfg.utc_offset : 0,
				    .priority1 = a->cfg.priority1, .priority2 = a->cfg.priority2,
				    .clock_class = 248, .clock_accuracy = 0xfe, .variance = 0x436a,
				    .steps_removed = 0,
				    .time_source = a->cfg.ptp_timescale ? 0x40 : 0xa0 };

	memcpy(an.gm_id, a->id, 8);
	aptp_build_announce(b, &h, &an);
	send_to(a, a->gen_fd, &p->gen, b, sizeof(b), &a->st.announces);
	p->announced = 1;
}

static void send_follow_up(struct aptp *a, int64_t origin)
{
	struct aptp_peer *p = &a->peers[a->pend_peer];
	uint8_t b[APTP_FOLLOW_UP_LEN];
	struct aptp_hdr h = hdr_for(a, a->pend_seq, APTP_FLAG_UNICAST, LOG_SYNC);

	a->pending = 0;
	aptp_build_follow_up(b, &h, aptp_ptp_time(a, origin));
	send_to(a, a->gen_fd, &p->gen, b, sizeof(b), &a->st.follow_ups);
}

static void note_delay(struct aptp *a)
{
	int64_t delay = clock_ns(a->cfg.clock) - a->pend_sent;

	if (delay > a->st.stamp_delay_max_ns) {
		a->st.stamp_delay_max_ns = delay;
	}
}

/* A hardware stamp (PHC time) of the Sync in flight sends its Follow_Up. @return 1 when sent */
static int stamp_hw(struct aptp *a, const struct scm_timestamping *ts)
{
	int64_t phc = ts_to_ns(&ts->ts[2]), rt;

	if (!phc || hwts_to_realtime(a->hw, phc, &rt)) {
		return 0;
	}
	note_delay(a);
	a->hw_misses = 0;
	a->st.stamps_hw++;
	send_follow_up(a, from_realtime(a, rt));
	return 1;
}

/* A Sync went without its hardware stamp; after HW_GIVE_UP in a row, software only. */
static void hw_missed(struct aptp *a)
{
	a->st.hw_missing++;
	if (++a->hw_misses < HW_GIVE_UP) {
		return;
	}
	a->hw_on = 0;
	stamps_enable(a->ev_fd, 0);
	snprintf(a->hw_why, sizeof(a->hw_why), "%s: gave no hardware TX stamp for %d Syncs in a "
		 "row (%s): software stamps", a->ifname, HW_GIVE_UP, hwts_describe(a->hw));
	pr_warn("PTP: %s", a->hw_why);
}

/* The stamps queued on the event socket: the one of the Sync in flight sends its Follow_Up. */
static void read_stamps(struct aptp *a)
{
	for (int budget = RX_BUDGET; budget > 0; budget--) {
		char ctrl[512];
		uint8_t data[64];
		struct iovec iov = { data, sizeof(data) };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl,
				    .msg_controllen = sizeof(ctrl) };
		const struct scm_timestamping *ts = NULL;
		const struct sock_extended_err *se = NULL;
		uint32_t key;

		if (recvmsg(a->ev_fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) {
			return;
		}
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPING) {
				ts = (const void *)CMSG_DATA(c);
			} else if ((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
				   (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
				se = (const void *)CMSG_DATA(c);
			}
		}
		if (!ts || !se || se->ee_origin != SO_EE_ORIGIN_TIMESTAMPING ||
		    se->ee_info != SCM_TSTAMP_SND || !a->pending) {
			continue;
		}
		key = se->ee_data;
		if (key != a->pend_key && !(a->key_uncertain && key == a->pend_key + 1)) {
			continue;	/* a Sync that already had its Follow_Up */
		}
		a->next_key = key + 1;
		a->key_uncertain = 0;
		clocks_track(a->clk);
		if (a->hw_on && stamp_hw(a, ts)) {
			continue;
		}
		if (!ts_to_ns(&ts->ts[0])) {
			continue;
		}
		int64_t t = from_realtime(a, ts_to_ns(&ts->ts[0]));

		note_delay(a);
		if (a->hw_on) {
			/* the hardware stamp of the same Sync may follow: wait a little for it */
			int64_t until = clock_ns(a->cfg.clock) + HW_WAIT_NS;

			a->pend_sw = t;
			a->pend_have_sw = 1;
			a->pend_deadline = until < a->pend_deadline ? until : a->pend_deadline;
			continue;
		}
		a->st.stamps_sw++;
		send_follow_up(a, t);
	}
}

static void send_sync(struct aptp *a, size_t i)
{
	struct aptp_peer *p = &a->peers[i];
	uint8_t b[APTP_SYNC_LEN];
	struct aptp_hdr h = hdr_for(a, p->seq_sync, APTP_FLAG_UNICAST | APTP_FLAG_TWO_STEP, LOG_SYNC);
	int64_t t = clock_ns(a->cfg.clock);

	/* two-step: originTimestamp an estimate, the Follow_Up carries the stamp */
	aptp_build_sync(b, &h, aptp_ptp_time(a, t));
	if (sendto(a->ev_fd, b, sizeof(b), 0, (const struct sockaddr *)&p->ev.ss, p->ev.len) !=
	    sizeof(b)) {
		if (!a->st.send_errors++) {
			char s[80];

			pr_warn("PTP: cannot send to %s: %s", net_fmt(&p->ev, s, sizeof(s)),
				strerror(errno));
		}
		a->key_uncertain = 1;
		return;
	}
	a->st.syncs++;
	a->pending = 1;
	a->pend_peer = i;
	a->pend_seq = p->seq_sync++;
	a->pend_key = a->next_key++;
	a->pend_sw = t;
	a->pend_have_sw = 0;
	a->pend_sent = t;
	a->pend_deadline = t + STAMP_WAIT_NS;
	read_stamps(a);
}

/* What a receiver sends on 319/320: nqptp answers our first Announce with two of its own. */
static void read_rx(struct aptp *a, int fd)
{
	for (int budget = RX_BUDGET; budget > 0; budget--) {
		uint8_t b[256];
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, b, sizeof(b), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		struct aptp_hdr h;
		struct aptp_announce an;
		int known = 0;

		if (n < 0) {
			return;
		}
		for (size_t i = 0; i < a->npeers && !known; i++) {
			known = net_same_host(&a->peers[i].ev, (struct sockaddr *)&from, fl);
		}
		if (!known) {
			a->st.rx_strangers++;
		} else if (aptp_parse(b, (size_t)n, &h, &an)) {
			a->st.rx_bad++;
		} else {
			a->st.rx_ptp++;
		}
	}
}

static void lower(int64_t *next, int64_t t)
{
	if (!*next || t < *next) {
		*next = t;
	}
}

/* After a late call, the next due time moves on from now rather than bursting to catch up. */
static int64_t advance(int64_t due, int64_t period, int64_t now)
{
	due += period;
	return due <= now ? now + period : due;
}

int aptp_service(struct aptp *a, int64_t now, int64_t *next)
{
	read_rx(a, a->gen_fd);
	read_rx(a, a->ev_fd);
	read_stamps(a);
	if (a->pending && clock_ns(a->cfg.clock) >= a->pend_deadline) {
		if (a->hw_on) {
			hw_missed(a);
		}
		if (a->pend_have_sw) {
			a->st.stamps_sw++;
		} else {
			a->st.stamps_missing++;
		}
		send_follow_up(a, a->pend_sw);
	}
	for (size_t i = 0; i < a->npeers; i++) {
		struct aptp_peer *p = &a->peers[i];

		if (!p->announced || now >= p->next_announce) {
			if (!p->announced) {
				p->next_announce = now;
				p->next_sync = now + SYNC_NS;	/* nqptp drops Syncs before one */
			}
			send_announce(a, p);
			p->next_announce = advance(p->next_announce, ANNOUNCE_NS, now);
		}
		if (!a->pending && now >= p->next_sync) {
			send_sync(a, i);
			p->next_sync = advance(p->next_sync, SYNC_NS, now);
		}
		lower(next, p->next_announce);
		/* while a Sync waits for its stamp, the others wait too: POLLERR or the deadline */
		lower(next, a->pending && p->next_sync < a->pend_deadline ? a->pend_deadline
									   : p->next_sync);
	}
	if (a->pending) {
		lower(next, a->pend_deadline);
	}
	return 0;
}

const char *aptp_hw_stamps(const struct aptp *a)
{
	return a->hw_why;
}

void aptp_get_stats(const struct aptp *a, struct aptp_stats *st)
{
	*st = a->st;
}

void aptp_report(const struct aptp *a, struct json *j)
{
	char id[24];

	snprintf(id, sizeof(id), "%016" PRIx64, aptp_clock_id64(a));
	json_obj(j, "ptp");
	json_str(j, "clock_id", id);
	json_bool(j, "clock_id_random", a->id_random);
	json_str(j, "interface", a->ifname);
	json_str(j, "timescale", a->cfg.clock == CLOCK_MONOTONIC ? "monotonic"
				 : a->cfg.clock == CLOCK_TAI ? "tai" : "realtime");
	json_int(j, "offset_ns", a->cfg.offset_ns);
	json_uint(j, "receivers", a->npeers);
	json_uint(j, "announces", a->st.announces);
	json_uint(j, "syncs", a->st.syncs);
	json_uint(j, "follow_ups", a->st.follow_ups);
	json_str(j, "hw_stamps", a->hw_on ? "on" : a->hw ? "gave up" : "off");
	json_str(j, "hw", a->hw_why);
	json_uint(j, "stamps_hw", a->st.stamps_hw);
	json_uint(j, "hw_missing", a->st.hw_missing);
	json_uint(j, "stamps_sw", a->st.stamps_sw);
	json_uint(j, "stamps_missing", a->st.stamps_missing);
	json_int(j, "stamp_delay_max_ns", a->st.stamp_delay_max_ns);
	json_uint(j, "send_errors", a->st.send_errors);
	json_uint(j, "rx_ptp", a->st.rx_ptp);
	json_uint(j, "rx_bad", a->st.rx_bad);
	json_uint(j, "rx_strangers", a->st.rx_strangers);
	json_end(j, '}');
}
