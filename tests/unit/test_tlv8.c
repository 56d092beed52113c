// SPDX-License-Identifier: GPL-2.0-only
/*
 * TLV8: round trips (a 384-byte SRP key fragmented 255 + 129 and joined again, an empty item, a
 * separator between two items of one type), the bytes on the wire, and bad input: truncated
 * items, a too-small output buffer, a writer that runs out of room.
 */
#include <errno.h>
#include <string.h>

#include "txpace/tlv8.h"
#include "unit.h"

static void test_round_trip(void)
{
	uint8_t buf[1024], key[384], out[512];
	struct tlv8_writer w;
	size_t i;

	for (i = 0; i < sizeof(key); i++) {
		key[i] = (uint8_t)(i * 7 + 1);
	}
	tlv8_writer_init(&w, buf, sizeof(buf));
	CHECK_EQ(tlv8_put_u8(&w, TLV8_STATE, 3), 0);
	CHECK_EQ(tlv8_put(&w, TLV8_PUBLIC_KEY, key, sizeof(key)), 0);
	CHECK_EQ(tlv8_put(&w, TLV8_PROOF, NULL, 0), 0);
	CHECK_EQ(tlv8_put(&w, TLV8_IDENTIFIER, "a", 1), 0);
	CHECK_EQ(tlv8_put(&w, TLV8_SEPARATOR, NULL, 0), 0);
	CHECK_EQ(tlv8_put(&w, TLV8_IDENTIFIER, "b", 1), 0);
	CHECK_EQ(w.len, 3 + tlv8_encoded_len(384) + 2 + 3 + 2 + 3);
	CHECK_EQ(tlv8_encoded_len(384), 388);
	CHECK_EQ(tlv8_encoded_len(0), 2);
	CHECK_EQ(tlv8_encoded_len(255), 257);
	CHECK_EQ(tlv8_encoded_len(256), 260);
	/* the wire: 06 01 03, 03 ff <255>, 03 81 <129>, 04 00, ... */
	CHECK(buf[0] == 6 && buf[1] == 1 && buf[2] == 3);
	CHECK(buf[3] == 3 && buf[4] == 255 && buf[5] == key[0]);
	CHECK(buf[3 + 257] == 3 && buf[3 + 258] == 129 && buf[3 + 259] == key[255]);
	CHECK_EQ(tlv8_check(buf, w.len), 0);
	CHECK_EQ(tlv8_get(buf, w.len, TLV8_PUBLIC_KEY, out, sizeof(out)), 384);
	CHECK(memcmp(out, key, 384) == 0);
	CHECK_EQ(tlv8_get_u8(buf, w.len, TLV8_STATE), 3);
	CHECK_EQ(tlv8_get(buf, w.len, TLV8_PROOF, out, sizeof(out)), 0);
	CHECK_EQ(tlv8_get_u8(buf, w.len, TLV8_PROOF), -EBADMSG);
	CHECK_EQ(tlv8_get(buf, w.len, TLV8_IDENTIFIER, out, sizeof(out)), 1);	/* the first only */
	CHECK(out[0] == 'a');
	CHECK_EQ(tlv8_get(buf, w.len, TLV8_ERROR, out, sizeof(out)), -ENOENT);
	CHECK_EQ(tlv8_get_u8(buf, w.len, TLV8_ERROR), -ENOENT);
	CHECK_EQ(tlv8_get_u8(buf, w.len, TLV8_PUBLIC_KEY), -EBADMSG);
	CHECK_EQ(tlv8_get(buf, w.len, TLV8_PUBLIC_KEY, out, 383), -ENOSPC);
}

static void test_bad_input(void)
{
	uint8_t buf[8], out[8];
	struct tlv8_writer w;
	static const uint8_t trunc[] = { 6, 1, 2, 7, 3, 1 };	/* the second item claims 3, has 1 */
	static const uint8_t lone[] = { 6 };

	CHECK_EQ(tlv8_check(trunc, sizeof(trunc)), -EBADMSG);
	CHECK_EQ(tlv8_get(trunc, sizeof(trunc), TLV8_STATE, out, sizeof(out)), -EBADMSG);
	CHECK_EQ(tlv8_get_u8(trunc, sizeof(trunc), TLV8_STATE), -EBADMSG);
	CHECK_EQ(tlv8_check(lone, 1), -EBADMSG);
	CHECK_EQ(tlv8_check(lone, 0), 0);
	CHECK_EQ(tlv8_get(lone, 0, TLV8_STATE, out, sizeof(out)), -ENOENT);

	tlv8_writer_init(&w, buf, sizeof(buf));
	CHECK_EQ(tlv8_put(&w, TLV8_SALT, "12345", 5), 0);
	CHECK_EQ(tlv8_put(&w, TLV8_SALT, "1", 1), -ENOSPC);	/* 7 + 3 > 8 */
	CHECK_EQ(w.len, 7);	/* nothing half-written */
	CHECK_EQ(tlv8_put_u8(&w, TLV8_STATE, 1), -ENOSPC);	/* the error sticks */
	CHECK_EQ(w.err, -ENOSPC);
	CHECK(strstr(tlv8_error_name(TLV8_ERR_AUTHENTICATION), "authentication") != NULL);
	CHECK(strstr(tlv8_error_name(99), "undefined") != NULL);
}

int main(void)
{
	test_round_trip();
	test_bad_input();
	return unit_done("test_tlv8");
}
