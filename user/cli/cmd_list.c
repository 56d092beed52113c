// SPDX-License-Identifier: GPL-2.0-only
/* txpace list: the AirPlay 1 and 2 receivers that mDNS shows, as text or JSON. */
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

static void print_json(struct json *j, const struct airplay_rx *r)
{
	char a[96], a2[96], feat[160], hex[24];

	net_fmt(r->has_raop ? &r->raop_addr : &r->ap2_addr, a, sizeof(a));
	net_fmt(&r->ap2_addr, a2, sizeof(a2));
	airplay_features_str(r->features, feat, sizeof(feat));
	snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)r->features);
	json_obj(j, NULL);
	json_str(j, "name", r->name);
	json_str(j, "service", r->raop_service);
	json_str(j, "host", r->host);
	json_str(j, "address", a);
	json_bool(j, "airplay1", r->has_raop);
	json_bool(j, "airplay2", r->has_ap2);
	json_str(j, "airplay2_address", r->has_ap2 ? a2 : NULL);
	json_str(j, "profile", airplay_rx_profile(r));
	json_str(j, "features", r->features_known ? hex : NULL);
	json_str(j, "features_decoded", feat);
	json_bool(j, "ptp", !!(r->features & AP_FEAT_PTP));
	json_bool(j, "transient_pairing", !!(r->features & AP_FEAT_TRANSIENT_PAIRING));
	json_bool(j, "homekit_pairing", !!(r->features & AP_FEAT_HK_PAIRING));
	json_bool(j, "buffered_audio", !!(r->features & AP_FEAT_BUFFERED_AUDIO));
	json_bool(j, "pin_required", !!(r->flags & AP_FLAG_PIN_REQUIRED));
	json_str(j, "deviceid", r->deviceid);
	json_str(j, "pk", r->pk);
	json_str(j, "model", r->model);
	json_str(j, "et", r->et);
	json_str(j, "cn", r->cn);
	json_str(j, "md", r->md);
	json_end(j, '}');
}

static void print_one(void *ctx, const struct airplay_rx *r)
{
	struct listing *l = ctx;
	char a[96], feat[160];

	if (l->json) {
		print_json(l->j, r);
		fflush(stdout);
		return;
	}
	net_fmt(r->has_raop ? &r->raop_addr : &r->ap2_addr, a, sizeof(a));
	airplay_features_str(r->features, feat, sizeof(feat));
	printf("%-24s %-22s AirPlay %s%s%s  --to uses %s  (%s)\n", r->name, a,
	       r->has_raop ? "1" : "", r->has_raop && r->has_ap2 ? "+" : "", r->has_ap2 ? "2" : "",
	       airplay_rx_profile(r), r->host);
	printf("    features %s  deviceid %s%s%s\n", feat[0] ? feat : "-",
	       r->deviceid[0] ? r->deviceid : "-", r->pk[0] ? "  pk " : "", r->pk);
	if (r->has_raop) {
		printf("    raop et=%s cn=%s md=%s\n", r->et, r->cn, r->md);
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
