// SPDX-License-Identifier: GPL-2.0-only
/* CLI module: option tables, --help text, range-checked values, the stop signal. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#include "cli.h"
#include "txpace/caps.h"
#include "txpace/log.h"
#include "txpace/clock.h"

volatile sig_atomic_t cli_stop;

void cli_log_stderr(void *arg, enum log_level lvl, const char *line)
{
	FILE *f = arg ? arg : stderr;

	fprintf(f, "%s%s\n", lvl == LOG_ERR ? "txpace: error: " : lvl == LOG_WARN ?
		"txpace: warning: " : "", line);
}

static void on_stop(int sig)
{
	cli_stop = sig;
}

void cli_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void cli_block_signals(int block)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

void cli_init(struct cli *c, const char *cmd, const char *synopsis, const struct cli_opt *opts)
{
	size_t n = 0, s = 0;

	memset(c, 0, sizeof(*c));
	c->cmd = cmd;
	c->synopsis = synopsis;
	c->opts = opts;
	c->shorts[s++] = ':';
	for (; opts[n].name && n < 63; n++) {
		c->lopts[n] = (struct option){ opts[n].name, opts[n].has_arg, NULL, opts[n].key };
		if (opts[n].key < 128 && s < sizeof(c->shorts) - 3) {
			c->shorts[s++] = (char)opts[n].key;
			if (opts[n].has_arg) {
				c->shorts[s++] = ':';
			}
		}
	}
	optind = 1;
}

void cli_usage_error(const struct cli *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "txpace %s: ", c->cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'txpace %s --help')\n", c->cmd);
}

int cli_next(struct cli *c, int argc, char **argv)
{
	int k = getopt_long(argc, argv, c->shorts, c->lopts, NULL);

	if (k == '?') {
		cli_usage_error(c, "unknown option '%s'", argv[optind - 1]);
	} else if (k == ':') {
		cli_usage_error(c, "option '%s' needs a value", argv[optind - 1]);
		k = '?';
	}
	return k;
}

void cli_help(const struct cli *c, FILE *f)
{
	fprintf(f, "usage: txpace %s %s\n\noptions:\n", c->cmd, c->synopsis);
	for (const struct cli_opt *o = c->opts; o->name; o++) {
		char left[64];

		if (o->key < 128) {
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->key, o->name, o->arg ? " " : "",
				 o->arg ? o->arg : "");
		} else {
			snprintf(left, sizeof(left), "    --%s%s%s", o->name, o->arg ? " " : "",
				 o->arg ? o->arg : "");
		}
		fprintf(f, "  %-28s %s\n", left, o->help);
	}
}

int cli_long(const struct cli *c, const char *opt, const char *s, long min, long max, long *out)
{
	char *e;
	long v;

	errno = 0;
	v = strtol(s, &e, 0);
	if (!*s || *e || errno || v < min || v > max) {
		cli_usage_error(c, "--%s: '%s' is not a number in %ld..%ld", opt, s, min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int cli_i64(const struct cli *c, const char *opt, const char *s, int64_t min, int64_t max,
	    int64_t *out)
{
	char *e;
	long long v;

	errno = 0;
	v = strtoll(s, &e, 0);
	if (!*s || *e || errno || v < min || v > max) {
		cli_usage_error(c, "--%s: '%s' is not a number in %" PRId64 "..%" PRId64, opt, s, min,
				max);
		return -EINVAL;
	}
	*out = (int64_t)v;
	return 0;
}

int cli_duration(const struct cli *c, const char *opt, const char *s, int64_t bare_unit_ns,
		 int64_t min, int64_t max, int64_t *out)
{
	char *e;
	double v, unit;

	errno = 0;
	v = strtod(s, &e);
	if (!*s || errno || !(v >= 0)) {
		goto bad;
	}
	if (!*e) {
		unit = (double)bare_unit_ns;
	} else if (!strcmp(e, "ns")) {
		unit = 1;
	} else if (!strcmp(e, "us") || !strcmp(e, "\xc2\xb5s")) {
		unit = NSEC_PER_USEC;
	} else if (!strcmp(e, "ms")) {
		unit = NSEC_PER_MSEC;
	} else if (!strcmp(e, "s")) {
		unit = NSEC_PER_SEC;
	} else {
		goto bad;
	}
	v *= unit;
	if (v < (double)min || v > (double)max) {
		goto bad;
	}
	*out = (int64_t)(v + 0.5);
	return 0;
bad:
	cli_usage_error(c, "--%s: '%s' is not a duration in %gus..%gus (e.g. 1ms, 125us)", opt, s,
			(double)min / 1000, (double)max / 1000);
	return -EINVAL;
}

static const struct cli_opt *row(const struct cli *c, int key)
{
	for (const struct cli_opt *o = c->opts; o->name; o++) {
		if (o->key == key) {
			return o;
		}
	}
	return NULL;
}

static int apply(struct cli *c, const struct cli_opt *o, const char *arg, void *dst,
		 int (*call)(struct cli *c, int key, const char *arg, void *dst))
{
	char *at = (char *)dst + o->off;
	long l;

	switch (o->kind) {
	case CLI_HELP:
		cli_help(c, stdout);
		return 1;
	case CLI_SET:
		*(int *)at = 1;
		return 0;
	case CLI_STR:
		*(const char **)at = arg;
		return 0;
	case CLI_LONG:
		if (cli_long(c, o->name, arg, (long)o->min, (long)o->max, &l)) {
			return -EINVAL;
		}
		*(long *)at = l;
		return 0;
	case CLI_I64:
		return cli_i64(c, o->name, arg, o->min, o->max, (int64_t *)at);
	case CLI_DUR:
		return cli_duration(c, o->name, arg, o->unit, o->min, o->max, (int64_t *)at);
	case CLI_CALL:
		break;
	}
	return call ? call(c, o->key, arg, dst) : -EINVAL;
}

int cli_parse(struct cli *c, int argc, char **argv, void *dst,
	      int (*call)(struct cli *c, int key, const char *arg, void *dst))
{
	int k, rc;

	while ((k = cli_next(c, argc, argv)) != -1) {
		const struct cli_opt *o = k == '?' ? NULL : row(c, k);

		if (!o) {
			return -EINVAL;
		}
		rc = apply(c, o, optarg, dst, call);
		if (rc) {
			return rc;
		}
	}
	return 0;
}

int cli_caps(struct caps_req *r)
{
	struct caps_plan p;
	char err[400];

	caps_req_facts(r);
	caps_plan(r, &p);
	if (caps_check(&p, err, sizeof(err)) || caps_begin(&p, err, sizeof(err))) {
		pr_err("%s", err);
		return EXIT_FAIL;
	}
	if (r->cmd == CAPS_RELAY) {
		caps_setup_done(&p);	/* (its threads set their priority as the input starts) */
	}
	return 0;
}
