// SPDX-License-Identifier: GPL-2.0-only
/*
 * Source module, built-in signals: a tone, a logarithmic sweep and a counting ramp, computed from
 * the sample index (no drift, exact seeks), at the stream format directly.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source_priv.h"

int source_is_signal(const char *spec)
{
	return !strncmp(spec, "tone:", 5) || !strcmp(spec, "sweep") || !strcmp(spec, "ramp");
}

int source_signal_open(struct source *s, const char *spec, char *err, size_t errlen)
{
	const struct source_fmt *fmt = &s->fmt;
	int rc = 0;

	if (!strncmp(spec, "tone:", 5)) {
		char *e;

		s->kind = SRC_TONE;
		s->freq = strtod(spec + 5, &e);
		if (*e || !(s->freq > 0) || s->freq >= fmt->rate / 2.0) {
			source_set_err(err, errlen, "tone frequency must be between 0 and %u Hz: '%s'",
				       fmt->rate / 2, spec);
			rc = -EINVAL;
		}
		snprintf(s->desc, sizeof(s->desc), "tone %g Hz at -6 dBFS", s->freq);
	} else if (!strcmp(spec, "sweep")) {
		s->kind = SRC_SWEEP;
		s->sweep_f0 = 20;
		s->sweep_f1 = fmin(20000, fmt->rate * 0.45);
		s->sweep_secs = 10;
		snprintf(s->desc, sizeof(s->desc), "log sweep %g-%g Hz every %g s at -6 dBFS",
			 s->sweep_f0, s->sweep_f1, s->sweep_secs);
	} else {
		s->kind = SRC_RAMP;
		snprintf(s->desc, sizeof(s->desc), "ramp (%u-bit counter over interleaved samples)",
			 fmt->bits);
	}
	return rc;
}

static int32_t quantize(double x, unsigned bits)
{
	double full = ldexp(1.0, (int)bits - 1);
	long v = lrint(x * full);

	if (v >= (long)full) {
		v = (long)full - 1;
	}
	if (v < -(long)full) {
		v = -(long)full;
	}
	return (int32_t)((uint32_t)v << (32 - bits));
}

long source_signal_read(struct source *s, int32_t *out, size_t frames)
{
	uint32_t ch = s->fmt.channels, rate = s->fmt.rate;

	for (size_t f = 0; f < frames; f++, s->pos++) {
		int32_t v = 0;

		if (s->kind == SRC_RAMP) {
			uint64_t base = s->pos * ch;
			uint32_t mask = s->fmt.bits == 32 ? ~0u : (1u << s->fmt.bits) - 1;

			for (uint32_t c = 0; c < ch; c++) {
				out[f * ch + c] = (int32_t)(((uint32_t)(base + c) & mask)
							    << (32 - s->fmt.bits));
			}
			continue;
		}
		if (s->kind == SRC_TONE) {
			/* phase from the sample index in 64-bit precision: no drift, no jumps */
			long double cyc = fmodl((long double)s->freq * (long double)s->pos, rate) / rate;

			v = quantize(0.5 * sin(2 * M_PI * (double)cyc), s->fmt.bits);
		} else {
			double t = fmod((double)s->pos / rate, s->sweep_secs);
			double k = log(s->sweep_f1 / s->sweep_f0) / s->sweep_secs;
			double ph = s->sweep_f0 / k * (exp(k * t) - 1);

			v = quantize(0.5 * sin(2 * M_PI * fmod(ph, 1.0)), s->fmt.bits);
		}
		for (uint32_t c = 0; c < ch; c++) {
			out[f * ch + c] = v;
		}
	}
	return (long)frames;
}
