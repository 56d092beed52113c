/* SPDX-License-Identifier: GPL-2.0-only */
/* One log module: levels, printf-checked, each line handed to the program's sink. */
#ifndef TXPACE_LOG_H
#define TXPACE_LOG_H

enum log_level { LOG_ERR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern int log_level;	/* the only global besides the stop flag */

#include <bpf/libbpf.h>
#include <stdarg.h>

/** libbpf's print callback (libbpf_set_print): its messages through this module, with -v. */
int log_libbpf(enum libbpf_print_level lvl, const char *fmt, va_list ap);
/** Where the lines go: the CLI sets a sink that writes them to stderr; none drops them. */
typedef void (*log_sink_fn)(void *arg, enum log_level lvl, const char *line);
void log_set_sink(log_sink_fn fn, void *arg);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pr_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define pr_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
