// SPDX-License-Identifier: GPL-2.0-only
/* Net module: address parsing and the UDP sockets of senders and receivers. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "txpace/clock.h"
#include "txpace/net.h"

int net_parse(const char *s, uint16_t default_port, struct net_addr *out)
{
	char host[256];
	const char *port = NULL;
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res;
	unsigned long p = default_port;
	int rc;

	if (!s || !*s || strlen(s) >= sizeof(host)) {
		return -EINVAL;
	}
	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end) {
			return -EINVAL;
		}
		snprintf(host, sizeof(host), "%.*s", (int)(end - s - 1), s + 1);
		if (end[1] == ':') {
			port = end + 2;
		} else if (end[1] != '\0') {
			return -EINVAL;
		}
	} else {
		const char *c = strrchr(s, ':');

		/* more than one colon without brackets: a bare IPv6 address */
		if (c && strchr(s, ':') == c) {
			snprintf(host, sizeof(host), "%.*s", (int)(c - s), s);
			port = c + 1;
		} else {
			snprintf(host, sizeof(host), "%s", s);
		}
	}
	if (port) {
		char *e;

		errno = 0;
		p = strtoul(port, &e, 10);
		if (!*port || *e || errno || p == 0 || p > 65535) {
			return -EINVAL;
		}
	}
	if (p == 0 || !host[0]) {
		return -EINVAL;
	}
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0) {
		return -ENOENT;
	}
	memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
	out->len = res->ai_addrlen;
	freeaddrinfo(res);
	if (out->ss.ss_family == AF_INET) {
		((struct sockaddr_in *)&out->ss)->sin_port = htons((uint16_t)p);
	} else {
		((struct sockaddr_in6 *)&out->ss)->sin6_port = htons((uint16_t)p);
	}
	return 0;
}

const char *net_fmt(const struct net_addr *a, char *buf, size_t cap)
{
	char h[INET6_ADDRSTRLEN] = "?";

	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)&a->ss;

		inet_ntop(AF_INET, &s->sin_addr, h, sizeof(h));
		snprintf(buf, cap, "%s:%u", h, ntohs(s->sin_port));
	} else {
		const struct sockaddr_in6 *s = (const void *)&a->ss;

		inet_ntop(AF_INET6, &s->sin6_addr, h, sizeof(h));
		snprintf(buf, cap, "[%s]:%u", h, ntohs(s->sin6_port));
	}
	return buf;
}

int net_is_multicast(const struct net_addr *a)
{
	if (a->ss.ss_family == AF_INET) {
		return IN_MULTICAST(ntohl(((const struct sockaddr_in *)&a->ss)->sin_addr.s_addr));
	}
	return IN6_IS_ADDR_MULTICAST(&((const struct sockaddr_in6 *)&a->ss)->sin6_addr);
}

static int iface_index(const char *iface)
{
	unsigned idx = if_nametoindex(iface);

	return idx ? (int)idx : -ENODEV;
}

int net_same_host(const struct net_addr *a, const struct sockaddr *from, socklen_t len)
{
	if (len < sizeof(sa_family_t) || from->sa_family != a->ss.ss_family) {
		return 0;
	}
	if (from->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)&a->ss, *y = (const void *)from;

		return len >= sizeof(*y) && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (from->sa_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)&a->ss, *y = (const void *)from;

		return len >= sizeof(*y) && !memcmp(&x->sin6_addr, &y->sin6_addr, 16) &&
		       (!x->sin6_scope_id || x->sin6_scope_id == y->sin6_scope_id);
	}
	return 0;
}

int net_udp_connect(const struct net_addr *dst, const struct net_tx_opts *o)
{
	int fam = dst->ss.ss_family, fd, on = 1, tos = o->dscp << 2, err;

	fd = socket(fam, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0) {
		return -errno;
	}
	if (fam == AF_INET) {
		if (setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos)) ||
		    setsockopt(fd, IPPROTO_IP, IP_RECVERR, &on, sizeof(on))) {
			goto err;
		}
	} else {
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos)) ||
		    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof(on))) {
			goto err;
		}
	}
	if (o->prio >= 0 && setsockopt(fd, SOL_SOCKET, SO_PRIORITY, &o->prio, sizeof(o->prio))) {
		goto err;
	}
	if (net_is_multicast(dst)) {
		int idx = 0;

		if (o->iface) {
			idx = iface_index(o->iface);
			if (idx < 0) {
				close(fd);
				return idx;
			}
		}
		if (fam == AF_INET) {
			struct ip_mreqn m = { .imr_ifindex = idx };

			if ((idx && setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &m, sizeof(m))) ||
			    (o->ttl >= 0 &&
			     setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &o->ttl, sizeof(o->ttl)))) {
				goto err;
			}
		} else {
			if ((idx && setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &idx, sizeof(idx))) ||
			    (o->ttl >= 0 && setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &o->ttl,
						       sizeof(o->ttl)))) {
				goto err;
			}
		}
	} else if (o->iface) {
		if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, o->iface, (socklen_t)strlen(o->iface))) {
			goto err;
		}
	}
	if (connect(fd, (const struct sockaddr *)&dst->ss, dst->len)) {
		goto err;
	}
	return fd;
err:
	err = -errno;
	close(fd);
	return err;
}

int net_udp_listen(const struct net_addr *local, const struct net_addr *group, const char *iface)
{
	return net_udp_listen_from(local, group, NULL, iface);
}

int net_udp_listen_from(const struct net_addr *local, const struct net_addr *group,
			const struct net_addr *source, const char *iface)
{
	const struct net_addr *g = group ? group : (net_is_multicast(local) ? local : NULL);
	int fam = local->ss.ss_family, fd, on = 1, idx = 0, err, rcvbuf = 4 << 20;

	fd = socket(fam, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0) {
		return -errno;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on))) {
		goto err;
	}
	/* best effort: a large queue so a slow analysis pass never drops what the sender sent */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	if (iface) {
		idx = iface_index(iface);
		if (idx < 0) {
			close(fd);
			return idx;
		}
	}
	if (bind(fd, (const struct sockaddr *)&local->ss, local->len)) {
		goto err;
	}
	if (g && source) {
		struct group_source_req gs = { .gsr_interface = (uint32_t)idx };

		if (g->ss.ss_family != fam || source->ss.ss_family != fam) {
			close(fd);
			return -EAFNOSUPPORT;
		}
		memcpy(&gs.gsr_group, &g->ss, g->len);
		memcpy(&gs.gsr_source, &source->ss, source->len);
		if (setsockopt(fd, fam == AF_INET ? IPPROTO_IP : IPPROTO_IPV6, MCAST_JOIN_SOURCE_GROUP,
			       &gs, sizeof(gs))) {
			goto err;
		}
	} else if (g) {
		if (g->ss.ss_family != fam) {
			close(fd);
			return -EAFNOSUPPORT;
		}
		if (fam == AF_INET) {
			struct ip_mreqn m = {
				.imr_multiaddr = ((const struct sockaddr_in *)&g->ss)->sin_addr,
				.imr_ifindex = idx,
			};

			if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(m))) {
				goto err;
			}
		} else {
			struct ipv6_mreq m = {
				.ipv6mr_multiaddr = ((const struct sockaddr_in6 *)&g->ss)->sin6_addr,
				.ipv6mr_interface = (unsigned)idx,
			};

			if (setsockopt(fd, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, &m, sizeof(m))) {
				goto err;
			}
		}
	}
	return fd;
err:
	err = -errno;
	close(fd);
	return err;
}

int64_t net_rx_stamp(struct msghdr *msg)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			return ts_to_ns(&ts);
		}
	}
	return clock_ns(CLOCK_REALTIME);
}

uint16_t net_port(const struct net_addr *a)
{
	return ntohs(a->ss.ss_family == AF_INET ? ((const struct sockaddr_in *)&a->ss)->sin_port
						: ((const struct sockaddr_in6 *)&a->ss)->sin6_port);
}

void net_set_port(struct net_addr *a, int port)
{
	if (a->ss.ss_family == AF_INET) {
		((struct sockaddr_in *)&a->ss)->sin_port = htons((uint16_t)port);
	} else {
		((struct sockaddr_in6 *)&a->ss)->sin6_port = htons((uint16_t)port);
	}
}

int net_udp_ephemeral(const struct net_addr *local, uint16_t *port)
{
	struct net_addr a = *local;
	int fd = socket(a.ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	net_set_port(&a, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a.ss, a.len) ||
	    getsockname(fd, (struct sockaddr *)&a.ss, &a.len)) {
		int e = -errno;

		if (fd >= 0) {
			close(fd);
		}
		return e;
	}
	*port = net_port(&a);
	return fd;
}

int net_tcp_connect(const struct net_addr *dst, int timeout_ms, void (*setup)(int fd, void *arg),
		    void *arg, int nonblock)
{
	int fd = socket(dst->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), e = 0;
	struct pollfd p = { fd, POLLOUT, 0 };
	socklen_t el = sizeof(e);

	if (fd < 0) {
		return -errno;
	}
	if (setup) {
		setup(fd, arg);
	}
	if (connect(fd, (const struct sockaddr *)&dst->ss, dst->len)) {
		if (errno != EINPROGRESS) {
			e = errno;
		} else if (poll(&p, 1, timeout_ms) != 1) {
			e = ETIMEDOUT;
		} else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el)) {
			e = errno;
		}
	}
	if (e) {
		close(fd);
		return -e;
	}
	if (!nonblock) {
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	}
	return fd;
}
