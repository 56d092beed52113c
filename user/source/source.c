// SPDX-License-Identifier: GPL-2.0-only
/* Source module: the only file that touches libavformat/libavcodec/libswresample. */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>

#include "txpace/stop.h"
#include "txpace/log.h"
#include "txpace/source.h"

enum src_kind { SRC_FILE, SRC_STDIN, SRC_TONE, SRC_SWEEP, SRC_RAMP };
enum raw_fmt { RAW_S16, RAW_S24, RAW_S32, RAW_F32 };

struct source {
	enum src_kind kind;
	struct source_fmt fmt;
	char desc[160];
	int64_t total;
	uint64_t pos;		/* frames produced */
	uint64_t decode_errors;
	/* generators */
	double freq, phase, sweep_f0, sweep_f1, sweep_secs;
	/* libav path */
	AVFormatContext *fc;
	AVCodecContext *cc;
	AVPacket *pkt;
	AVFrame *frame;
	int stream;
	int eof_demux, eof_decode, flushed;
	/* conversion to the stream format (files and stdin) */
	SwrContext *swr;
	enum AVSampleFormat out_sfmt;
	int32_t *buf;		/* converted frames not yet handed out */
	size_t buf_frames, buf_off, buf_cap;
	/* the decoder's output as swr was set up for it (a change mid-stream reconfigures) */
	int swr_rate, swr_fmt;
	AVChannelLayout swr_layout;
	int consecutive_errors;
	int (*intr)(void *);
	void *intr_arg;
	/* stdin */
	enum raw_fmt raw;
	uint32_t in_rate, in_ch;
	uint8_t *raw_buf;
	size_t raw_fill;
	int stdin_eof;
};

static void set_err(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

static const char *averr(int e, char *b, size_t n)
{
	av_strerror(e, b, n);
	return b;
}

static int make_swr(struct source *s, AVChannelLayout *in_layout, enum AVSampleFormat in_fmt,
		    int in_rate)
{
	AVChannelLayout out_layout;
	int rc;

	av_channel_layout_default(&out_layout, (int)s->fmt.channels);
	s->out_sfmt = s->fmt.bits == 16 ? AV_SAMPLE_FMT_S16 : AV_SAMPLE_FMT_S32;
	s->swr_rate = in_rate;
	s->swr_fmt = in_fmt;
	av_channel_layout_uninit(&s->swr_layout);
	av_channel_layout_copy(&s->swr_layout, in_layout);
	rc = swr_alloc_set_opts2(&s->swr, &out_layout, s->out_sfmt, (int)s->fmt.rate, in_layout,
				 in_fmt, in_rate, 0, NULL);
	av_channel_layout_uninit(&out_layout);
	if (rc < 0) {
		return rc;
	}
	return swr_init(s->swr);
}

/* Grow the output buffer (the producer thread only; it settles after the first frames). */
static int reserve(struct source *s, size_t frames)
{
	size_t need = s->buf_frames + frames;

	if (need <= s->buf_cap) {
		return 0;
	}
	if (s->buf_off) {
		memmove(s->buf, s->buf + s->buf_off * s->fmt.channels,
			(s->buf_frames - s->buf_off) * s->fmt.channels * sizeof(int32_t));
		s->buf_frames -= s->buf_off;
		s->buf_off = 0;
		need = s->buf_frames + frames;
		if (need <= s->buf_cap) {
			return 0;
		}
	}
	int32_t *nb = realloc(s->buf, need * 2 * s->fmt.channels * sizeof(int32_t));

	if (!nb) {
		return -ENOMEM;
	}
	s->buf = nb;
	s->buf_cap = need * 2;
	return 0;
}

/* Convert through swr and append to buf; in == NULL flushes the resampler. */
static int convert(struct source *s, const uint8_t **in, int in_frames)
{
	int max_out = swr_get_out_samples(s->swr, in_frames);
	uint8_t *out;
	int n;

	if (max_out < 0) {
		return max_out;
	}
	if (reserve(s, (size_t)max_out + 16)) {
		return -ENOMEM;
	}
	out = (uint8_t *)(s->buf + s->buf_frames * s->fmt.channels);
	n = swr_convert(s->swr, &out, max_out + 16, in, in_frames);
	if (n < 0) {
		return n;
	}
	if (s->out_sfmt == AV_SAMPLE_FMT_S16) {
		/* widen in place, back to front: S16 -> left-justified S32 */
		int16_t *p16 = (int16_t *)out;
		size_t cnt = (size_t)n * s->fmt.channels;

		for (size_t i = cnt; i-- > 0;) {
			((int32_t *)out)[i] = (int32_t)((uint32_t)(uint16_t)p16[i] << 16);
		}
	} else if (s->fmt.bits < 32) {
		uint32_t mask = ~((1u << (32 - s->fmt.bits)) - 1);
		size_t cnt = (size_t)n * s->fmt.channels;

		for (size_t i = 0; i < cnt; i++) {
			((int32_t *)out)[i] = (int32_t)((uint32_t)((int32_t *)out)[i] & mask);
		}
	}
	s->buf_frames += (size_t)n;
	return n;
}

static int interrupted(void *arg)
{
	struct source *s = arg;

	return s->intr && s->intr(s->intr_arg);
}

void source_set_interrupt(struct source *s, int (*cb)(void *arg), void *arg)
{
	s->intr = cb;
	s->intr_arg = arg;
}

static int open_file(struct source *s, const char *path, char *err, size_t errlen)
{
	const AVCodec *codec;
	AVStream *st;
	char eb[128];
	int rc;

	s->fc = avformat_alloc_context();
	if (!s->fc) {
		return AVERROR(ENOMEM);
	}
	/* a slow or stalled input (a network URL) gives up when we are told to stop */
	s->fc->interrupt_callback = (AVIOInterruptCB){ interrupted, s };
	rc = avformat_open_input(&s->fc, path, NULL, NULL);
	if (rc < 0) {
		/* a missing or unreadable file says so; anything else is not media FFmpeg reads */
		if (rc == AVERROR(ENOENT) || rc == AVERROR(EACCES) || rc == AVERROR(EISDIR)) {
			set_err(err, errlen, "cannot open %s: %s", path, averr(rc, eb, sizeof(eb)));
		} else {
			set_err(err, errlen, "cannot open %s: not a media file FFmpeg can read (%s)",
				path, averr(rc, eb, sizeof(eb)));
		}
		return rc;
	}
	rc = avformat_find_stream_info(s->fc, NULL);
	if (rc < 0) {
		set_err(err, errlen, "%s: cannot read stream info: %s", path, averr(rc, eb, sizeof(eb)));
		return rc;
	}
	rc = av_find_best_stream(s->fc, AVMEDIA_TYPE_AUDIO, -1, -1, &codec, 0);
	if (rc < 0) {
		set_err(err, errlen, "%s: no audio stream that FFmpeg can decode", path);
		return rc;
	}
	s->stream = rc;
	st = s->fc->streams[rc];
	s->cc = avcodec_alloc_context3(codec);
	if (!s->cc) {
		return AVERROR(ENOMEM);
	}
	rc = avcodec_parameters_to_context(s->cc, st->codecpar);
	if (rc >= 0) {
		rc = avcodec_open2(s->cc, codec, NULL);
	}
	if (rc < 0) {
		set_err(err, errlen, "%s: cannot open %s decoder: %s", path, codec->name,
			averr(rc, eb, sizeof(eb)));
		return rc;
	}
	if (s->cc->sample_rate <= 0 || s->cc->ch_layout.nb_channels <= 0) {
		set_err(err, errlen, "%s: audio stream has no sample rate or channels", path);
		return AVERROR_INVALIDDATA;
	}
	if (s->cc->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC) {
		int ch = s->cc->ch_layout.nb_channels;

		av_channel_layout_uninit(&s->cc->ch_layout);
		av_channel_layout_default(&s->cc->ch_layout, ch);
	}
	rc = make_swr(s, &s->cc->ch_layout, s->cc->sample_fmt, s->cc->sample_rate);
	if (rc < 0) {
		set_err(err, errlen, "%s: cannot convert %d Hz %d ch to the stream format: %s", path,
			s->cc->sample_rate, s->cc->ch_layout.nb_channels, averr(rc, eb, sizeof(eb)));
		return rc;
	}
	s->pkt = av_packet_alloc();
	s->frame = av_frame_alloc();
	if (!s->pkt || !s->frame) {
		return AVERROR(ENOMEM);
	}
	if (st->duration > 0 && st->time_base.den) {
		s->total = av_rescale_q(st->duration, st->time_base, (AVRational){ 1, (int)s->fmt.rate });
	} else if (s->fc->duration > 0) {
		s->total = av_rescale(s->fc->duration, s->fmt.rate, AV_TIME_BASE);
	}
	snprintf(s->desc, sizeof(s->desc), "%s (%s, %d Hz, %d ch)", path, codec->name,
		 s->cc->sample_rate, s->cc->ch_layout.nb_channels);
	return 0;
}

/*
 * A stream may change rate, sample format or channels mid-way (chained Ogg, HE-AAC with
 * parametric stereo, broadcast TS): flush what swr holds and set it up for the new input.
 */
static int reconfigure_if_changed(struct source *s, AVFrame *f)
{
	int rc;

	if (f->sample_rate == s->swr_rate && f->format == s->swr_fmt &&
	    !av_channel_layout_compare(&f->ch_layout, &s->swr_layout)) {
		return 0;
	}
	if (f->sample_rate <= 0 || f->ch_layout.nb_channels <= 0) {
		return AVERROR_INVALIDDATA;
	}
	pr_debug("source format changed: %d Hz %d ch", f->sample_rate, f->ch_layout.nb_channels);
	do {
		rc = convert(s, NULL, 0);
	} while (rc > 0);
	swr_free(&s->swr);
	if (f->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC) {
		int ch = f->ch_layout.nb_channels;

		av_channel_layout_uninit(&f->ch_layout);
		av_channel_layout_default(&f->ch_layout, ch);
	}
	return make_swr(s, &f->ch_layout, (enum AVSampleFormat)f->format, f->sample_rate);
}

/* Decode until at least one converted frame is buffered or the file ends. */
static int fill_file(struct source *s)
{
	char eb[128];
	int rc;

	while (s->buf_frames == s->buf_off && !s->flushed) {
		if (interrupted(s)) {
			return -EINTR;
		}
		rc = avcodec_receive_frame(s->cc, s->frame);
		if (rc == 0) {
			s->consecutive_errors = 0;
			rc = reconfigure_if_changed(s, s->frame);
			if (rc == 0) {
				rc = convert(s, (const uint8_t **)s->frame->extended_data,
					     s->frame->nb_samples);
			}
			av_frame_unref(s->frame);
			if (rc < 0) {
				return rc;
			}
			continue;
		}
		if (rc == AVERROR_EOF) {
			rc = convert(s, NULL, 0);
			if (rc < 0) {
				return rc;
			}
			if (rc == 0) {
				s->flushed = 1;
			}
			continue;
		}
		if (rc != AVERROR(EAGAIN)) {
			/* a broken frame: counted, reported, the stream goes on (but not forever) */
			s->decode_errors++;
			if (++s->consecutive_errors > 1000) {
				return -EIO;
			}
			continue;
		}
		if (s->eof_demux) {
			avcodec_send_packet(s->cc, NULL);
			continue;
		}
		rc = av_read_frame(s->fc, s->pkt);
		if (rc == AVERROR_EOF) {
			s->eof_demux = 1;
			continue;
		}
		if (rc < 0) {
			pr_warn("read error in source: %s", averr(rc, eb, sizeof(eb)));
			s->decode_errors++;
			s->eof_demux = 1;
			continue;
		}
		if (s->pkt->stream_index == s->stream) {
			rc = avcodec_send_packet(s->cc, s->pkt);
			if (rc < 0 && rc != AVERROR(EAGAIN)) {
				s->decode_errors++;
			}
		}
		av_packet_unref(s->pkt);
	}
	return 0;
}

static int parse_input_format(struct source *s, const char *f, char *err, size_t errlen)
{
	char name[16];
	unsigned rate, ch;
	char tail;

	if (!f || sscanf(f, "%15[a-z0-9]:%u:%u%c", name, &rate, &ch, &tail) != 3) {
		set_err(err, errlen, "stdin needs --input-format FMT:RATE:CHANNELS, e.g. s16le:48000:2");
		return -EINVAL;
	}
	if (!strcmp(name, "s16le")) {
		s->raw = RAW_S16;
	} else if (!strcmp(name, "s24le")) {
		s->raw = RAW_S24;
	} else if (!strcmp(name, "s32le")) {
		s->raw = RAW_S32;
	} else if (!strcmp(name, "f32le")) {
		s->raw = RAW_F32;
	} else {
		set_err(err, errlen, "unsupported input format '%s' (s16le, s24le, s32le, f32le)", name);
		return -EINVAL;
	}
	if (rate < 8000 || rate > 384000 || ch < 1 || ch > 8) {
		set_err(err, errlen, "input format %s: rate 8000-384000 and 1-8 channels", f);
		return -EINVAL;
	}
	s->in_rate = rate;
	s->in_ch = ch;
	return 0;
}

static unsigned raw_bytes(enum raw_fmt f)
{
	return f == RAW_S16 ? 2 : f == RAW_S24 ? 3 : 4;
}

#define RAW_CHUNK 1024	/* frames per read from stdin */

static int fill_stdin(struct source *s)
{
	size_t fsz = raw_bytes(s->raw) * s->in_ch, want = RAW_CHUNK * fsz;

	while (s->buf_frames == s->buf_off && !s->flushed) {
		if (s->stdin_eof) {
			int rc = convert(s, NULL, 0);

			if (rc < 0) {
				return rc;
			}
			if (rc == 0) {
				s->flushed = 1;
			}
			continue;
		}
		struct pollfd pfd = { STDIN_FILENO, POLLIN, 0 };

		if (interrupted(s)) {
			return -EINTR;
		}
		if (poll(&pfd, 1, 100) == 0) {
			continue;
		}
		ssize_t n = read(STDIN_FILENO, s->raw_buf + s->raw_fill, want - s->raw_fill);

		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				continue;
			}
			return -errno;
		}
		if (n == 0) {
			s->stdin_eof = 1;
			if (s->raw_fill % fsz) {
				pr_warn("stdin ended inside a frame: %zu trailing bytes dropped",
					s->raw_fill % fsz);
			}
		}
		s->raw_fill += (size_t)n;
		size_t frames = s->raw_fill / fsz;

		/* convert whatever whole frames have arrived: a live pipe must not wait for more */
		if (frames == 0) {
			continue;
		}
		const uint8_t *in = s->raw_buf;
		int32_t tmp[RAW_CHUNK * 8];

		if (s->raw == RAW_S24) {
			/* swr has no packed 24-bit format: widen to S32 first */
			for (size_t i = 0; i < frames * s->in_ch; i++) {
				const uint8_t *p = s->raw_buf + 3 * i;

				tmp[i] = (int32_t)((uint32_t)p[0] << 8 | (uint32_t)p[1] << 16 |
						   (uint32_t)p[2] << 24);
			}
			in = (const uint8_t *)tmp;
		}
		int rc = convert(s, &in, (int)frames);

		if (rc < 0) {
			return rc;
		}
		memmove(s->raw_buf, s->raw_buf + frames * fsz, s->raw_fill - frames * fsz);
		s->raw_fill -= frames * fsz;
	}
	return 0;
}

static int open_stdin(struct source *s, const char *input_format, char *err, size_t errlen)
{
	static const enum AVSampleFormat map[] = { AV_SAMPLE_FMT_S16, AV_SAMPLE_FMT_S32,
						   AV_SAMPLE_FMT_S32, AV_SAMPLE_FMT_FLT };
	AVChannelLayout layout;
	int rc;

	rc = parse_input_format(s, input_format, err, errlen);
	if (rc) {
		return rc;
	}
	av_channel_layout_default(&layout, (int)s->in_ch);
	rc = make_swr(s, &layout, map[s->raw], (int)s->in_rate);
	av_channel_layout_uninit(&layout);
	if (rc < 0) {
		set_err(err, errlen, "cannot convert %s to the stream format", input_format);
		return rc;
	}
	s->raw_buf = malloc(RAW_CHUNK * 4 * s->in_ch);
	if (!s->raw_buf) {
		return -ENOMEM;
	}
	snprintf(s->desc, sizeof(s->desc), "stdin (%s)", input_format);
	return 0;
}

struct source *source_open(const char *spec, const char *input_format, const struct source_fmt *fmt,
			   char *err, size_t errlen)
{
	struct source *s;
	int rc = 0;

	if (!fmt->rate || fmt->channels < 1 || fmt->channels > 8 ||
	    (fmt->bits != 16 && fmt->bits != 24 && fmt->bits != 32)) {
		set_err(err, errlen, "invalid stream format");
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		return NULL;
	}
	s->fmt = *fmt;
	s->total = -1;
	av_log_set_level(log_level >= LOG_DEBUG ? AV_LOG_INFO : AV_LOG_QUIET);
	if (!strncmp(spec, "tone:", 5)) {
		char *e;

		s->kind = SRC_TONE;
		s->freq = strtod(spec + 5, &e);
		if (*e || !(s->freq > 0) || s->freq >= fmt->rate / 2.0) {
			set_err(err, errlen, "tone frequency must be between 0 and %u Hz: '%s'",
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
	} else if (!strcmp(spec, "ramp")) {
		s->kind = SRC_RAMP;
		snprintf(s->desc, sizeof(s->desc), "ramp (%u-bit counter over interleaved samples)",
			 fmt->bits);
	} else if (!strcmp(spec, "-")) {
		s->kind = SRC_STDIN;
		rc = open_stdin(s, input_format, err, errlen);
	} else {
		s->kind = SRC_FILE;
		rc = open_file(s, spec, err, errlen);
	}
	if (rc) {
		source_free(s);
		errno = rc < 0 && rc > -4096 ? -rc : EINVAL;
		return NULL;
	}
	return s;
}

void source_free(struct source *s)
{
	if (!s) {
		return;
	}
	swr_free(&s->swr);
	av_channel_layout_uninit(&s->swr_layout);
	av_frame_free(&s->frame);
	av_packet_free(&s->pkt);
	avcodec_free_context(&s->cc);
	avformat_close_input(&s->fc);
	free(s->buf);
	free(s->raw_buf);
	free(s);
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

static long gen_read(struct source *s, int32_t *out, size_t frames)
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

long source_read(struct source *s, int32_t *out, size_t frames)
{
	size_t done = 0;

	if (s->kind == SRC_TONE || s->kind == SRC_SWEEP || s->kind == SRC_RAMP) {
		return gen_read(s, out, frames);
	}
	while (done < frames) {
		int rc = s->kind == SRC_FILE ? fill_file(s) : fill_stdin(s);
		size_t avail, n;

		if (rc < 0) {
			return rc;
		}
		avail = s->buf_frames - s->buf_off;
		if (avail == 0) {
			break;
		}
		n = avail < frames - done ? avail : frames - done;
		memcpy(out + done * s->fmt.channels, s->buf + s->buf_off * s->fmt.channels,
		       n * s->fmt.channels * sizeof(int32_t));
		s->buf_off += n;
		done += n;
		if (s->buf_off == s->buf_frames) {
			s->buf_off = s->buf_frames = 0;
		}
	}
	s->pos += done;
	return (long)done;
}

int64_t source_seek(struct source *s, int64_t delta_frames)
{
	int64_t target = (int64_t)s->pos + delta_frames;
	int rc;

	if (target < 0) {
		target = 0;
	}
	if (s->kind == SRC_STDIN) {
		return -ESPIPE;
	}
	if (s->kind == SRC_FILE) {
		AVStream *st = s->fc->streams[s->stream];
		int64_t ts = av_rescale_q(target, (AVRational){ 1, (int)s->fmt.rate }, st->time_base);

		if (st->start_time != AV_NOPTS_VALUE) {
			ts += st->start_time;
		}
		rc = avformat_seek_file(s->fc, s->stream, INT64_MIN, ts, ts, 0);
		if (rc < 0) {
			return rc;
		}
		avcodec_flush_buffers(s->cc);
		/* what the resampler and our buffer hold belongs to the old position */
		swr_close(s->swr);
		rc = swr_init(s->swr);
		if (rc < 0) {
			return rc;
		}
		s->buf_off = s->buf_frames = 0;
		s->eof_demux = s->flushed = 0;
	}
	s->pos = (uint64_t)target;
	return target;
}

int64_t source_total_frames(const struct source *s)
{
	return s->total;
}

uint64_t source_decode_errors(const struct source *s)
{
	return s->decode_errors;
}

const char *source_describe(const struct source *s)
{
	return s->desc;
}
