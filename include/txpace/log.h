/* SPDX-License-Identifier: GPL-2.0-only */
/* One log module: levels, printf-checked, to stderr. */
#ifndef TXPACE_LOG_H
#define TXPACE_LOG_H

enum log_level { LOG_ERR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern int log_level;	/* the only global besides the stop flag */

#include <bpf/libbpf.h>
#include <stdarg.h>

/** libbpf's print callback (libbpf_set_print): its messages through this module, with -v. */
int log_libbpf(enum libbpf_print_level lvl, const char *fmt, va_list ap);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pr_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define pr_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
