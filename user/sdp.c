// SPDX-License-Identifier: GPL-2.0-only
/* SDP module: the session description of an outgoing RTP stream. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "txpace/sdp.h"

static void host_of(const struct net_addr *a, char *buf, size_t cap, int *v6, unsigned *port)
{
	if (a->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)&a->ss;

		inet_ntop(AF_INET6, &s->sin6_addr, buf, (socklen_t)cap);
		*v6 = 1;
		*port = ntohs(s->sin6_port);
	} else {
		const struct sockaddr_in *s = (const void *)&a->ss;

		inet_ntop(AF_INET, &s->sin_addr, buf, (socklen_t)cap);
		*v6 = 0;
		*port = ntohs(s->sin_port);
	}
}

struct out {
	char *p;
	size_t cap, len;
	int overflow;
};

static void add(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->p + o->len, o->cap > o->len ? o->cap - o->len : 0, fmt, ap);
	va_end(ap);
	if (n < 0 || o->len + (size_t)n >= o->cap) {
		o->overflow = 1;
		return;
	}
	o->len += (size_t)n;
}

int sdp_format(const struct sdp_stream *s, char *buf, size_t cap)
{
	char org[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], ptime[32];
	unsigned oport, dport;
	int ov6, dv6;
	struct out o = { buf, cap, 0, 0 };

	host_of(&s->origin, org, sizeof(org), &ov6, &oport);
	host_of(&s->dest, dst, sizeof(dst), &dv6, &dport);
	/* a=ptime is in milliseconds; print the exact value without trailing zeros */
	snprintf(ptime, sizeof(ptime), "%.6f", (double)s->ptime_ns / 1e6);
	for (char *e = ptime + strlen(ptime) - 1; *e == '0' || *e == '.'; e--) {
		char c = *e;

		*e = '\0';
		if (c == '.') {
			break;
		}
	}
	add(&o, "v=0\r\n");
	add(&o, "o=- %llu 0 IN %s %s\r\n", (unsigned long long)s->session_id, ov6 ? "IP6" : "IP4",
	    org);
	add(&o, "s=%s\r\n", s->name);
	if (net_is_multicast(&s->dest) && !dv6) {
		add(&o, "c=IN IP4 %s/%d\r\n", dst, s->ttl > 0 ? s->ttl : 1);
	} else {
		add(&o, "c=IN %s %s\r\n", dv6 ? "IP6" : "IP4", dst);
	}
	add(&o, "t=0 0\r\n");
	if (s->ptp) {
		add(&o, "a=clock-domain:PTPv2 %u\r\n", s->ptp_domain);
	}
	add(&o, "m=audio %u RTP/AVP %u\r\n", dport, s->pt);
	if (s->ptp && net_is_multicast(&s->dest)) {
		add(&o, "a=source-filter: incl IN %s %s %s\r\n", dv6 ? "IP6" : "IP4", dst, org);
	}
	add(&o, "a=rtpmap:%u %s/%u/%u\r\n", s->pt, s->encoding, s->rate, s->channels);
	add(&o, "a=ptime:%s\r\n", ptime);
	add(&o, "a=recvonly\r\n");
	if (s->ptp) {
		add(&o, "a=ts-refclk:ptp=IEEE1588-2008:%s:%u\r\n", s->ptp_gmid, s->ptp_domain);
		add(&o, "a=mediaclk:direct=%u\r\n", s->mediaclk_offset);
	}
	if (o.overflow) {
		return -ENOSPC;
	}
	return (int)o.len;
}
