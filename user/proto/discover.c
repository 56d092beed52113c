// SPDX-License-Identifier: GPL-2.0-only
/* Discover module: the only file that includes avahi-client; `txpace list` lives here too. */
#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/simple-watch.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "txpace/clock.h"
#include "txpace/discover.h"

struct browse {
	AvahiClient *client;
	void (*cb)(void *ctx, const struct raop_service *s);
	void *ctx;
	int pending, all_for_now, found, failed;
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

static void on_resolve(AvahiServiceResolver *r, AvahiIfIndex iface, AvahiProtocol proto,
		       AvahiResolverEvent ev, const char *name, const char *type, const char *domain,
		       const char *host, const AvahiAddress *a, uint16_t port, AvahiStringList *txt,
		       AvahiLookupResultFlags flags, void *data)
{
	struct browse *b = data;

	b->pending--;
	if (ev == AVAHI_RESOLVER_FOUND) {
		struct raop_service s = { 0 };
		char addr[AVAHI_ADDRESS_STR_MAX], spec[AVAHI_ADDRESS_STR_MAX + 32];
		const char *at = strchr(name, '@');

		snprintf(s.full, sizeof(s.full), "%s", name);
		snprintf(s.name, sizeof(s.name), "%s", at ? at + 1 : name);
		snprintf(s.host, sizeof(s.host), "%s", host);
		avahi_address_snprint(addr, sizeof(addr), a);
		snprintf(spec, sizeof(spec), a->proto == AVAHI_PROTO_INET6 ? "[%s]:%u" : "%s:%u", addr,
			 port);
		if (net_parse(spec, 0, &s.addr) == 0) {
			if (s.addr.ss.ss_family == AF_INET6) {
				((struct sockaddr_in6 *)&s.addr.ss)->sin6_scope_id = (uint32_t)iface;
			}
			txt_value(txt, "et", s.et, sizeof(s.et));
			txt_value(txt, "cn", s.cn, sizeof(s.cn));
			txt_value(txt, "md", s.md, sizeof(s.md));
			b->found++;
			b->cb(b->ctx, &s);
		}
	}
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
		b->all_for_now = 1;
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

int discover_browse(int timeout_ms, void (*cb)(void *ctx, const struct raop_service *s), void *ctx,
		    const txp_stop_flag *stop,
		    char *err, size_t errlen)
{
	struct browse b = { .cb = cb, .ctx = ctx };
	AvahiSimplePoll *sp = avahi_simple_poll_new();
	AvahiServiceBrowser *sb = NULL;
	int64_t end = mono_ns() + (int64_t)timeout_ms * NSEC_PER_MSEC;
	int aerr = 0, rc = 0;

	if (!sp) {
		snprintf(err, errlen, "mDNS: out of memory");
		return -ENOMEM;
	}
	b.client = avahi_client_new(avahi_simple_poll_get(sp), 0, on_client, &b, &aerr);
	if (!b.client) {
		snprintf(err, errlen, "mDNS: cannot reach avahi-daemon (%s): is it running?",
			 avahi_strerror(aerr));
		rc = -EHOSTDOWN;
		goto out;
	}
	sb = avahi_service_browser_new(b.client, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, "_raop._tcp",
				       NULL, 0, on_browse, &b);
	if (!sb) {
		snprintf(err, errlen, "mDNS: cannot browse: %s",
			 avahi_strerror(avahi_client_errno(b.client)));
		rc = -EIO;
		goto out;
	}
	while (!b.failed && !txp_stopped(stop)) {
		int64_t left = (end - mono_ns()) / NSEC_PER_MSEC;

		if (left <= 0 || (b.all_for_now && b.pending == 0 && b.found > 0)) {
			break;
		}
		if (avahi_simple_poll_iterate(sp, (int)(left < 100 ? left : 100)) != 0) {
			break;
		}
	}
	rc = b.found;
out:
	if (sb) {
		avahi_service_browser_free(sb);
	}
	if (b.client) {
		avahi_client_free(b.client);
	}
	avahi_simple_poll_free(sp);
	return rc;
}

struct want {
	const char *name;
	struct net_addr addr;
	int found;
};

static void match(void *ctx, const struct raop_service *s)
{
	struct want *w = ctx;

	if (strcasecmp(w->name, s->name) && strcasecmp(w->name, s->full)) {
		return;
	}
	/* prefer IPv4: link-local IPv6 needs the right scope on every hop */
	if (!w->found || (w->addr.ss.ss_family == AF_INET6 && s->addr.ss.ss_family == AF_INET)) {
		w->addr = s->addr;
		w->found = 1;
	}
}

int discover_raop(const char *name, int timeout_ms, const txp_stop_flag *stop, struct net_addr *out,
		  char *err, size_t errlen)
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
	*out = w.addr;
	return 0;
}
