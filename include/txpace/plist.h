/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Binary property lists (AirPlay 2's /info, SETUP and SETPEERS bodies), built and read through
 * libplist; user/proto/plist.c is the only file that includes it. Nodes are opaque; a reader that
 * asks for a missing key or the wrong type gets NULL / -ENOENT / -EINVAL, never a crash.
 */
#ifndef TXPACE_PLIST_H
#define TXPACE_PLIST_H

#include <stddef.h>
#include <stdint.h>

struct pl;	/* a node; only a root (from pl_dict/pl_array/pl_parse) is freed */

struct pl *pl_dict(void);
struct pl *pl_array(void);
/* add to a dict (the value node is owned by the dict from then on); NULL values are ignored */
void pl_set(struct pl *dict, const char *key, struct pl *value);
void pl_set_str(struct pl *dict, const char *key, const char *v);
void pl_set_uint(struct pl *dict, const char *key, uint64_t v);
void pl_set_bool(struct pl *dict, const char *key, int v);
void pl_set_real(struct pl *dict, const char *key, double v);
void pl_set_data(struct pl *dict, const char *key, const void *v, size_t len);
void pl_append(struct pl *array, struct pl *value);
struct pl *pl_str(const char *v);
/** Serialise to a binary plist in @out (malloc'd, free()). @return 0, -ENOMEM or -EINVAL */
int pl_to_bin(const struct pl *root, uint8_t **out, size_t *len);
void pl_free(struct pl *root);

/** Parse a binary plist. @return the root, or NULL when it is not one */
struct pl *pl_parse(const void *buf, size_t len);
/** @return the value of @key in @dict, or NULL (missing, or @dict is no dict) */
struct pl *pl_get(const struct pl *dict, const char *key);
/** @return 0, -ENOENT (@n NULL) or -EINVAL (not an integer/bool/real as asked) */
int pl_get_uint(const struct pl *n, uint64_t *v);
int pl_get_bool(const struct pl *n, int *v);
/** @return the string (owned by the tree), or NULL */
const char *pl_get_str(const struct pl *n);
/** @return the bytes (owned by the tree) with @len, or NULL */
const uint8_t *pl_get_data(const struct pl *n, size_t *len);
/** @return the element count of an array (0 for anything else) */
size_t pl_array_len(const struct pl *a);
struct pl *pl_array_at(const struct pl *a, size_t i);
/** @return the number of entries of a dict (0 for anything else) */
size_t pl_dict_len(const struct pl *d);

#endif
