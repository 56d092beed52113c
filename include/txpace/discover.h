/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * AirPlay receivers on the network, through avahi: `_raop._tcp` (AirPlay 1) and `_airplay._tcp`
 * (AirPlay 2) services, merged into one record per device.
 */
#ifndef TXPACE_DISCOVER_H
#define TXPACE_DISCOVER_H

#include <stddef.h>
#include <stdint.h>

#include "txpace/net.h"
#include "txpace/stop.h"

/* AirPlay `features` bits (the 64-bit TXT value; `ft` in _raop._tcp, `features` in _airplay._tcp) */
#define AP_FEAT_AUDIO		(1ULL << 9)
#define AP_FEAT_COREUTILS_PAIRING (1ULL << 38)
#define AP_FEAT_BUFFERED_AUDIO	(1ULL << 40)
#define AP_FEAT_PTP		(1ULL << 41)
#define AP_FEAT_HK_PAIRING	(1ULL << 46)
#define AP_FEAT_TRANSIENT_PAIRING (1ULL << 48)

/* statusFlags / `flags` / `sf` bits */
#define AP_FLAG_PIN_REQUIRED	(1U << 3)
#define AP_FLAG_PASSWORD	(1U << 7)

struct airplay_rx {
	char name[128];		/* "Living Room" (RAOP's part after '@', or the _airplay name) */
	char host[128];
	char deviceid[24];	/* "AA:BB:CC:DD:EE:FF" (_airplay's deviceid, or RAOP's name prefix) */
	int has_raop, has_ap2;
	struct net_addr raop_addr, ap2_addr;	/* address and port of each service */
	char raop_service[192];	/* RAOP's service name ("AABBCCDDEEFF@Living Room") */
	char et[32], cn[32], md[32];	/* RAOP's encryption types, codecs, metadata types */
	uint64_t features;	/* _airplay's features, else RAOP's ft */
	int features_known;
	uint32_t flags;		/* _airplay's flags, else RAOP's sf */
	char pk[80];		/* the receiver's Ed25519 public key, hex (TXT pk) */
	char model[64];		/* TXT model / am */
};

/** @return "airplay2" when the receiver plays AirPlay 2 realtime audio (PTP), else "raop" */
const char *airplay_rx_profile(const struct airplay_rx *r);
/**
 * Parse a TXT features value: "0x5A7FFFF7,0x1E" (low, high 32 bits) or one number.
 * @return 0, or -EINVAL
 */
int airplay_parse_features(const char *s, uint64_t *out);
/** The names of the bits above that @f has, comma-separated ("PTP,BufferedAudio,..."). */
void airplay_features_str(uint64_t f, char *out, size_t cap);

/**
 * Merge one resolved service @svc (has_raop or has_ap2 set) into @list: into the record of the
 * same device (device id, else name), else as a new one while @n < @cap. IPv4 addresses win
 * over IPv6 ones (link-local IPv6 needs the right scope on every hop). @return its index or -1
 */
int airplay_rx_merge(struct airplay_rx *list, size_t *n, size_t cap, const struct airplay_rx *svc);

/**
 * Browse for @timeout_ms (stopping early once every service found is resolved and the browse
 * has seen all for now), then call @cb once per receiver (RAOP and AirPlay 2 services of one
 * device merged by device id or name). @return receivers, or -errno with @err filled
 */
int discover_browse(int timeout_ms, void (*cb)(void *ctx, const struct airplay_rx *r), void *ctx,
		    const txp_stop_flag *stop, char *err, size_t errlen);
/**
 * Find the receiver called @name (its name, RAOP service name or device id).
 * @return 0 with @out filled, -ENOENT (with the line), or a browse error
 */
int discover_find(const char *name, int timeout_ms, const txp_stop_flag *stop,
		  struct airplay_rx *out, char *err, size_t errlen);
/** The RAOP address of @name (discover_find for AirPlay 1). @return as discover_find */
int discover_raop(const char *name, int timeout_ms, const txp_stop_flag *stop, struct net_addr *out,
		  char *err, size_t errlen);

#endif
