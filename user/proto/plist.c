// SPDX-License-Identifier: GPL-2.0-only
/* Binary property lists through libplist (the only file that includes it). */
#include <errno.h>
#include <plist/plist.h>
#include <stdlib.h>
#include <string.h>

#include "txpace/plist.h"

#define P(n) ((plist_t)(n))
#define N(p) ((struct pl *)(p))

struct pl *pl_dict(void)
{
	return N(plist_new_dict());
}

struct pl *pl_array(void)
{
	return N(plist_new_array());
}

void pl_set(struct pl *dict, const char *key, struct pl *value)
{
	if (dict && value && plist_get_node_type(P(dict)) == PLIST_DICT) {
		plist_dict_set_item(P(dict), key, P(value));
	} else if (value) {
		plist_free(P(value));
	}
}

struct pl *pl_str(const char *v)
{
	return v ? N(plist_new_string(v)) : NULL;
}

void pl_set_str(struct pl *dict, const char *key, const char *v)
{
	pl_set(dict, key, pl_str(v));
}

void pl_set_uint(struct pl *dict, const char *key, uint64_t v)
{
	pl_set(dict, key, N(plist_new_uint(v)));
}

void pl_set_bool(struct pl *dict, const char *key, int v)
{
	pl_set(dict, key, N(plist_new_bool(v ? 1 : 0)));
}

void pl_set_real(struct pl *dict, const char *key, double v)
{
	pl_set(dict, key, N(plist_new_real(v)));
}

void pl_set_data(struct pl *dict, const char *key, const void *v, size_t len)
{
	pl_set(dict, key, N(plist_new_data(v, len)));
}

void pl_append(struct pl *array, struct pl *value)
{
	if (array && value && plist_get_node_type(P(array)) == PLIST_ARRAY) {
		plist_array_append_item(P(array), P(value));
	} else if (value) {
		plist_free(P(value));
	}
}

int pl_to_bin(const struct pl *root, uint8_t **out, size_t *len)
{
	char *bin = NULL;
	uint32_t n = 0;

	if (!root) {
		return -EINVAL;
	}
	plist_to_bin(P(root), &bin, &n);
	if (!bin) {
		return -ENOMEM;
	}
	/* handed to the caller as malloc'd memory, whatever allocator libplist uses */
	*out = malloc(n ? n : 1);
	if (!*out) {
		plist_to_bin_free(bin);
		return -ENOMEM;
	}
	memcpy(*out, bin, n);
	*len = n;
	plist_to_bin_free(bin);
	return 0;
}

void pl_free(struct pl *root)
{
	if (root) {
		plist_free(P(root));
	}
}

struct pl *pl_parse(const void *buf, size_t len)
{
	plist_t root = NULL;

	/* libplist's binary reader checks its offsets; the magic is checked first here */
	if (!buf || len < 8 || len > UINT32_MAX || memcmp(buf, "bplist00", 8) != 0) {
		return NULL;
	}
	plist_from_bin(buf, (uint32_t)len, &root);
	return N(root);
}

struct pl *pl_get(const struct pl *dict, const char *key)
{
	if (!dict || plist_get_node_type(P(dict)) != PLIST_DICT) {
		return NULL;
	}
	return N(plist_dict_get_item(P(dict), key));
}

int pl_get_uint(const struct pl *n, uint64_t *v)
{
	if (!n) {
		return -ENOENT;
	}
	switch (plist_get_node_type(P(n))) {
	case PLIST_UINT:
		plist_get_uint_val(P(n), v);
		return 0;
	case PLIST_BOOLEAN: {
		uint8_t b = 0;

		plist_get_bool_val(P(n), &b);
		*v = b;
		return 0;
	}
	default:
		return -EINVAL;
	}
}

int pl_get_bool(const struct pl *n, int *v)
{
	uint64_t u;
	int rc = pl_get_uint(n, &u);

	if (!rc) {
		*v = u != 0;
	}
	return rc;
}

const char *pl_get_str(const struct pl *n)
{
	uint64_t len = 0;

	if (!n || plist_get_node_type(P(n)) != PLIST_STRING) {
		return NULL;
	}
	return plist_get_string_ptr(P(n), &len);
}

const uint8_t *pl_get_data(const struct pl *n, size_t *len)
{
	uint64_t l = 0;
	const char *p;

	if (!n || plist_get_node_type(P(n)) != PLIST_DATA) {
		return NULL;
	}
	p = plist_get_data_ptr(P(n), &l);
	*len = (size_t)l;
	return (const uint8_t *)p;
}

size_t pl_array_len(const struct pl *a)
{
	return a && plist_get_node_type(P(a)) == PLIST_ARRAY ? plist_array_get_size(P(a)) : 0;
}

struct pl *pl_array_at(const struct pl *a, size_t i)
{
	return i < pl_array_len(a) ? N(plist_array_get_item(P(a), (uint32_t)i)) : NULL;
}

size_t pl_dict_len(const struct pl *d)
{
	return d && plist_get_node_type(P(d)) == PLIST_DICT ? plist_dict_get_size(P(d)) : 0;
}
