/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * TLV8 (HomeKit Accessory Protocol, used by AirPlay 2 pairing): items of type u8, length u8 and
 * value; a value over 255 bytes is sent as consecutive items of the same type (fragments), which
 * the reader joins again. Type 0xff with no value separates items of the same type in a list.
 */
#ifndef TXPACE_TLV8_H
#define TXPACE_TLV8_H

#include <stddef.h>
#include <stdint.h>

enum tlv8_type {
	TLV8_METHOD = 0x00,
	TLV8_IDENTIFIER = 0x01,
	TLV8_SALT = 0x02,
	TLV8_PUBLIC_KEY = 0x03,
	TLV8_PROOF = 0x04,
	TLV8_ENCRYPTED_DATA = 0x05,
	TLV8_STATE = 0x06,
	TLV8_ERROR = 0x07,
	TLV8_RETRY_DELAY = 0x08,
	TLV8_CERTIFICATE = 0x09,
	TLV8_SIGNATURE = 0x0a,
	TLV8_PERMISSIONS = 0x0b,
	TLV8_FRAGMENT_DATA = 0x0c,
	TLV8_FRAGMENT_LAST = 0x0d,
	TLV8_FLAGS = 0x13,
	TLV8_SEPARATOR = 0xff,
};

/* kTLVError_* values an accessory sends in TLV8_ERROR */
enum tlv8_error {
	TLV8_ERR_UNKNOWN = 1,
	TLV8_ERR_AUTHENTICATION = 2,
	TLV8_ERR_BACKOFF = 3,
	TLV8_ERR_MAX_PEERS = 4,
	TLV8_ERR_MAX_TRIES = 5,
	TLV8_ERR_UNAVAILABLE = 6,
	TLV8_ERR_BUSY = 7,
};

/** A writer over the caller's buffer; the first failure sticks in @err. */
struct tlv8_writer {
	uint8_t *buf;
	size_t cap;
	size_t len;
	int err;	/* 0 or -ENOSPC */
};

void tlv8_writer_init(struct tlv8_writer *w, uint8_t *buf, size_t cap);
/** Append an item, fragmented into 255-byte pieces. @return 0 or -ENOSPC (also kept in w->err) */
int tlv8_put(struct tlv8_writer *w, uint8_t type, const void *val, size_t len);
int tlv8_put_u8(struct tlv8_writer *w, uint8_t type, uint8_t val);
/** The encoded length of an item of @len bytes (its headers included). */
size_t tlv8_encoded_len(size_t len);

/** @return 0 when @in is a whole sequence of items (no item runs past the end), else -EBADMSG */
int tlv8_check(const uint8_t *in, size_t len);
/**
 * The first item of @type, its fragments (the consecutive items of the same type) joined into
 * @out. @return its length, -ENOENT, -ENOSPC (longer than @cap) or -EBADMSG (truncated input)
 */
int tlv8_get(const uint8_t *in, size_t len, uint8_t type, uint8_t *out, size_t cap);
/** The first item of @type as one byte (an item of any other length is -EBADMSG). @return the byte or -errno */
int tlv8_get_u8(const uint8_t *in, size_t len, uint8_t type);
/** A one-line name of a kTLVError_* value ("authentication failed", ...). */
const char *tlv8_error_name(int error);

#endif
