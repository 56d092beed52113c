// SPDX-License-Identifier: GPL-2.0-only
/* Log module: one line per message on stderr, "txpace: " prefix on errors and warnings. */
#include <stdarg.h>
#include <stdio.h>

#include <bpf/libbpf.h>

#include "txpace/log.h"

int log_level = LOG_INFO;

/*
 * libbpf's messages, shown with -v: its warnings name kernel features txpace probes for and
 * can do without, so they are not shown otherwise; its debug chatter (every relocation) never.
 */
int log_libbpf(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	if (log_level < LOG_DEBUG || lvl == LIBBPF_DEBUG) {
		return 0;
	}
	fputs("libbpf: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	if ((int)lvl > log_level) {
		return;
	}
	if (lvl == LOG_ERR) {
		fputs("txpace: error: ", stderr);
	} else if (lvl == LOG_WARN) {
		fputs("txpace: warning: ", stderr);
	}
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
