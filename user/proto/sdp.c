// SPDX-License-Identifier: GPL-2.0-only
/* SDP module: the session description of an outgoing RTP stream. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* One line at a time, bounded: the text comes from the network (SAP) or a file. */
int sdp_parse(const char *text, size_t len, struct sdp_in *o)
{
	const char *p = text, *end = text + len;
	int in_audio = 0, have_m = 0;

	memset(o, 0, sizeof(*o));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = (size_t)((nl ? nl : end) - p);
		char line[512];

		if (l > 0 && p[l - 1] == '\r') {
			l--;
		}
		if (l >= sizeof(line)) {
			l = sizeof(line) - 1;
		}
		memcpy(line, p, l);
		line[l] = '\0';
		p = nl ? nl + 1 : end;
		if (l < 2 || line[1] != '=') {
			continue;
		}
		const char *v = line + 2;

		switch (line[0]) {
		case 's':
			snprintf(o->name, sizeof(o->name), "%.127s", v);
			break;
		case 'c': {
			char net[8], type[8], addr[64];

			if (sscanf(v, "%7s %7s %63s", net, type, addr) == 3 && (in_audio || !o->addr[0])) {
				addr[strcspn(addr, "/")] = '\0';
				snprintf(o->addr, sizeof(o->addr), "%s", addr);
			}
			break;
		}
		case 'm': {
			unsigned port, pt;
			char proto[32];

			in_audio = 0;
			if (!have_m && sscanf(v, "audio %u %31s %u", &port, proto, &pt) == 3 &&
			    port > 0 && port < 65536 && pt < 128) {
				o->port = (uint16_t)port;
				o->pt = (uint8_t)pt;
				in_audio = have_m = 1;
			}
			break;
		}
		case 'a':
			if (!in_audio) {
				break;
			}
			if (!strncmp(v, "rtpmap:", 7)) {
				unsigned pt, rate, ch = 1;
				char enc[16];
				int n = sscanf(v + 7, "%u %15[^/]/%u/%u", &pt, enc, &rate, &ch);

				if (n >= 3 && pt == o->pt) {
					snprintf(o->encoding, sizeof(o->encoding), "%s", enc);
					o->rate = rate;
					o->channels = ch;
				}
			} else if (!strncmp(v, "ptime:", 6)) {
				double ms = strtod(v + 6, NULL);

				if (ms > 0 && ms < 1000) {
					o->ptime_ns = (int64_t)(ms * 1e6 + 0.5);
				}
			} else if (!strncmp(v, "source-filter:", 14)) {
				char mode[8], net[8], type[8], dst[64], src[64];

				if (sscanf(v + 14, " %7s %7s %7s %63s %63s", mode, net, type, dst, src) == 5 &&
				    !strcmp(mode, "incl")) {
					snprintf(o->source, sizeof(o->source), "%s", src);
				}
			} else if (!strncmp(v, "mediaclk:direct=", 16)) {
				o->mediaclk_offset = (uint32_t)strtoul(v + 16, NULL, 10);
				o->has_mediaclk = 1;
			}
			break;
		default:
			break;
		}
	}
	if (!have_m || !o->addr[0] || (strcasecmp(o->encoding, "L24") && strcasecmp(o->encoding, "L16")) ||
	    o->rate < 8000 || o->rate > 384000 || o->channels < 1 || o->channels > 64) {
		return -EINVAL;
	}
	return 0;
}
