/* SPDX-License-Identifier: GPL-2.0-only */
/* Command-line helpers: one option table drives getopt, --help and value checking. */
#ifndef TXPACE_CLI_H
#define TXPACE_CLI_H

#include <getopt.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "txpace/log.h"

/* What cli_parse() does with an option's value. */
enum cli_kind {
	CLI_CALL = 0,	/* hand the key and value to the subcommand's callback */
	CLI_HELP,	/* print --help to stdout; cli_parse() returns 1 */
	CLI_SET,	/* int at @off = 1 */
	CLI_STR,	/* const char * at @off = the value */
	CLI_LONG,	/* long at @off, a number in min..max */
	CLI_I64,	/* int64_t at @off, a number in min..max */
	CLI_DUR,	/* int64_t ns at @off, a duration in min..max ns (a bare number is @unit ns) */
};

struct cli_opt {
	const char *name;
	int has_arg;		/* no_argument / required_argument */
	int key;		/* returned by cli_next() */
	const char *arg;	/* argument name for --help, or NULL */
	const char *help;	/* one line, with the default and range */
	enum cli_kind kind;
	size_t off;		/* CLI_AT(): where the value goes in the subcommand's options */
	int64_t min, max;	/* the range, checked by cli_parse() */
	int64_t unit;		/* CLI_DUR: the unit of a bare number */
	const char *words;	/* the values it takes, space-separated, for completion (or NULL) */
};

/* offsetof(@type, @field), and a compile error unless the field is a @ctype */
#define CLI_AT(type, field, ctype) \
	(offsetof(type, field) + 0 * sizeof(&((type *)0)->field == (ctype *)0))

/* Table rows: name, short key (or a value >= 128), argument name, help line. */
#define CLI_OPT_HELP { "help", no_argument, 'h', NULL, "this help", CLI_HELP }
#define CLI_OPT_SET(n, k, help, type, field) \
	{ n, no_argument, k, NULL, help, CLI_SET, CLI_AT(type, field, int) }
#define CLI_OPT_STR(n, k, a, help, type, field) \
	{ n, required_argument, k, a, help, CLI_STR, CLI_AT(type, field, const char *) }
#define CLI_OPT_LONG(n, k, a, help, type, field, lo, hi) \
	{ n, required_argument, k, a, help, CLI_LONG, CLI_AT(type, field, long), lo, hi }
#define CLI_OPT_I64(n, k, a, help, type, field, lo, hi) \
	{ n, required_argument, k, a, help, CLI_I64, CLI_AT(type, field, int64_t), lo, hi }
#define CLI_OPT_DUR(n, k, a, help, type, field, lo, hi, bare) \
	{ n, required_argument, k, a, help, CLI_DUR, CLI_AT(type, field, int64_t), lo, hi, bare }
#define CLI_OPT_CALL(n, has, k, a, help) { n, has, k, a, help, CLI_CALL }
/* a CLI_CALL row whose value is one of @words ("rtp aes67 raop"): the completion offers them */
#define CLI_OPT_WORDS(n, k, a, help, w) { n, required_argument, k, a, help, CLI_CALL, .words = w }

struct cli {
	const char *cmd, *synopsis;
	const struct cli_opt *opts;
	struct option lopts[64];
	char shorts[128];
};

/*
 * The registry: one row per subcommand (the table in main.c). Dispatch, `txpace --help`, the
 * man page (`txpace --man`) and the bash completion (`txpace --bash-completion`) walk it, so
 * none of them can drift from the option tables that parse the command line.
 */
struct cli_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *what;		/* one line for `txpace --help` */
	const char *synopsis;		/* what follows "txpace NAME" in its --help */
	const struct cli_opt *opts;	/* the table its parser and --help use */
};

/** The man page txpace(8), as roff, for the commands @cmds; @version for its footer. */
void cli_man(FILE *f, const struct cli_cmd *cmds, size_t n, const char *version);
/** A bash completion script for the commands @cmds. */
void cli_completion(FILE *f, const struct cli_cmd *cmds, size_t n);

/* Exit codes of every subcommand. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* Set by SIGINT/SIGTERM/SIGHUP; the only global state besides the log level. */
extern volatile sig_atomic_t cli_stop;
/** Install the stop handler for SIGINT, SIGTERM and SIGHUP (no SA_RESTART). */
void cli_signals(void);
/** Block the stop signals in the calling thread (call before creating worker threads). */
void cli_block_signals(int block);

/** The log sink of the tool: "txpace: error: ..." lines on stderr (or the FILE in @arg). */
void cli_log_stderr(void *arg, enum log_level lvl, const char *line);

void cli_init(struct cli *c, const char *cmd, const char *synopsis, const struct cli_opt *opts);
/** @return the next option key, -1 at the end, '?' on an unknown option (already reported) */
int cli_next(struct cli *c, int argc, char **argv);
void cli_help(const struct cli *c, FILE *f);
/**
 * Parse every option of argv by @c's table into @dst (CLI_CALL rows through @call, which
 * reports its own errors and returns 0 or -EINVAL). optind is left at the first operand.
 * @return 0, 1 when --help was printed, or -EINVAL after a usage error was reported
 */
int cli_parse(struct cli *c, int argc, char **argv, void *dst,
	      int (*call)(struct cli *c, int key, const char *arg, void *dst));
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

struct caps_req;
/**
 * Least privilege for a command (txpace/caps.h): check that what @r needs is permitted (before
 * anything changes), then limit the process to what it uses. @return 0, or EXIT_FAIL after one
 * line naming the missing capability
 */
int cli_caps(struct caps_req *r);

#endif
