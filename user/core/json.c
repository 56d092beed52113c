// SPDX-License-Identifier: GPL-2.0-only
/* JSON module: indentation, commas and string escaping for the report writers. */
#include <math.h>
#include <inttypes.h>

#include "txpace/hist.h"
#include "txpace/json.h"

void json_init(struct json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	j->need_comma[0] = 0;
}

static void put_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			fprintf(f, "\\%c", c);
		} else if (c < 0x20) {
			fprintf(f, "\\u%04x", c);
		} else {
			fputc(c, f);
		}
	}
	fputc('"', f);
}

static void key(struct json *j, const char *k)
{
	if (j->need_comma[j->depth]) {
		fputc(',', j->f);
	}
	j->need_comma[j->depth] = 1;
	if (j->depth > 0) {
		fprintf(j->f, "\n%*s", 2 * j->depth, "");
	}
	if (k) {
		put_str(j->f, k);
		fputs(": ", j->f);
	}
}

static void open(struct json *j, const char *k, char c)
{
	key(j, k);
	fputc(c, j->f);
	if (j->depth < 31) {
		j->depth++;
	}
	j->need_comma[j->depth] = 0;
}

void json_obj(struct json *j, const char *k)
{
	open(j, k, '{');
}

void json_arr(struct json *j, const char *k)
{
	open(j, k, '[');
}

void json_end(struct json *j, char close)
{
	int had = j->need_comma[j->depth];

	if (j->depth > 0) {
		j->depth--;
	}
	if (had) {
		fprintf(j->f, "\n%*s", 2 * j->depth, "");
	}
	fputc(close, j->f);
}

void json_int(struct json *j, const char *k, int64_t v)
{
	key(j, k);
	fprintf(j->f, "%" PRId64, v);
}

void json_uint(struct json *j, const char *k, uint64_t v)
{
	key(j, k);
	fprintf(j->f, "%" PRIu64, v);
}

void json_num(struct json *j, const char *k, double v)
{
	key(j, k);
	if (isfinite(v)) {
		fprintf(j->f, "%.3f", v);
	} else {
		fputs("null", j->f);
	}
}

void json_str(struct json *j, const char *k, const char *v)
{
	key(j, k);
	if (v) {
		put_str(j->f, v);
	} else {
		fputs("null", j->f);
	}
}

void json_bool(struct json *j, const char *k, int v)
{
	key(j, k);
	fputs(v ? "true" : "false", j->f);
}

void json_done(struct json *j)
{
	fputc('\n', j->f);
	fflush(j->f);
}

void json_hist(struct json *j, const char *key, const struct hist *h)
{
	json_obj(j, key);
	json_uint(j, "count", hist_count(h));
	json_num(j, "p50", (double)hist_quantile(h, 0.5) / 1e3);
	json_num(j, "p99", (double)hist_quantile(h, 0.99) / 1e3);
	json_num(j, "p999", (double)hist_quantile(h, 0.999) / 1e3);
	json_num(j, "max", (double)hist_max(h) / 1e3);
	json_end(j, '}');
}
