/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * a * b / c, exact, without 128-bit integers in the caller: gcc has no __int128 on 32-bit
 * targets (armhf), and schedules, media clocks and drift all need products past 64 bits.
 */
#ifndef TXPACE_MULDIV_H
#define TXPACE_MULDIV_H

#include <stdint.h>

/** floor(a * b / c) for c > 0, the remainder in @rem (may be NULL); the quotient must fit 64 bits */
uint64_t mul_div_u64(uint64_t a, uint64_t b, uint64_t c, uint64_t *rem);
/** a * b / c rounded toward zero, as C's division does, for c > 0 */
int64_t mul_div_s64(int64_t a, uint64_t b, uint64_t c);
/** The same without __int128 whatever the target has (what armhf runs; exposed for tests) */
uint64_t mul_div_u64_portable(uint64_t a, uint64_t b, uint64_t c, uint64_t *rem);

#endif
