// SPDX-License-Identifier: GPL-2.0-only
/* Log module: one line per message on stderr, "txpace: " prefix on errors and warnings. */
#include <stdarg.h>
#include <stdio.h>

#include "txpace/log.h"

int log_level = LOG_INFO;

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
