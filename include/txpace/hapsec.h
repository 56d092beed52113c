/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The encrypted channel that follows pairing (HomeKit's "secure session", AirPlay 2's encrypted
 * RTSP): plaintext in blocks of at most 1024 bytes, each framed as a u16 little-endian length
 * (also the AAD), the ChaCha20-Poly1305 ciphertext and a 16-byte tag; the nonce is 4 zero bytes
 * + a 64-bit little-endian counter, one per direction, from 0. Keys are HKDF-SHA512 of the
 * pairing's shared secret. A frame that does not authenticate kills the channel.
 */
#ifndef TXPACE_HAPSEC_H
#define TXPACE_HAPSEC_H

#include <stddef.h>
#include <stdint.h>

#define HAPSEC_BLOCK	1024	/* plaintext bytes per frame at most */
#define HAPSEC_OVERHEAD	18	/* length + tag per frame */

enum hapsec_channel {
	/* salt "Control-Salt", infos "Control-Write-Encryption-Key" (controller -> accessory) and
	 * "Control-Read-Encryption-Key" (accessory -> controller): HomeKit's session and AirPlay
	 * 2's RTSP connection alike */
	HAPSEC_CONTROL,
	/* AirPlay 2's event connection: salt "Events-Salt"; the receiver writes with
	 * "Events-Write-Encryption-Key", i.e. the names are the other way round from CONTROL
	 * (as pyatv and OwnTone use them; checked against shairport-sync 5.2.1: test_airplay2.sh) */
	HAPSEC_EVENTS,
};

enum hapsec_role {
	HAPSEC_CONTROLLER,	/* txpace: the sender / HomeKit controller */
	HAPSEC_ACCESSORY,	/* the receiver side (test peers) */
};

struct hapsec;

/**
 * A channel keyed from the pairing's @secret (64-byte SRP K for transient pairing, the 32-byte
 * X25519 secret after pair-verify). @return the channel, or NULL with a line in @err
 */
struct hapsec *hapsec_new(const uint8_t *secret, size_t secret_len, enum hapsec_channel ch,
			  enum hapsec_role role, char *err, size_t errlen);
/** A channel from explicit keys (tests). */
struct hapsec *hapsec_new_keys(const uint8_t write_key[32], const uint8_t read_key[32]);
void hapsec_free(struct hapsec *h);
/** Bytes hapsec_seal writes for @len bytes of plaintext. */
size_t hapsec_sealed_len(size_t len);
/**
 * Encrypt a whole message (any length; 0 bytes give no frame) into frames at @out.
 * @return the bytes written, -ENOSPC (nothing written, no counter used) or -EPIPE (a dead channel)
 */
long hapsec_seal(struct hapsec *h, const uint8_t *msg, size_t len, uint8_t *out, size_t cap);
/**
 * Feed @len received bytes; the plaintext of every frame they complete is appended at @out
 * (a partial frame is kept for the next call). @cap must be at least @len + HAPSEC_BLOCK.
 * @return the plaintext bytes written, -ENOSPC (@cap too small, nothing consumed), -EBADMSG (a
 * frame that does not authenticate or a length over 1024: the channel is dead, a line in @err)
 * or -EPIPE (dead already)
 */
long hapsec_feed(struct hapsec *h, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
		 char *err, size_t errlen);
/** Bytes of a partial frame held. */
size_t hapsec_pending(const struct hapsec *h);
/** Frames sealed and opened so far (the two counters). */
uint64_t hapsec_sent(const struct hapsec *h);
uint64_t hapsec_received(const struct hapsec *h);

#endif
