// SPDX-License-Identifier: GPL-2.0-only
/* TLV8 (HomeKit pairing bodies): bounds-checked writer with fragmentation, reader that joins fragments. */
#include <errno.h>
#include <string.h>

#include "txpace/tlv8.h"

void tlv8_writer_init(struct tlv8_writer *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->err = 0;
}

size_t tlv8_encoded_len(size_t len)
{
	size_t items = len ? (len + 254) / 255 : 1;

	return len + 2 * items;
}

int tlv8_put(struct tlv8_writer *w, uint8_t type, const void *val, size_t len)
{
	const uint8_t *v = val;
	size_t n;

	if (w->err) {
		return w->err;
	}
	if (tlv8_encoded_len(len) > w->cap - w->len) {
		w->err = -ENOSPC;
		return w->err;
	}
	do {
		n = len > 255 ? 255 : len;
		w->buf[w->len++] = type;
		w->buf[w->len++] = (uint8_t)n;
		if (n) {
			memcpy(w->buf + w->len, v, n);
		}
		w->len += n;
		v += n;
		len -= n;
	} while (len > 0);
	return 0;
}

int tlv8_put_u8(struct tlv8_writer *w, uint8_t type, uint8_t val)
{
	return tlv8_put(w, type, &val, 1);
}

int tlv8_check(const uint8_t *in, size_t len)
{
	size_t off = 0;

	while (off < len) {
		if (len - off < 2 || in[off + 1] > len - off - 2) {
			return -EBADMSG;
		}
		off += 2 + in[off + 1];
	}
	return 0;
}

int tlv8_get(const uint8_t *in, size_t len, uint8_t type, uint8_t *out, size_t cap)
{
	size_t off = 0, got = 0;
	int found = 0;

	if (tlv8_check(in, len) < 0) {
		return -EBADMSG;
	}
	while (off < len) {
		uint8_t t = in[off], n = in[off + 1];

		if (t != type) {
			if (found) {
				break;	/* the fragments of one item are consecutive */
			}
			off += 2 + n;
			continue;
		}
		found = 1;
		if (n > cap - got) {
			return -ENOSPC;
		}
		memcpy(out + got, in + off + 2, n);
		got += n;
		off += 2 + n;
	}
	if (!found) {
		return -ENOENT;
	}
	return got > 0x7fffffff ? -ENOSPC : (int)got;
}

int tlv8_get_u8(const uint8_t *in, size_t len, uint8_t type)
{
	uint8_t v[2];
	int n = tlv8_get(in, len, type, v, sizeof(v));

	if (n == -ENOSPC || n == 0 || n == 2) {
		return -EBADMSG;
	}
	return n < 0 ? n : v[0];
}

const char *tlv8_error_name(int error)
{
	switch (error) {
	case TLV8_ERR_UNKNOWN:
		return "unknown error";
	case TLV8_ERR_AUTHENTICATION:
		return "authentication failed";
	case TLV8_ERR_BACKOFF:
		return "back off and retry later";
	case TLV8_ERR_MAX_PEERS:
		return "no room for another pairing";
	case TLV8_ERR_MAX_TRIES:
		return "too many failed attempts";
	case TLV8_ERR_UNAVAILABLE:
		return "pairing unavailable (already paired)";
	case TLV8_ERR_BUSY:
		return "busy pairing with another controller";
	default:
		return "an undefined error code";
	}
}
