/* SPDX-License-Identifier: GPL-2.0-only */
/* Addresses and UDP sockets: parse HOST:PORT, connect a sender, bind/join a receiver. */
#ifndef TXPACE_NET_H
#define TXPACE_NET_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

struct net_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

struct net_tx_opts {
	const char *iface;	/* multicast egress interface, or NULL */
	int ttl;		/* multicast TTL / hop limit; -1 = kernel default */
	int dscp;		/* 0..63 */
	int prio;		/* SO_PRIORITY, -1 = leave */
};

/**
 * Parse "HOST:PORT", "[V6]:PORT", "HOST" (with @default_port; 0 = port required).
 * @return 0 or -EINVAL (bad syntax or port) / -ENOENT (unknown host)
 */
int net_parse(const char *s, uint16_t default_port, struct net_addr *out);
/** Format an address as "host:port" / "[v6]:port" into @buf (at least 64 bytes). */
const char *net_fmt(const struct net_addr *a, char *buf, size_t cap);
int net_is_multicast(const struct net_addr *a);
/**
 * @return 1 when @from (@len bytes, as recvfrom() filled it) is the host @a: the same family and
 *         address (and IPv6 scope, when @a has one); the ports may differ
 */
int net_same_host(const struct net_addr *a, const struct sockaddr *from, socklen_t len);
/** @return a connected UDP socket for @dst (CLOEXEC), or a negative errno */
int net_udp_connect(const struct net_addr *dst, const struct net_tx_opts *o);
/**
 * Receiver: bind UDP @local (wildcard or unicast address; a multicast address binds to the group),
 * joining @group (or @local when it is a multicast address) on @iface if given.
 * @return the socket or a negative errno
 */
int net_udp_listen(const struct net_addr *local, const struct net_addr *group, const char *iface);
/**
 * As net_udp_listen, with a source-specific join (SSM, MCAST_JOIN_SOURCE_GROUP) to @source when
 * the group is multicast: the kernel then delivers only @source's packets. @source NULL: any.
 */
int net_udp_listen_from(const struct net_addr *local, const struct net_addr *group,
			const struct net_addr *source, const char *iface);

/** @return the port of @a (host order) */
uint16_t net_port(const struct net_addr *a);
void net_set_port(struct net_addr *a, int port);
/**
 * A non-blocking UDP socket bound to @local's address on a port the kernel picks (@port gets it):
 * the AirPlay control and timing ports. @return the socket or a negative errno
 */
int net_udp_ephemeral(const struct net_addr *local, uint16_t *port);
/**
 * A TCP connection to @dst within @timeout_ms; @setup (or NULL) is called on the socket before the
 * connect (socket options). The socket is blocking when @nonblock is 0.
 * @return the socket or a negative errno (-ETIMEDOUT)
 */
int net_tcp_connect(const struct net_addr *dst, int timeout_ms, void (*setup)(int fd, void *arg),
		    void *arg, int nonblock);

struct msghdr;
/** @return the SO_TIMESTAMPNS stamp of a received message (CLOCK_REALTIME), or now without one */
int64_t net_rx_stamp(struct msghdr *msg);

#endif
