// SPDX-License-Identifier: GPL-2.0-only
/* txpace list: the AirPlay receivers that mDNS shows, as text or JSON. */
#include <errno.h>
#include <stdio.h>

#include "cli.h"
#include "txpace/caps.h"
#include "cmd.h"
#include "txpace/discover.h"
#include "txpace/json.h"

struct list_opts {
	long timeout_ms;
	int json;
};

struct listing {
	int json;
	struct json *j;
};

static void print_one(void *ctx, const struct raop_service *s)
{
	struct listing *l = ctx;
	char a[96];

	net_fmt(&s->addr, a, sizeof(a));
	if (l->json) {
		json_obj(l->j, NULL);
		json_str(l->j, "name", s->name);
		json_str(l->j, "service", s->full);
		json_str(l->j, "host", s->host);
		json_str(l->j, "address", a);
		json_str(l->j, "et", s->et);
		json_str(l->j, "cn", s->cn);
		json_str(l->j, "md", s->md);
		json_end(l->j, '}');
	} else {
		printf("%-24s %-28s et=%s cn=%s md=%s  (%s)\n", s->name, a, s->et, s->cn, s->md, s->host);
	}
	fflush(stdout);
}

const char cmd_list_synopsis[] = "[--timeout MS] [--json]";

const struct cli_opt cmd_list_opts[] = {
	CLI_OPT_LONG("timeout", 't', "MS", "browse this long 100..60000 (default 3000)",
		     struct list_opts, timeout_ms, 100, 60000),
	CLI_OPT_SET("json", 'j', "print a JSON array", struct list_opts, json),
	CLI_OPT_HELP,
	{ 0 },
};

int cmd_list(int argc, char **argv)
{
	struct list_opts o = { .timeout_ms = 3000 };
	struct listing l = { 0 };
	struct json j;
	struct cli c;
	char err[256];
	int rc;

	cli_init(&c, "list", cmd_list_synopsis, cmd_list_opts);
	rc = cli_parse(&c, argc, argv, &o, NULL);
	if (rc) {
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	}
	if (cli_caps(&(struct caps_req){ .cmd = CAPS_LIST })) {
		return EXIT_FAIL;
	}
	cli_signals();
	l.json = o.json;
	if (l.json) {
		json_init(&j, stdout);
		l.j = &j;
		json_arr(&j, NULL);
	}
	rc = discover_browse((int)o.timeout_ms, print_one, &l, &cli_stop, err, sizeof(err));
	if (l.json) {
		json_end(&j, ']');
		json_done(&j);
	}
	if (rc < 0) {
		fprintf(stderr, "txpace: error: %s\n", err);
		return EXIT_FAIL;
	}
	if (rc == 0 && !l.json) {
		printf("no AirPlay receivers found in %ld ms\n", o.timeout_ms);
	}
	return EXIT_OK;
}
