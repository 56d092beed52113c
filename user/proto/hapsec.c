// SPDX-License-Identifier: GPL-2.0-only
/* The encrypted channel after pairing: ChaCha20-Poly1305 frames of <= 1024 bytes, one counter per direction. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txpace/aead.h"
#include "txpace/hapsec.h"

#define HAPSEC_FRAME_MAX (2 + HAPSEC_BLOCK + AEAD_TAG_LEN)

struct hapsec {
	uint8_t wkey[AEAD_KEY_LEN], rkey[AEAD_KEY_LEN];
	uint64_t wctr, rctr;
	int dead;
	size_t have;			/* bytes of a partial frame in part[] */
	uint8_t part[HAPSEC_FRAME_MAX];
};

struct hapsec *hapsec_new_keys(const uint8_t write_key[32], const uint8_t read_key[32])
{
	struct hapsec *h = calloc(1, sizeof(*h));

	if (!h) {
		return NULL;
	}
	memcpy(h->wkey, write_key, AEAD_KEY_LEN);
	memcpy(h->rkey, read_key, AEAD_KEY_LEN);
	return h;
}

struct hapsec *hapsec_new(const uint8_t *secret, size_t secret_len, enum hapsec_channel ch,
			  enum hapsec_role role, char *err, size_t errlen)
{
	static const char *const salt[] = { "Control-Salt", "Events-Salt" };
	static const char *const info[][2] = {
		{ "Control-Write-Encryption-Key", "Control-Read-Encryption-Key" },
		/* the event connection's names run the other way */
		{ "Events-Read-Encryption-Key", "Events-Write-Encryption-Key" },
	};
	uint8_t ctl[AEAD_KEY_LEN], acc[AEAD_KEY_LEN];	/* controller->accessory, accessory->controller */
	struct hapsec *h = NULL;
	int i = ch == HAPSEC_EVENTS;

	if (aead_hkdf_sha512(secret, secret_len, salt[i], strlen(salt[i]), info[i][0],
			     strlen(info[i][0]), ctl, sizeof(ctl)) < 0 ||
	    aead_hkdf_sha512(secret, secret_len, salt[i], strlen(salt[i]), info[i][1],
			     strlen(info[i][1]), acc, sizeof(acc)) < 0) {
		snprintf(err, errlen, "encrypted channel: HKDF-SHA512 failed (OpenSSL)");
		goto out;
	}
	h = role == HAPSEC_CONTROLLER ? hapsec_new_keys(ctl, acc) : hapsec_new_keys(acc, ctl);
	if (!h) {
		snprintf(err, errlen, "encrypted channel: out of memory");
	}
out:
	aead_wipe(ctl, sizeof(ctl));
	aead_wipe(acc, sizeof(acc));
	return h;
}

void hapsec_free(struct hapsec *h)
{
	if (!h) {
		return;
	}
	aead_wipe(h, sizeof(*h));
	free(h);
}

size_t hapsec_sealed_len(size_t len)
{
	return len + (len + HAPSEC_BLOCK - 1) / HAPSEC_BLOCK * HAPSEC_OVERHEAD;
}

long hapsec_seal(struct hapsec *h, const uint8_t *msg, size_t len, uint8_t *out, size_t cap)
{
	uint8_t nonce[AEAD_NONCE_LEN];
	size_t off = 0, o = 0, need = hapsec_sealed_len(len);

	if (h->dead) {
		return -EPIPE;
	}
	if (need > cap || need > (size_t)(~0UL >> 1)) {
		return -ENOSPC;
	}
	while (off < len) {
		size_t n = len - off > HAPSEC_BLOCK ? HAPSEC_BLOCK : len - off;

		out[o] = (uint8_t)n;
		out[o + 1] = (uint8_t)(n >> 8);
		aead_nonce_counter(nonce, h->wctr);
		if (aead_seal(h->wkey, nonce, out + o, 2, msg + off, n, out + o + 2) < 0) {
			h->dead = 1;
			return -EIO;
		}
		h->wctr++;
		o += 2 + n + AEAD_TAG_LEN;
		off += n;
	}
	return (long)o;
}

/* open the whole frame in h->part into @out */
static long hapsec_open_frame(struct hapsec *h, size_t n, uint8_t *out, char *err, size_t errlen)
{
	uint8_t nonce[AEAD_NONCE_LEN];

	aead_nonce_counter(nonce, h->rctr);
	if (aead_open(h->rkey, nonce, h->part, 2, h->part + 2, n + AEAD_TAG_LEN, out) < 0) {
		h->dead = 1;
		snprintf(err, errlen,
			 "encrypted channel: frame %llu does not authenticate (wrong keys or a corrupted stream)",
			 (unsigned long long)h->rctr);
		return -EBADMSG;
	}
	h->rctr++;
	h->have = 0;
	return (long)n;
}

long hapsec_feed(struct hapsec *h, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
		 char *err, size_t errlen)
{
	size_t off = 0, o = 0;

	if (h->dead) {
		snprintf(err, errlen, "encrypted channel: closed after an earlier error");
		return -EPIPE;
	}
	if (cap < len + HAPSEC_BLOCK || len > (size_t)(~0UL >> 2)) {
		return -ENOSPC;
	}
	while (off < len) {
		size_t want = 2, n = 0, take;

		if (h->have >= 2) {
			n = h->part[0] | (size_t)h->part[1] << 8;
			if (n > HAPSEC_BLOCK) {
				h->dead = 1;
				snprintf(err, errlen,
					 "encrypted channel: a frame of %zu bytes (at most %d): not this protocol",
					 n, HAPSEC_BLOCK);
				return -EBADMSG;
			}
			want = 2 + n + AEAD_TAG_LEN;
		}
		take = want - h->have < len - off ? want - h->have : len - off;
		memcpy(h->part + h->have, in + off, take);
		h->have += take;
		off += take;
		if (h->have == want && want > 2) {
			long r = hapsec_open_frame(h, n, out + o, err, errlen);

			if (r < 0) {
				return r;
			}
			o += (size_t)r;
		}
	}
	/* a length prefix completed by the last byte: check it now, not on the next call */
	if (h->have == 2 && (h->part[0] | (size_t)h->part[1] << 8) > HAPSEC_BLOCK) {
		h->dead = 1;
		snprintf(err, errlen, "encrypted channel: a frame over %d bytes: not this protocol",
			 HAPSEC_BLOCK);
		return -EBADMSG;
	}
	return (long)o;
}

size_t hapsec_pending(const struct hapsec *h)
{
	return h->have;
}

uint64_t hapsec_sent(const struct hapsec *h)
{
	return h->wctr;
}

uint64_t hapsec_received(const struct hapsec *h)
{
	return h->rctr;
}
