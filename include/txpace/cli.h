/* SPDX-License-Identifier: GPL-2.0-only */
/* Command-line helpers: one option table drives getopt, --help and value checking. */
#ifndef TXPACE_CLI_H
#define TXPACE_CLI_H

#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>

struct cli_opt {
	const char *name;
	int has_arg;		/* no_argument / required_argument */
	int key;		/* returned by cli_next() */
	const char *arg;	/* argument name for --help, or NULL */
	const char *help;	/* one line, with the default and range */
};

struct cli {
	const char *cmd, *synopsis;
	const struct cli_opt *opts;
	struct option lopts[64];
	char shorts[128];
};

/* Exit codes of every subcommand. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* Set by SIGINT/SIGTERM/SIGHUP; the only global state besides the log level. */
extern volatile sig_atomic_t cli_stop;
/** Install the stop handler for SIGINT, SIGTERM and SIGHUP (no SA_RESTART). */
void cli_signals(void);
/** Block the stop signals in the calling thread (call before creating worker threads). */
void cli_block_signals(int block);

void cli_init(struct cli *c, const char *cmd, const char *synopsis, const struct cli_opt *opts);
/** @return the next option key, -1 at the end, '?' on an unknown option (already reported) */
int cli_next(struct cli *c, int argc, char **argv);
void cli_help(const struct cli *c, FILE *f);
/* Value parsers: on error they print "txpace CMD: --OPT: reason" and return -EINVAL. */
int cli_long(const struct cli *c, const char *opt, const char *s, long min, long max, long *out);
/** As cli_long for 64-bit ranges (long is 32 bits on armhf: 0xffffffffL there is -1) */
int cli_i64(const struct cli *c, const char *opt, const char *s, int64_t min, int64_t max,
	    int64_t *out);
/** Durations: a number with ns, us, ms or s (a bare number is @bare_unit_ns). */
int cli_duration(const struct cli *c, const char *opt, const char *s, int64_t bare_unit_ns,
		 int64_t min, int64_t max, int64_t *out);
/** Print a usage error for @c ("txpace CMD: msg; see txpace CMD --help"). */
void cli_usage_error(const struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
