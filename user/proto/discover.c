// SPDX-License-Identifier: GPL-2.0-only
/* Discover module: the only file that includes avahi-client (browsing _raop._tcp and _airplay._tcp). */
#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/simple-watch.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "txpace/clock.h"
#include "txpace/discover.h"

#define DISCOVER_MAX 64

struct browse {
	AvahiClient *client;
	struct airplay_rx rx[DISCOVER_MAX];
	size_t n;
	int pending, all_for_now, failed;
};

static void txt_value(AvahiStringList *txt, const char *key, char *out, size_t cap)
{
	AvahiStringList *e = avahi_string_list_find(txt, key);
	char *k = NULL, *v = NULL;

	out[0] = '\0';
	if (e && avahi_string_list_get_pair(e, &k, &v, NULL) == 0) {
		snprintf(out, cap, "%s", v ? v : "");
	}
	avahi_free(k);
	avahi_free(v);
}

/* The TXT fields of either service type into @s. */
static void read_txt(AvahiStringList *txt, int ap2, struct airplay_rx *s)
{
	char v[64];

	if (ap2) {
		txt_value(txt, "deviceid", s->deviceid, sizeof(s->deviceid));
		txt_value(txt, "model", s->model, sizeof(s->model));
	} else {
		txt_value(txt, "et", s->et, sizeof(s->et));
		txt_value(txt, "cn", s->cn, sizeof(s->cn));
		txt_value(txt, "md", s->md, sizeof(s->md));
		txt_value(txt, "am", s->model, sizeof(s->model));
	}
	txt_value(txt, ap2 ? "features" : "ft", v, sizeof(v));
	s->features_known = v[0] && airplay_parse_features(v, &s->features) == 0;
	txt_value(txt, ap2 ? "flags" : "sf", v, sizeof(v));
	s->flags = (uint32_t)strtoul(v, NULL, 0);
	txt_value(txt, "pk", s->pk, sizeof(s->pk));
}

static void on_resolve(AvahiServiceResolver *r, AvahiIfIndex iface, AvahiProtocol proto,
		       AvahiResolverEvent ev, const char *name, const char *type, const char *domain,
		       const char *host, const AvahiAddress *a, uint16_t port, AvahiStringList *txt,
		       AvahiLookupResultFlags flags, void *data)
{
	struct browse *b = data;
	int ap2 = strcmp(type, "_airplay._tcp") == 0;
	struct airplay_rx s = { .has_raop = !ap2, .has_ap2 = ap2 };
	char addr[AVAHI_ADDRESS_STR_MAX], spec[AVAHI_ADDRESS_STR_MAX + 32];
	struct net_addr na;

	b->pending--;
	if (ev != AVAHI_RESOLVER_FOUND) {
		goto out;
	}
	avahi_address_snprint(addr, sizeof(addr), a);
	snprintf(spec, sizeof(spec), a->proto == AVAHI_PROTO_INET6 ? "[%s]:%u" : "%s:%u", addr, port);
	if (net_parse(spec, 0, &na) != 0) {
		goto out;
	}
	if (na.ss.ss_family == AF_INET6) {
		((struct sockaddr_in6 *)&na.ss)->sin6_scope_id = (uint32_t)iface;
	}
	snprintf(s.host, sizeof(s.host), "%s", host);
	if (ap2) {
		snprintf(s.name, sizeof(s.name), "%s", name);
		s.ap2_addr = na;
	} else {
		const char *at = strchr(name, '@');

		snprintf(s.raop_service, sizeof(s.raop_service), "%s", name);
		snprintf(s.name, sizeof(s.name), "%s", at ? at + 1 : name);
		if (at && at - name < (int)sizeof(s.deviceid)) {
			snprintf(s.deviceid, sizeof(s.deviceid), "%.*s", (int)(at - name), name);
		}
		s.raop_addr = na;
	}
	read_txt(txt, ap2, &s);
	airplay_rx_merge(b->rx, &b->n, DISCOVER_MAX, &s);
out:
	avahi_service_resolver_free(r);
}

static void on_browse(AvahiServiceBrowser *sb, AvahiIfIndex iface, AvahiProtocol proto,
		      AvahiBrowserEvent ev, const char *name, const char *type, const char *domain,
		      AvahiLookupResultFlags flags, void *data)
{
	struct browse *b = data;

	switch (ev) {
	case AVAHI_BROWSER_NEW:
		if (avahi_service_resolver_new(b->client, iface, proto, name, type, domain,
					       AVAHI_PROTO_UNSPEC, 0, on_resolve, b)) {
			b->pending++;
		}
		break;
	case AVAHI_BROWSER_ALL_FOR_NOW:
		b->all_for_now++;
		break;
	case AVAHI_BROWSER_FAILURE:
		b->failed = 1;
		break;
	default:
		break;
	}
}

static void on_client(AvahiClient *c, AvahiClientState state, void *data)
{
}

int discover_browse(int timeout_ms, void (*cb)(void *ctx, const struct airplay_rx *r), void *ctx,
		    const txp_stop_flag *stop, char *err, size_t errlen)
{
	static const char *const types[] = { "_raop._tcp", "_airplay._tcp" };
	struct browse *b = calloc(1, sizeof(*b));
	AvahiSimplePoll *sp = avahi_simple_poll_new();
	AvahiServiceBrowser *sb[2] = { NULL, NULL };
	int64_t end = mono_ns() + (int64_t)timeout_ms * NSEC_PER_MSEC;
	int aerr = 0, rc = 0;

	if (!sp || !b) {
		snprintf(err, errlen, "mDNS: out of memory");
		rc = -ENOMEM;
		goto out;
	}
	b->client = avahi_client_new(avahi_simple_poll_get(sp), 0, on_client, b, &aerr);
	if (!b->client) {
		snprintf(err, errlen, "mDNS: cannot reach avahi-daemon (%s): is it running?",
			 avahi_strerror(aerr));
		rc = -EHOSTDOWN;
		goto out;
	}
	for (int i = 0; i < 2; i++) {
		sb[i] = avahi_service_browser_new(b->client, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC,
						  types[i], NULL, 0, on_browse, b);
		if (!sb[i]) {
			snprintf(err, errlen, "mDNS: cannot browse %s: %s", types[i],
				 avahi_strerror(avahi_client_errno(b->client)));
			rc = -EIO;
			goto out;
		}
	}
	while (!b->failed && !txp_stopped(stop)) {
		int64_t left = (end - mono_ns()) / NSEC_PER_MSEC;

		/* both browsers said "all for now" and every resolver answered */
		if (left <= 0 || (b->all_for_now >= 2 && b->pending == 0 && b->n > 0)) {
			break;
		}
		if (avahi_simple_poll_iterate(sp, (int)(left < 100 ? left : 100)) != 0) {
			break;
		}
	}
	for (size_t i = 0; i < b->n; i++) {
		cb(ctx, &b->rx[i]);
	}
	rc = (int)b->n;
out:
	for (int i = 0; i < 2; i++) {
		if (sb[i]) {
			avahi_service_browser_free(sb[i]);
		}
	}
	if (b && b->client) {
		avahi_client_free(b->client);
	}
	if (sp) {
		avahi_simple_poll_free(sp);
	}
	free(b);
	return rc;
}

struct want {
	const char *name;
	struct airplay_rx rx;
	int found;
};

static void match(void *ctx, const struct airplay_rx *r)
{
	struct want *w = ctx;

	if (!w->found && (!strcasecmp(w->name, r->name) || !strcasecmp(w->name, r->raop_service) ||
			  (r->deviceid[0] && !strcasecmp(w->name, r->deviceid)))) {
		w->rx = *r;
		w->found = 1;
	}
}

int discover_find(const char *name, int timeout_ms, const txp_stop_flag *stop,
		  struct airplay_rx *out, char *err, size_t errlen)
{
	struct want w = { .name = name };
	int rc = discover_browse(timeout_ms, match, &w, stop, err, errlen);

	if (rc < 0) {
		return rc;
	}
	if (!w.found) {
		snprintf(err, errlen, "no AirPlay receiver called '%s' found in %d ms (see txpace list)",
			 name, timeout_ms);
		return -ENOENT;
	}
	*out = w.rx;
	return 0;
}

int discover_raop(const char *name, int timeout_ms, const txp_stop_flag *stop, struct net_addr *out,
		  char *err, size_t errlen)
{
	struct airplay_rx r;
	int rc = discover_find(name, timeout_ms, stop, &r, err, errlen);

	if (rc) {
		return rc;
	}
	if (!r.has_raop) {
		snprintf(err, errlen, "'%s' offers AirPlay 2 only (no _raop._tcp service): use "
			 "--profile airplay2", name);
		return -ENOENT;
	}
	*out = r.raop_addr;
	return 0;
}
