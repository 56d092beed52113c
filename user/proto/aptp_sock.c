// SPDX-License-Identifier: GPL-2.0-only
/*
 * aptp's sockets: UDP 319/320 on the sender's address (privileged ports: root or
 * CAP_NET_BIND_SERVICE), and who holds them when they are taken (ptp4l, nqptp, OwnTone on the
 * same host); the interface MAC the clock identity comes from.
 */
#include <dirent.h>
#include <errno.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "aptp_priv.h"

/* The inode of a UDP socket bound to local port @port in /proc/net/udp{,6}, or 0. */
static unsigned long port_inode(const char *path, uint16_t port)
{
	char line[512];
	unsigned long ino = 0;
	FILE *f = fopen(path, "re");

	if (!f) {
		return 0;
	}
	while (!ino && fgets(line, sizeof(line), f)) {
		char local[64];
		unsigned lport;
		unsigned long inode;

		/* sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode */
		if (sscanf(line, " %*d: %63[0-9A-Fa-f]:%x %*s %*x %*s %*s %*s %*u %*u %lu", local,
			   &lport, &inode) == 3 && lport == port) {
			ino = inode;
		}
	}
	fclose(f);
	return ino;
}

/* The name and PID of a process with socket inode @ino open, into @out ("" when not found). */
static void inode_owner(unsigned long ino, char *out, size_t cap)
{
	char want[64], path[600], link[64];
	struct dirent *p, *fd;
	DIR *procs = opendir("/proc"), *fds;

	out[0] = '\0';
	snprintf(want, sizeof(want), "socket:[%lu]", ino);
	while (procs && !out[0] && (p = readdir(procs))) {
		if (p->d_name[0] < '1' || p->d_name[0] > '9') {
			continue;
		}
		snprintf(path, sizeof(path), "/proc/%s/fd", p->d_name);
		fds = opendir(path);
		while (fds && !out[0] && (fd = readdir(fds))) {
			ssize_t n;

			snprintf(path, sizeof(path), "/proc/%s/fd/%s", p->d_name, fd->d_name);
			n = readlink(path, link, sizeof(link) - 1);
			if (n > 0 && (link[n] = '\0', !strcmp(link, want))) {
				char comm[64] = "?";
				FILE *f;

				snprintf(path, sizeof(path), "/proc/%s/comm", p->d_name);
				f = fopen(path, "re");
				if (f) {
					if (fgets(comm, sizeof(comm), f)) {
						comm[strcspn(comm, "\n")] = '\0';
					}
					fclose(f);
				}
				snprintf(out, cap, "%.40s (pid %.20s)", comm, p->d_name);
			}
		}
		if (fds) {
			closedir(fds);
		}
	}
	if (procs) {
		closedir(procs);
	}
}

int aptp_sock_bind(const struct net_addr *local, uint16_t port, int share, char *err,
		   size_t errlen)
{
	struct net_addr a = *local;
	int fd, e;

	if (a.ss.ss_family == AF_INET) {
		((struct sockaddr_in *)&a.ss)->sin_port = htons(port);
	} else {
		((struct sockaddr_in6 *)&a.ss)->sin6_port = htons(port);
	}
	fd = socket(a.ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "cannot open a UDP socket for PTP: %s", strerror(e));
		return -e;
	}
	if (!bind(fd, (struct sockaddr *)&a.ss, a.len)) {
		return fd;
	}
	/*
	 * ptp4l holds 319/320 on the wildcard address of its interface with SO_REUSEADDR: our
	 * socket on this one address may then share the port (unicast to it comes to us)
	 */
	if (errno == EADDRINUSE && share &&
	    !setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, sizeof(int)) &&
	    !bind(fd, (struct sockaddr *)&a.ss, a.len)) {
		return fd;
	}
	e = errno;
	close(fd);
	if (e == EACCES || e == EPERM) {
		snprintf(err, errlen, "binding UDP port %u (PTP) needs root or CAP_NET_BIND_SERVICE "
			 "(setcap cap_net_bind_service+ep on txpace)", port);
	} else if (e == EADDRINUSE) {
		unsigned long ino = port_inode("/proc/net/udp", port);
		char who[96] = "";

		ino = ino ? ino : port_inode("/proc/net/udp6", port);
		if (ino) {
			inode_owner(ino, who, sizeof(who));
		}
		snprintf(err, errlen, "UDP port %u (PTP) is taken%s%s: AirPlay 2 timing needs 319 "
			 "and 320 on this host (stop ptp4l, nqptp or another AirPlay sender here)",
			 port, who[0] ? " by " : "", who);
	} else {
		char s[80];

		snprintf(err, errlen, "cannot bind UDP %s port %u (PTP): %s", net_fmt(local, s, sizeof(s)),
			 port, strerror(e));
	}
	return -e;
}

static int same_addr(const struct sockaddr *a, const struct net_addr *b)
{
	if (!a || a->sa_family != b->ss.ss_family) {
		return 0;
	}
	if (a->sa_family == AF_INET) {
		return !memcmp(&((const struct sockaddr_in *)a)->sin_addr,
			       &((const struct sockaddr_in *)&b->ss)->sin_addr, 4);
	}
	return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		       &((const struct sockaddr_in6 *)&b->ss)->sin6_addr, 16);
}

int aptp_sock_mac(const struct net_addr *local, const char *iface, uint8_t mac[6], char *name,
		  size_t namelen)
{
	struct ifreq ifr = { 0 };
	struct ifaddrs *ifs, *i;
	int fd, rc = 0;
	static const uint8_t zero[6];

	name[0] = '\0';
	if (iface) {
		snprintf(name, namelen, "%s", iface);
	} else {
		if (getifaddrs(&ifs)) {
			return -errno;
		}
		for (i = ifs; i && !name[0]; i = i->ifa_next) {
			if (same_addr(i->ifa_addr, local)) {
				snprintf(name, namelen, "%s", i->ifa_name);
			}
		}
		freeifaddrs(ifs);
		if (!name[0]) {
			return -ENOENT;
		}
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -errno;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		rc = errno == ENODEV ? -ENOENT : -errno;
	} else {
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
		rc = memcmp(mac, zero, 6) ? 0 : -ENODATA;
	}
	close(fd);
	return rc;
}
