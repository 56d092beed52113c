// SPDX-License-Identifier: GPL-2.0-only
/*
 * Source module, files: any file or URL libavformat demuxes, decoded by libavcodec (broken frames
 * counted, not fatal), converted as the decoder's output format changes, seekable.
 */
#include <errno.h>
#include <stdio.h>

#include "txpace/log.h"
#include "source_priv.h"

static const char *averr(int e, char *b, size_t n)
{
	av_strerror(e, b, n);
	return b;
}

int source_file_open(struct source *s, const char *path, char *err, size_t errlen)
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
	s->fc->interrupt_callback = (AVIOInterruptCB){ source_interrupted, s };
	rc = avformat_open_input(&s->fc, path, NULL, NULL);
	if (rc < 0) {
		/* a missing or unreadable file says so; anything else is not media FFmpeg reads */
		if (rc == AVERROR(ENOENT) || rc == AVERROR(EACCES) || rc == AVERROR(EISDIR)) {
			source_set_err(err, errlen, "cannot open %s: %s", path,
				       averr(rc, eb, sizeof(eb)));
		} else {
			source_set_err(err, errlen,
				       "cannot open %s: not a media file FFmpeg can read (%s)", path,
				       averr(rc, eb, sizeof(eb)));
		}
		return rc;
	}
	rc = avformat_find_stream_info(s->fc, NULL);
	if (rc < 0) {
		source_set_err(err, errlen, "%s: cannot read stream info: %s", path,
			       averr(rc, eb, sizeof(eb)));
		return rc;
	}
	rc = av_find_best_stream(s->fc, AVMEDIA_TYPE_AUDIO, -1, -1, &codec, 0);
	if (rc < 0) {
		source_set_err(err, errlen, "%s: no audio stream that FFmpeg can decode", path);
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
		source_set_err(err, errlen, "%s: cannot open %s decoder: %s", path, codec->name,
			       averr(rc, eb, sizeof(eb)));
		return rc;
	}
	if (s->cc->sample_rate <= 0 || s->cc->ch_layout.nb_channels <= 0) {
		source_set_err(err, errlen, "%s: audio stream has no sample rate or channels",
			       path);
		return AVERROR_INVALIDDATA;
	}
	if (s->cc->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC) {
		int ch = s->cc->ch_layout.nb_channels;

		av_channel_layout_uninit(&s->cc->ch_layout);
		av_channel_layout_default(&s->cc->ch_layout, ch);
	}
	rc = source_swr_setup(s, &s->cc->ch_layout, s->cc->sample_fmt, s->cc->sample_rate);
	if (rc < 0) {
		source_set_err(err, errlen, "%s: cannot convert %d Hz %d ch to the stream format: %s",
			       path, s->cc->sample_rate, s->cc->ch_layout.nb_channels,
			       averr(rc, eb, sizeof(eb)));
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
		rc = source_convert(s, NULL, 0);
	} while (rc > 0);
	swr_free(&s->swr);
	if (f->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC) {
		int ch = f->ch_layout.nb_channels;

		av_channel_layout_uninit(&f->ch_layout);
		av_channel_layout_default(&f->ch_layout, ch);
	}
	return source_swr_setup(s, &f->ch_layout, (enum AVSampleFormat)f->format, f->sample_rate);
}

/* Decode until at least one converted frame is buffered or the file ends. */
int source_file_fill(struct source *s)
{
	char eb[128];
	int rc;

	while (s->buf_frames == s->buf_off && !s->flushed) {
		if (source_interrupted(s)) {
			return -EINTR;
		}
		rc = avcodec_receive_frame(s->cc, s->frame);
		if (rc == 0) {
			s->consecutive_errors = 0;
			rc = reconfigure_if_changed(s, s->frame);
			if (rc == 0) {
				rc = source_convert(s, (const uint8_t **)s->frame->extended_data,
					     s->frame->nb_samples);
			}
			av_frame_unref(s->frame);
			if (rc < 0) {
				return rc;
			}
			continue;
		}
		if (rc == AVERROR_EOF) {
			rc = source_convert(s, NULL, 0);
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

int source_file_seek(struct source *s, int64_t target)
{
	AVStream *st = s->fc->streams[s->stream];
	int64_t ts = av_rescale_q(target, (AVRational){ 1, (int)s->fmt.rate }, st->time_base);
	int rc;

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
	return 0;
}
