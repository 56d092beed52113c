// SPDX-License-Identifier: GPL-2.0-only
/* AirPlay receivers: features bits, the profile a receiver gets, one record per device. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "txpace/discover.h"

const char *airplay_rx_profile(const struct airplay_rx *r)
{
	return r->has_ap2 && r->features_known && (r->features & AP_FEAT_PTP) ? "airplay2" : "raop";
}

static int parse_u32(const char *s, size_t len, uint64_t *out)
{
	char buf[24], *end;

	if (len == 0 || len >= sizeof(buf)) {
		return -EINVAL;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	unsigned long long v = strtoull(buf, &end, 0);

	if (errno || *end || buf[0] == '-' || v > 0xffffffffULL) {
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int airplay_parse_features(const char *s, uint64_t *out)
{
	const char *comma = strchr(s, ',');
	uint64_t lo, hi = 0;

	if (!comma) {
		char *end;

		errno = 0;
		unsigned long long v = strtoull(s, &end, 0);

		if (errno || *end || !*s || s[0] == '-') {
			return -EINVAL;
		}
		*out = v;
		return 0;
	}
	if (parse_u32(s, (size_t)(comma - s), &lo) || parse_u32(comma + 1, strlen(comma + 1), &hi)) {
		return -EINVAL;
	}
	*out = lo | hi << 32;
	return 0;
}

void airplay_features_str(uint64_t f, char *out, size_t cap)
{
	static const struct {
		uint64_t bit;
		const char *name;
	} names[] = {
		{ AP_FEAT_AUDIO, "Audio" },
		{ AP_FEAT_COREUTILS_PAIRING, "CoreUtilsPairing" },
		{ AP_FEAT_BUFFERED_AUDIO, "BufferedAudio" },
		{ AP_FEAT_PTP, "PTP" },
		{ AP_FEAT_HK_PAIRING, "HomeKitPairing" },
		{ AP_FEAT_TRANSIENT_PAIRING, "TransientPairing" },
	};
	size_t n = 0;

	if (cap) {
		out[0] = '\0';
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(f & names[i].bit) || n >= cap) {
			continue;
		}
		int w = snprintf(out + n, cap - n, "%s%s", n ? "," : "", names[i].name);

		n = w < 0 ? cap : n + (size_t)w;
	}
}

/* The 12 hex digits of a device id ("AA:BB:.." or "AABB..") in upper case; "" if it is none. */
static void id_key(const char *id, char key[13])
{
	size_t n = 0;

	for (; *id && n < 12; id++) {
		if (isxdigit((unsigned char)*id)) {
			key[n++] = (char)toupper((unsigned char)*id);
		} else if (*id != ':' && *id != '-') {
			break;
		}
	}
	key[n == 12 ? 12 : 0] = '\0';
}

static int same_device(const struct airplay_rx *a, const struct airplay_rx *b)
{
	char ka[13], kb[13];

	id_key(a->deviceid, ka);
	id_key(b->deviceid, kb);
	if (ka[0] && kb[0]) {
		return strcmp(ka, kb) == 0;
	}
	return strcasecmp(a->name, b->name) == 0;
}

static void take_addr(struct net_addr *dst, int had, const struct net_addr *src)
{
	if (!had || (dst->ss.ss_family == AF_INET6 && src->ss.ss_family == AF_INET)) {
		*dst = *src;
	}
}

static void merge_into(struct airplay_rx *d, const struct airplay_rx *s)
{
	if (s->has_raop) {
		take_addr(&d->raop_addr, d->has_raop, &s->raop_addr);
		memcpy(d->raop_service, s->raop_service, sizeof(d->raop_service));
		memcpy(d->et, s->et, sizeof(d->et));
		memcpy(d->cn, s->cn, sizeof(d->cn));
		memcpy(d->md, s->md, sizeof(d->md));
		d->has_raop = 1;
	}
	if (s->has_ap2) {
		take_addr(&d->ap2_addr, d->has_ap2, &s->ap2_addr);
		d->has_ap2 = 1;
	}
	/* _airplay's TXT is the authority for features, flags and keys; RAOP's fills gaps */
	if (s->features_known && (s->has_ap2 || !d->features_known)) {
		d->features = s->features;
		d->flags = s->flags;
		d->features_known = 1;
	}
	if (s->pk[0] && (s->has_ap2 || !d->pk[0])) {
		memcpy(d->pk, s->pk, sizeof(d->pk));
	}
	if (s->model[0] && !d->model[0]) {
		memcpy(d->model, s->model, sizeof(d->model));
	}
	if (s->deviceid[0] && (s->has_ap2 || !d->deviceid[0])) {
		memcpy(d->deviceid, s->deviceid, sizeof(d->deviceid));
	}
	if (s->has_ap2 || !d->name[0]) {
		memcpy(d->name, s->name, sizeof(d->name));
		memcpy(d->host, s->host, sizeof(d->host));
	}
}

int airplay_rx_merge(struct airplay_rx *list, size_t *n, size_t cap, const struct airplay_rx *svc)
{
	for (size_t i = 0; i < *n; i++) {
		if (same_device(&list[i], svc)) {
			merge_into(&list[i], svc);
			return (int)i;
		}
	}
	if (*n >= cap) {
		return -1;
	}
	list[*n] = (struct airplay_rx){ 0 };
	merge_into(&list[*n], svc);
	return (int)(*n)++;
}
