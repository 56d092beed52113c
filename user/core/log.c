// SPDX-License-Identifier: GPL-2.0-only
/*
 * Log module: levels and one formatted line per message, handed to the sink the program set
 * (log_set_sink). The library itself writes nowhere: without a sink its messages are dropped.
 */
#include <stdarg.h>
#include <stdio.h>

#include <bpf/libbpf.h>

#include "txpace/log.h"

int log_level = LOG_INFO;

static log_sink_fn sink;
static void *sink_arg;

void log_set_sink(log_sink_fn fn, void *arg)
{
	sink = fn;
	sink_arg = arg;
}


/*
 * libbpf's messages, shown with -v: its warnings name kernel features txpace probes for and
 * can do without, so they are not shown otherwise; its debug chatter (every relocation) never.
 * (libbpf's lines end in a newline of their own: the sink gets them without it.)
 */
int log_libbpf(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	static const char pre[] = "libbpf: ";
	char line[1024] = "libbpf: ";
	int n;

	if (!sink || log_level < LOG_DEBUG || lvl == LIBBPF_DEBUG) {
		return 0;
	}
	n = vsnprintf(line + sizeof(pre) - 1, sizeof(line) - sizeof(pre) + 1, fmt, ap);
	if (n > 0 && (size_t)n < sizeof(line) - sizeof(pre) + 1 && line[sizeof(pre) - 2 + n] == '\n') {
		line[sizeof(pre) - 2 + n] = '\0';
	}
	sink(sink_arg, LOG_DEBUG, line);
	return n;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	if ((int)lvl > log_level || !sink) {
		return;
	}
	char line[1024];

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	sink(sink_arg, lvl, line);
}
