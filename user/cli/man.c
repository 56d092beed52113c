// SPDX-License-Identifier: GPL-2.0-only
/*
 * txpace(8), written from the registry: each command's synopsis and every row of its option
 * table come from the tables its parser and --help use, so the page cannot drift from them.
 * The prose (what each command does, the backends, the files) is here.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "txpace/caps.h"
#include "txpace/kpace.h"

/* What a command does, a paragraph each (plain text: roff_text() escapes it). */
static const struct {
	const char *name;
	const char *const paras[4];
} about[] = {
	{ "send", {
		"Sends an RTP stream (port 5004 by default), paced by a backend (see BACKENDS). "
		"Each packet is built completely ahead of time and stamped with the instant it must "
		"leave; launch times follow the exact sample grid. SOURCE is a file FFmpeg reads "
		"(decoded and resampled to the stream format), - for raw PCM on stdin (with "
		"--input-format), or a built-in signal: tone:HZ, sweep (a log sweep 20 Hz to 20 kHz "
		"every 10 s), ramp (a counter, for bit-exact checks).",
		"--profile aes67 sends AES67: the media clock is PTP, read from ptp4l's management "
		"socket (lock, grandmaster, timescale), the RTP time of a packet is the PTP time of "
		"its launch in samples, and the SDP (--sdp) is announced with SAP. --profile raop "
		"plays to an AirPlay 1 receiver (port 5000 by default): an RTSP session, ALAC "
		"packets at 44.1 kHz, timing replies, sync packets and retransmits from 2 s of "
		"history; on a terminal, space pauses, the arrow keys seek 10 s and q stops.",
		"On a terminal a status line shows the progress, then a summary; --report writes "
		"everything as JSON (packets built and sent, late, send errors, the departure error "
		"from the kernel's transmit stamps as p50/p99/p99.9/max, early, unstamped and "
		"dropped packets, the kernel counters). The exit status is 0 only when every packet "
		"built has left, none early or unpaced. SIGINT stops the source; what was built "
		"still leaves.",
	} },
	{ "list", {
		"Browses _raop._tcp through avahi-daemon and prints each AirPlay receiver's name, "
		"address, port and TXT capabilities (et: encryption types, cn: codecs, md: "
		"metadata).",
	} },
	{ "relay", {
		"Receives an AES67/RTP stream (from an SDP file, a SAP-announced session, or a "
		"group and port) and sends it again on this machine's PTP grid: each output packet "
		"carries one input packet, bit for bit, or silence, and the output consumes exactly "
		"one input packet per packet time, locked to the input's media clock. An input packet "
		"that is missing or late becomes silence; a slot in the past is skipped, never sent "
		"late. Where the SDP has a source-filter, the relay joins source-specific and takes "
		"packets from that sender only.",
	} },
	{ "measure", {
		"The receiver side for any RTP stream. It takes kernel receive stamps, fits a "
		"straight line through (RTP time, arrival), removing offset and clock drift, and "
		"reports |deviation| percentiles, inter-arrival statistics, the largest burst, lost, "
		"reordered and duplicated packets and the RTP timestamp step. It stops at --seconds, "
		"--packets, or SIGINT/SIGTERM (then it reads what is queued and reports). On a veth "
		"pair the receive stamp is taken inside the sender's sendmsg, so it measures the "
		"sender's departure instant.",
	} },
	{ "demo", {
		"Creates two private network namespaces joined by a veth pair, sends 1 ms L24 stereo "
		"RTP from one to the other with txpace (rt), then with a plain relative-sleep loop, "
		"and prints what the receiver measured for both. Nothing is changed on the machine.",
	} },
	{ "probe", {
		"What this machine offers for pacing, each item yes or no with the reason: "
		"high-resolution timers, the tick, kernel BTF, SCHED_FIFO, mlockall, SO_TXTIME, "
		"SO_TIMESTAMPING, bpf_skb_set_tstamp, mmap-able BPF arrays, bpf_timer with "
		"BPF_F_TIMER_ABS, and, on a throwaway veth pair in a throwaway network namespace, "
		"clsact, cls_bpf and the fq and etf qdiscs; then for IFACE (or the default route's "
		"interface) its driver, launch-time hardware, hardware timestamps and Wi-Fi power "
		"save. Last, the backend send --backend auto uses, and why (see BACKENDS).",
		"--calibrate also runs each backend for a few seconds over a veth pair between two "
		"throwaway namespaces, measures the arrivals and names the one with the lowest p99.",
	} },
	{ "cleanup", {
		"Undoes what a txpace that was killed (kill -9, a crash) left on an interface, from "
		"its restore journal in " KPACE_STATE_DIR ": the root qdisc, clsact and its filter, "
		"the pinned maps, Wi-Fi power save. Without IFACE, every interface with a journal. "
		"The interface of a txpace that still runs is left alone.",
	} },
};

/* The backends, in the order auto considers them (probe_decide() in user/kernel/probe.c). */
static const char *const backends[][2] = {
	{ "etf", "SO_TXTIME on CLOCK_TAI and the etf qdisc (root, or mqprio with etf on queue 0) "
		 "with the NIC's launch-time offload: the NIC releases each packet. Without offload, "
		 "software etf (--etf-delta). auto picks it when the interface's driver has launch-time "
		 "hardware and the kernel has etf and SO_TXTIME." },
	{ "edt", "Packets are handed to the kernel --lead ahead; the tc egress BPF program stamps "
		 "each packet's departure time from a schedule ring shared with txpace, and the fq "
		 "qdisc (mq with fq per queue on multi-queue NICs) releases it with its hrtimer. With "
		 "--stamp txtime, SO_TXTIME carries the time instead (no BPF). auto picks it when fq, "
		 "cls_bpf, bpf_skb_set_tstamp and mmap-able BPF arrays are there (edt with --stamp "
		 "txtime when fq and SO_TXTIME are, but cls_bpf is not)." },
	{ "rt", "A SCHED_FIFO thread with its memory locked sleeps to just before each deadline "
		"(absolute clock_nanosleep), spins the last --spin microseconds and sends. auto "
		"picks it when there is no fq qdisc, and always on brcmfmac Wi-Fi (the Raspberry "
		"Pi's): its firmware queues packets after the qdisc and it has no launch time." },
	{ "sleep", "A relative-sleep loop, as typical senders pace: for comparison only; auto "
		   "never picks it." },
};

/* @s as roff text: backslashes escaped, a '-' that starts a word (an option, a minus) as \- */
static void roff_text(FILE *f, const char *s)
{
	int prev = '\n';

	for (; *s; prev = (unsigned char)*s++) {
		if (prev == '\n' && (*s == '.' || *s == '\'')) {
			fputs("\\&", f);
		}
		if (*s == '\\') {
			fputs("\\e", f);
		} else if (*s == '-' && !isalnum(prev)) {
			fputs("\\-", f);
		} else {
			fputc(*s, f);
		}
	}
}

/* a .TP entry per row: "-k, --name ARG" (bold, the argument in italics), then its help line */
static void man_options(FILE *f, const struct cli_opt *opts)
{
	for (const struct cli_opt *o = opts; o->name; o++) {
		fputs(".TP\n", f);
		if (o->key < 128) {
			fprintf(f, "\\fB\\-%c\\fR, ", o->key);
		}
		fputs("\\fB\\-\\-", f);
		roff_text(f, o->name);
		fputs("\\fR", f);
		if (o->arg) {
			fputs(" \\fI", f);
			roff_text(f, o->arg);
			fputs("\\fR", f);
		}
		fputc('\n', f);
		roff_text(f, o->help);
		fputc('\n', f);
	}
}

/* the command's paragraphs from about[] */
static void man_about(FILE *f, const char *name)
{
	for (size_t i = 0; i < sizeof(about) / sizeof(about[0]); i++) {
		if (strcmp(about[i].name, name)) {
			continue;
		}
		for (int p = 0; p < 4 && about[i].paras[p]; p++) {
			fputs(".PP\n", f);
			roff_text(f, about[i].paras[p]);
			fputc('\n', f);
		}
	}
}

/* The operands after a synopsis' blank line: "  NAME      text", continued further indented. */
static void man_operands(FILE *f, const char *rest)
{
	char line[512];
	size_t len;

	for (; *rest; rest += len + (rest[len] == '\n')) {
		const char *s = rest, *e;

		len = strcspn(rest, "\n");
		while (s < rest + len && *s == ' ') {
			s++;
		}
		if (s == rest + len) {
			continue;
		}
		e = s + strcspn(s, " \n");
		if (s - rest <= 2) {	/* a new operand: its name, then its text */
			snprintf(line, sizeof(line), "%.*s", (int)(e - s), s);
			fputs(".TP\n\\fI", f);
			roff_text(f, line);
			fputs("\\fR\n", f);
			s = e + strspn(e, " ");
		} else {		/* more of the same operand, on a line of its own */
			fputs(".br\n", f);
		}
		snprintf(line, sizeof(line), "%.*s", (int)(rest + len - s), s);
		roff_text(f, line);
		fputc('\n', f);
	}
}

/*
 * A command's section: its usage (the synopsis up to its first blank line), what it does, and
 * its operands (what follows that blank line).
 */
static void man_command(FILE *f, const struct cli_cmd *c)
{
	const char *rest = strstr(c->synopsis, "\n\n");
	size_t len = rest ? (size_t)(rest - c->synopsis) : strlen(c->synopsis);
	char line[512];

	fputs(".SS \"txpace ", f);
	roff_text(f, c->name);
	fputc(' ', f);
	snprintf(line, sizeof(line), "%.*s", (int)len, c->synopsis);
	roff_text(f, line);
	fputs("\"\n", f);
	fputc(toupper((unsigned char)c->what[0]), f);	/* (the --help line, as a sentence) */
	roff_text(f, c->what + 1);
	fputs(".\n", f);
	man_about(f, c->name);
	if (rest) {
		man_operands(f, rest + 2);
	}
}

static void man_head(FILE *f, const struct cli_cmd *cmds, size_t n, const char *version)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	char date[32] = "", line[512];
	time_t t;

	/* (reproducible: the date of the source, when the build says it) */
	if (sde && *sde) {
		t = (time_t)strtoll(sde, NULL, 10);
		strftime(date, sizeof(date), "%Y-%m-%d", gmtime(&t));
	}
	fprintf(f, ".\\\" Generated by `txpace --man` from txpace's option tables; do not edit.\n"
		".TH TXPACE 8 \"%s\" \"txpace %s\" \"System Manager's Manual\"\n"
		".nh\n"
		".SH NAME\ntxpace \\- send real-time audio packets on time, and measure them\n"
		".SH SYNOPSIS\n", date, version);
	for (size_t i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "%.*s", (int)strcspn(cmds[i].synopsis, "\n"),
			 cmds[i].synopsis);
		fprintf(f, "%s\\fBtxpace %s\\fR ", i ? ".br\n" : "", cmds[i].name);
		roff_text(f, line);
		fputc('\n', f);
	}
	fputs(".br\n\\fBtxpace\\fR \\fICOMMAND\\fR \\fB\\-\\-help\\fR\n.br\n"
	      "\\fBtxpace \\-\\-version\\fR\n.SH DESCRIPTION\n", f);
	roff_text(f, "txpace sends real-time audio packets on time. Userspace builds each packet "
		  "completely and stamps it with the instant it must leave; a pacing backend makes "
		  "it leave then, to within microseconds, and txpace measures what it achieved. It "
		  "speaks plain RTP (L16/L24, unicast and multicast), AES67 (with a PTP media clock "
		  "from linuxptp, SDP and SAP) and AirPlay 1 (RAOP).\n");
	fputs(".PP\n", f);
	roff_text(f, "Every command has --help with every option, its default and range; this "
		  "page lists the same options, from the same tables.\n");
	fputs(".SH COMMANDS\n", f);
}

/* PRIVILEGES: which capability, for what, for which command; rows from caps_docs. */
static void man_privileges(FILE *f)
{
	fputs(".SH PRIVILEGES\n", f);
	roff_text(f, "txpace runs as root, or as another user with file capabilities: the package "
		  "sets them on /usr/bin/txpace (CAP_NET_ADMIN, CAP_BPF, CAP_PERFMON, CAP_SYS_NICE, "
		  "CAP_IPC_LOCK and CAP_NET_BIND_SERVICE, permitted, not effective: txpace raises what "
		  "it uses) and lets only root and the members of the txpace group run it (0750 "
		  "root:txpace, dpkg-statoverride), since CAP_NET_ADMIN changes any interface. "
		  "Before anything changes, txpace checks that what the command and backend need is "
		  "permitted, and refuses with one line naming the capability and its use. It then "
		  "keeps only what it uses: no new privileges on execve (no_new_privs), the bounding "
		  "set reduced (as root), nothing inheritable or ambient. Once the stream is set up "
		  "(qdiscs, programs, the pacer thread's priority) the rest is dropped, in every "
		  "thread. A user other than root also needs " KPACE_STATE_DIR " writable (the "
		  "package makes it root:txpace 2770); its maps are not pinned where bpffs is root's. "
		  "measure, list and probe need nothing (probe reports what it may not test as not "
		  "permitted).\n");
	for (const struct caps_doc *d = caps_docs; d->text; d++) {
		fprintf(f, ".TP\n\\fB%s\\fR\n", caps_name(d->cap));
		roff_text(f, d->text);
		fputc('\n', f);
	}
	fputs(".PP\nNot used: CAP_NET_RAW (departure and receive stamps are software stamps), "
	      "CAP_DAC_OVERRIDE.\n", f);
}

static void man_tail(FILE *f)
{
	fputs(".SH BACKENDS\n", f);
	roff_text(f, "send --backend auto takes the first of these that the machine offers, and "
		  "says why in one line; txpace probe shows the same choice and its reason.\n");
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		fprintf(f, ".TP\n\\fB%s\\fR\n", backends[i][0]);
		roff_text(f, backends[i][1]);
		fputc('\n', f);
	}
	fputs(".PP\n", f);
	roff_text(f, "Every backend reports each packet's departure error (the kernel's transmit "
		  "stamp minus its launch time). Everything on the send path loads without kernel "
		  "BTF. --watch adds a kernel deadline watchdog (bpf_timer) and the driver hand-off "
		  "times, with any backend.\n");
	man_privileges(f);
	fputs(".SH FILES\n.TP\n", f);
	roff_text(f, KPACE_STATE_DIR "/IF.state, " KPACE_STATE_DIR "/IF.lock\n");
	roff_text(f, "The restore journal of a stream on interface IF (IF@NETNS in another network "
		  "namespace): each change to the interface is written there before it is made, "
		  "and undone from it on exit, on SIGINT, SIGTERM and SIGHUP, and by txpace cleanup "
		  "after a crash. The lock refuses a second txpace on the same interface. It is in "
		  "/run because a reboot undoes what it records.\n");
	fputs(".TP\n", f);
	roff_text(f, KPACE_PIN_DIR "/IF/\n");
	roff_text(f, "The maps of a kernel-paced stream, pinned with BTF while it runs (bpftool map "
		  "dump pinned ...).\n");
	fputs(".TP\n/etc/txpace/\\fINAME\\fR.conf\n", f);
	roff_text(f, "The options of the stream that the systemd unit txpace@NAME.service runs: "
		  "TXPACE_ARGS=\"send ...\", the command line after txpace, in shell quoting.\n");
	fputs(".TP\n/var/lib/txpace\n", f);
	roff_text(f, "Not used: txpace keeps no state that outlives a boot.\n");
	fputs(".SH EXIT STATUS\n.TP\n0\nSuccess (send: every packet built has left, none early "
	      "or unpaced).\n.TP\n1\nFailure, with one line on stderr saying why.\n.TP\n2\n"
	      "Usage error: an unknown option, a value out of range, a missing operand.\n", f);
	fputs(".SH EXAMPLES\n.nf\n", f);
	roff_text(f, "txpace probe\n"
		  "txpace send 192.168.1.20 music.flac\n"
		  "txpace send --profile aes67 --require-lock --iface eth0 239.69.1.10 music.flac\n"
		  "txpace send --profile raop --to \"Living Room\" song.flac\n"
		  "txpace measure --listen 0.0.0.0:5004 --seconds 30\n"
		  "systemctl enable --now txpace@stage   # runs /etc/txpace/stage.conf\n");
	fputs(".fi\n.SH SEE ALSO\n\\fBtc\\-fq\\fR(8), \\fBtc\\-etf\\fR(8), \\fBtc\\-mqprio\\fR(8), "
	      "\\fBptp4l\\fR(8), \\fBbpftool\\fR(8), \\fBsystemd.service\\fR(5)\n", f);
}

void cli_man(FILE *f, const struct cli_cmd *cmds, size_t n, const char *version)
{
	man_head(f, cmds, n, version);
	for (size_t i = 0; i < n; i++) {
		man_command(f, &cmds[i]);
		fputs(".PP\nOptions:\n", f);
		man_options(f, cmds[i].opts);
	}
	man_tail(f);
}
