/* SPDX-License-Identifier: GPL-2.0-only */
/* Packet history for retransmits: the last N packets by sequence number, one writer, any readers. */
#ifndef TXPACE_HISTORY_H
#define TXPACE_HISTORY_H

#include <stddef.h>
#include <stdint.h>

struct history;

/** @return a history of @depth (rounded up to a power of two) packets of @payload_max bytes */
struct history *history_new(size_t depth, size_t payload_max);
void history_free(struct history *h);
/** Writer: store packet @seq (a 16-bit RTP sequence is fine; any counter works). */
void history_put(struct history *h, uint32_t seq, const void *data, size_t len);
/**
 * Reader (any thread): copy packet @seq into @buf.
 * @return its length, -ENOENT when it was never stored or already overwritten, -ENOSPC if
 *         @cap is too small
 */
int history_get(struct history *h, uint32_t seq, void *buf, size_t cap);
/**
 * Reader (any thread): which packets @h holds, as the last @held sequence numbers up to @newest
 * (the packets are assumed to be put in sequence). The slot the writer fills next is left out: a
 * reader would race it. A packet may still be overwritten right after this returns.
 * @return 0, or -ENOENT before the first put
 */
int history_window(struct history *h, uint32_t *newest, size_t *held);

#endif
