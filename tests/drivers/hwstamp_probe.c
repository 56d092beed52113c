// SPDX-License-Identifier: GPL-2.0-only
/*
 * Does this interface's driver deliver hardware TX stamps? (Independent of txpace's hwts.c,
 * from the kernel's Documentation/networking/timestamping.rst.) Sends N UDP datagrams to ADDR
 * port 9 (discard) with SOF_TIMESTAMPING_TX_HARDWARE | RAW_HARDWARE (and software, for
 * comparison) and waits up to 1 s after each for its stamps on the error queue. The interface's
 * TX timestamping must be on (hwstamp_ctl -t 1).
 * usage: hwstamp_probe ADDR [N]   prints "hw H sw S of N"
 */
#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long ms_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	unsigned flags = SOF_TIMESTAMPING_TX_HARDWARE | SOF_TIMESTAMPING_RAW_HARDWARE |
			 SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE |
			 SOF_TIMESTAMPING_OPT_TSONLY;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	int n = argc > 2 ? atoi(argv[2]) : 4, hw = 0, sw = 0;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (argc < 2 || inet_pton(AF_INET, argv[1], &to.sin_addr) != 1 || fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof(flags))) {
		fprintf(stderr, "usage: hwstamp_probe IPV4 [N] (or SO_TIMESTAMPING refused)\n");
		return 2;
	}
	for (int i = 0; i < n; i++) {
		char b[44] = { 0 };
		long long until = ms_now() + 1000;
		int got_hw = 0;

		if (sendto(fd, b, sizeof(b), 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
			perror("sendto");
			return 1;
		}
		while (!got_hw && ms_now() < until) {
			struct pollfd p = { fd, 0, 0 };
			char c[512], d[64];
			struct iovec v = { d, sizeof(d) };
			struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1, .msg_control = c,
					    .msg_controllen = sizeof(c) };

			poll(&p, 1, (int)(until - ms_now()));
			if (recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) {
				continue;
			}
			for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
				struct scm_timestamping s;

				if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SO_TIMESTAMPING) {
					continue;
				}
				memcpy(&s, CMSG_DATA(h), sizeof(s));
				if (s.ts[2].tv_sec || s.ts[2].tv_nsec) {
					got_hw = 1;
				} else if (s.ts[0].tv_sec || s.ts[0].tv_nsec) {
					sw++;
				}
			}
		}
		hw += got_hw;
	}
	printf("hw %d sw %d of %d\n", hw, sw, n);
	return 0;
}
