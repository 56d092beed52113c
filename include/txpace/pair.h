/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * HomeKit / AirPlay 2 pairing, transport-agnostic: pair-setup (transient M1-M4, or PIN M1-M6
 * with txpace's Ed25519 identity), pair-verify (M1-M4, X25519 + Ed25519), and the identity store
 * (our long-term key and the receivers paired with it). The caller carries the TLV8 bodies:
 * AirPlay as RTSP `POST /pair-setup` (`X-Apple-HKP: 4` transient, 3 otherwise,
 * `Content-Type: application/octet-stream`), HomeKit as HTTP (`application/pairing+tlv8`).
 * M1, M3 and M5 must travel on one connection.
 */
#ifndef TXPACE_PAIR_H
#define TXPACE_PAIR_H

#include <stddef.h>
#include <stdint.h>

#include "txpace/stop.h"

#define PAIR_DIR_DEFAULT	"/var/lib/txpace"
#define PAIR_ID_MAX		64	/* pairing identifiers, NUL included */
#define PAIR_TRANSIENT_PIN	"3939"
#define PAIR_SECRET_MAX		64	/* transient: 64-byte SRP K; verify: 32-byte X25519 secret */

/**
 * POST @body (@len bytes) to @path ("/pair-setup", "/pair-verify"); the reply body (at most
 * @cap bytes) to @resp, its length to @resp_len and the status code to @status.
 * @return 0 when a reply (of any status) arrived, else a negative errno (then pairing stops
 * with that errno; the transport may have logged why)
 */
typedef int (*pair_post_fn)(void *ctx, const char *path, const uint8_t *body, size_t len,
			    uint8_t *resp, size_t cap, size_t *resp_len, int *status);

struct pair_transport {
	pair_post_fn post;
	void *ctx;
	const char *name;		/* the receiver's name, for the error lines (may be NULL) */
	const txp_stop_flag *stop;	/* tested between the messages (may be NULL) */
};

/* our long-term identity: the pairing identifier and the Ed25519 key pair */
struct pair_identity {
	char id[PAIR_ID_MAX];
	uint8_t pk[32];
	uint8_t sk[64];	/* seed | pk (libsodium's form) */
};

/* a receiver paired with us */
struct pair_peer {
	char id[PAIR_ID_MAX];	/* the accessory's pairing identifier (M6, pair-verify M2) */
	uint8_t pk[32];		/* its Ed25519 long-term public key */
};

/**
 * Transient pair-setup (AirPlay 2: M1 with flags 0x10, SRP with user "Pair-Setup" and PIN
 * 3939, M1-M4). @key gets the 64-byte SRP session key (the shared secret for hapsec_new).
 * @return 0, or -errno with a line in @err (see pair_setup_pin)
 */
int pair_setup_transient(const struct pair_transport *t, uint8_t key[64], char *err, size_t errlen);
/**
 * PIN pair-setup M1-M6: SRP with @pin (e.g. "3939" or "031-45-154", as the receiver shows it),
 * then our identity exchanged for the receiver's, which is returned in @peer (store it with
 * pair_store_peer). @return 0, or -errno with a line in @err that says what to do:
 * -EACCES wrong PIN / authentication refused, -EAGAIN backoff, -ENOSPC the receiver's pairing
 * list is full, -EPERM too many tries, -EBUSY unavailable (already paired) or busy, -EPROTO a
 * malformed or unexpected answer, -ENOTSUP a 470 (PIN pairing wanted, for the transient call),
 * -EINTR stopped
 */
int pair_setup_pin(const struct pair_transport *t, const struct pair_identity *me, const char *pin,
		   struct pair_peer *peer, char *err, size_t errlen);
/**
 * Pair-verify M1-M4 with a receiver paired before: ephemeral X25519, both Ed25519 signatures
 * checked. @secret gets the 32-byte shared secret (for hapsec_new). A receiver that presents
 * another identifier or key than @peer is refused (-EACCES). @return 0 or -errno with a line
 */
int pair_verify(const struct pair_transport *t, const struct pair_identity *me,
		const struct pair_peer *peer, uint8_t secret[32], char *err, size_t errlen);

/*
 * The store: @dir (PAIR_DIR_DEFAULT when NULL; created mode 0700) holds "identity" and
 * "peers", mode 0600, each rewritten whole through a temporary file and rename().
 */

/** Load our identity, creating it (random seed, a random UUID as identifier) when absent. */
int pair_identity_load(const char *dir, struct pair_identity *me, char *err, size_t errlen);
/** Remember @peer under @key (the caller's name for the receiver, e.g. its deviceid; no spaces). */
int pair_store_peer(const char *dir, const char *key, const struct pair_peer *peer, char *err,
		    size_t errlen);
/** The peer stored under @key. @return 0, -ENOENT, or -errno with a line */
int pair_find_peer(const char *dir, const char *key, struct pair_peer *peer, char *err, size_t errlen);
/** Forget the peer under @key. @return 0, -ENOENT, or -errno with a line */
int pair_remove_peer(const char *dir, const char *key, char *err, size_t errlen);

#endif
