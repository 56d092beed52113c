// SPDX-License-Identifier: GPL-2.0-only
/*
 * The baselines for bench/pacing.sh, deliberately simple and independent of txpace's code:
 * 1 ms L24 stereo 48 kHz RTP packets, paced by an absolute clock_nanosleep grid (optionally
 * SCHED_FIFO + mlockall: the best a simple loop can do) or by usleep(1000) after each packet
 * (what typical senders do).
 *
 * usage: plain_sender abs|rel DEST_IPV4 PORT PACKETS [FIFO_PRIO]
 */
#include <arpa/inet.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in dst = { .sin_family = AF_INET };
	uint8_t pkt[12 + 48 * 2 * 3] = { 0x80, 96 };
	struct timespec next;
	long n, prio;
	int fd, abs_mode;

	if (argc < 5 || (strcmp(argv[1], "abs") && strcmp(argv[1], "rel"))) {
		fprintf(stderr, "usage: plain_sender abs|rel DEST_IPV4 PORT PACKETS [FIFO_PRIO]\n");
		return 2;
	}
	abs_mode = !strcmp(argv[1], "abs");
	inet_pton(AF_INET, argv[2], &dst.sin_addr);
	dst.sin_port = htons((uint16_t)atoi(argv[3]));
	n = atol(argv[4]);
	prio = argc > 5 ? atol(argv[5]) : 0;
	if (prio > 0) {
		struct sched_param sp = { .sched_priority = (int)prio };

		if (mlockall(MCL_CURRENT | MCL_FUTURE) || sched_setscheduler(0, SCHED_FIFO, &sp)) {
			perror("plain_sender: realtime");
			return 1;
		}
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&dst, sizeof(dst))) {
		perror("plain_sender: socket");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &next);
	next.tv_nsec += 10 * 1000 * 1000;
	for (long k = 0; k < n; k++) {
		uint32_t ts = (uint32_t)k * 48;

		if (next.tv_nsec >= 1000000000) {
			next.tv_nsec -= 1000000000;
			next.tv_sec++;
		}
		if (abs_mode || k == 0) {
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		} else {
			usleep(1000);
		}
		pkt[2] = (uint8_t)(k >> 8);
		pkt[3] = (uint8_t)k;
		pkt[4] = (uint8_t)(ts >> 24);
		pkt[5] = (uint8_t)(ts >> 16);
		pkt[6] = (uint8_t)(ts >> 8);
		pkt[7] = (uint8_t)ts;
		pkt[11] = 1;
		if (send(fd, pkt, sizeof(pkt), 0) != sizeof(pkt)) {
			perror("plain_sender: send");
		}
		next.tv_nsec += 1000000;
	}
	return 0;
}
