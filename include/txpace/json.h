/* SPDX-License-Identifier: GPL-2.0-only */
/* A small streaming JSON writer for reports. */
#ifndef TXPACE_JSON_H
#define TXPACE_JSON_H

#include <stdint.h>
#include <stdio.h>

struct json {
	FILE *f;
	int depth;
	int need_comma[32];
};

void json_init(struct json *j, FILE *f);
/** Open an object; @key NULL at top level or inside an array. */
void json_obj(struct json *j, const char *key);
void json_arr(struct json *j, const char *key);
void json_end(struct json *j, char close);	/* '}' or ']' */
void json_int(struct json *j, const char *key, int64_t v);
void json_uint(struct json *j, const char *key, uint64_t v);
void json_num(struct json *j, const char *key, double v);	/* 3 decimals; NaN -> null */
void json_str(struct json *j, const char *key, const char *v);	/* NULL -> null */
void json_bool(struct json *j, const char *key, int v);
struct hist;
/** An object @key with count, p50, p99, p999 and max of @h in microseconds. */
void json_hist(struct json *j, const char *key, const struct hist *h);
/** Finish the document with a newline. */
void json_done(struct json *j);

#endif
