/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * AirPlay 2 realtime audio (stream type 96): the binary-plist bodies of GET /info and the two
 * SETUPs, and the audio packet's ChaCha20-Poly1305 seal. Parsers take a receiver's bytes (fuzzed:
 * tests/fuzz/fuzz_ap2.c) and give -EPROTO with one line, never a crash.
 */
#ifndef TXPACE_AIRPLAY2_H
#define TXPACE_AIRPLAY2_H

#include <stddef.h>
#include <stdint.h>

#define AP2_RATE	44100
#define AP2_SPF		352	/* frames per packet: shairport-sync hard-wires ALAC/44100/16/2/352 */
#define AP2_TYPE_REALTIME 96
#define AP2_TYPE_BUFFERED 103
#define AP2_CT_ALAC	2
#define AP2_FMT_ALAC_44100_16_2 0x40000
/* buffered audio (type 103): AAC-LC's compression type and format bit (public lists; shairport-sync
 * 5.2.1 only logs them and decodes by the packet's SSRC field instead) */
#define AP2_CT_AAC	4
#define AP2_FMT_AAC_LC_44100_2 0x400000
#define AP2_AAC_SPF	1024	/* AAC-LC frames per packet */
/* buffered: the SSRC field names the encoding (shairport-sync 5.2.1's player.h values) */
#define AP2_SSRC_ALAC_44100_16_2 0x0000FACEu
#define AP2_SSRC_AAC_44100_2	0x16000000u
#define AP2_BUF_LEN_FIELD 2	/* a buffered record starts with its u16 big-endian length */
#define AP2_BUF_OVERHEAD (AP2_BUF_LEN_FIELD + 12 + AP2_TRAILER)	/* record bytes beyond the payload */
#define AP2_TAG_LEN	16
#define AP2_NONCE_TAIL	8
#define AP2_TRAILER	(AP2_TAG_LEN + AP2_NONCE_TAIL)	/* bytes the seal adds to a packet */
/* What recent HomePod software accepts (it answers 403 to other agents, owntone#2042). */
#define AP2_USER_AGENT	"AirPlay/665.13.1"

struct ap2_info {
	uint64_t features;
	int features_known;
	uint32_t status_flags;
	char device_id[24], name[128], model[64], source_version[32];
	uint8_t pk[32];
	int have_pk;
	double initial_volume;
	int have_volume;
};

/** The binary plist of GET /info. @return 0 or -EPROTO with a line */
int ap2_info_parse(const uint8_t *buf, size_t len, struct ap2_info *out, char *err, size_t errlen);

struct ap2_session_req {
	const char *name;		/* our name, as the receiver shows it */
	const char *address;		/* our address on the RTSP connection (timingPeerInfo) */
	const char *device_id;		/* our "AA:BB:CC:DD:EE:FF" */
	const char *group_uuid, *session_uuid;
};

/** SETUP (session) with timingProtocol PTP. @return 0 with @out malloc'd, or -ENOMEM */
int ap2_session_body(const struct ap2_session_req *r, uint8_t **out, size_t *len);

struct ap2_session_reply {
	uint16_t event_port, timing_port;
	char peer_addr[64];		/* timingPeerInfo.Addresses[0], if any */
};

/**
 * The answer to SETUP (session). shairport-sync 5 answers 200 with an EMPTY body to what it
 * refuses (an NTP session among them): an empty or eventPort-less body is a refusal.
 * @return 0, or -EPROTO with a line
 */
int ap2_session_reply_parse(const uint8_t *buf, size_t len, struct ap2_session_reply *out,
			    char *err, size_t errlen);

struct ap2_stream_req {
	uint32_t type;			/* AP2_TYPE_REALTIME (0 also) or AP2_TYPE_BUFFERED */
	uint32_t ct, audio_format, spf;	/* 0: realtime ALAC's */
	uint8_t shk[32];		/* the audio key */
	uint16_t control_port;		/* ours */
	uint32_t latency_min, latency_max;	/* frames */
	uint64_t connection_id;
};

/** SETUP (stream): realtime ALAC, or buffered as @r says. @return 0 with @out malloc'd, or -ENOMEM */
int ap2_stream_body(const struct ap2_stream_req *r, uint8_t **out, size_t *len);

struct ap2_stream_reply {
	uint16_t data_port, control_port;
	uint64_t buffer_size;		/* buffered: streams[0].audioBufferSize (bytes), 0 if none */
};

/** The answer to SETUP (stream): streams[0].dataPort/controlPort (audioBufferSize). @return 0 or -EPROTO */
int ap2_stream_reply_parse(const uint8_t *buf, size_t len, struct ap2_stream_reply *out,
			   char *err, size_t errlen);

/**
 * Seal an audio packet in place: @pkt holds the 12-byte RTP header and @len - 12 bytes of ALAC;
 * the payload is encrypted (ChaCha20-Poly1305-IETF, key @shk, AAD = header bytes 4..11) and
 * followed by the 16-byte tag and the 8 nonce bytes (@nonce, little-endian: the packet's own
 * number, so a resend is byte-identical). @pkt needs @len + AP2_TRAILER bytes.
 * @return the sealed length, or -EIO
 */
int ap2_seal_audio(const uint8_t shk[32], uint8_t *pkt, size_t len, uint64_t nonce);
/** The receiver's side (tests): @return the ALAC length in place of the ciphertext, or -EBADMSG */
int ap2_open_audio(const uint8_t shk[32], uint8_t *pkt, size_t len);

/*
 * Buffered audio (stream type 103) on the TCP data channel: each record is a u16 big-endian
 * length (counting itself), then a 12-byte header (byte 0 0x80, bytes 1-3 the 23-bit sequence
 * number, 4-7 the RTP time, 8-11 the encoding as AP2_SSRC_*), the payload sealed as
 * ap2_seal_audio does (AAD header bytes 4..11), the tag and the 8 nonce bytes.
 */
/** Write a record's length field placeholder and header to @rec (the payload goes at rec + 14). */
void ap2_buffered_header(uint8_t *rec, uint32_t seq, uint32_t ts, uint32_t ssrc);
/**
 * Seal the @payload_len bytes at rec + 14 in place (nonce @nonce) and fill the length field.
 * @rec needs AP2_BUF_OVERHEAD + @payload_len bytes. @return the record's length, or -EIO/-E2BIG
 */
int ap2_buffered_seal(const uint8_t shk[32], uint8_t *rec, size_t payload_len, uint64_t nonce);

struct ap2_buffered_pkt {
	uint32_t seq, ts, ssrc;
	const uint8_t *payload;		/* inside the record, opened in place */
	size_t payload_len;
	size_t record_len;		/* bytes of @rec this record took */
};

/**
 * The receiver's side (tests, fuzzing): open the record at the start of @rec (@len bytes there).
 * @return 1 with @out filled, 0 when more bytes are needed, -EPROTO (bad length), -EBADMSG (seal)
 */
int ap2_buffered_open(const uint8_t shk[32], uint8_t *rec, size_t len, struct ap2_buffered_pkt *out);

struct ap2_rate_anchor {
	int rate;			/* 1 play, 0 stop */
	uint32_t rtp;			/* rate 1: this RTP time plays ... */
	uint64_t ptp_ns;		/* ... at this PTP time */
	uint64_t clock_id;		/* of this PTP master (networkTimeTimelineID) */
};

/** SETRATEANCHORTIME's body. @return 0 with @out malloc'd, or -ENOMEM */
int ap2_rate_anchor_body(const struct ap2_rate_anchor *r, uint8_t **out, size_t *len);
/** FLUSHBUFFERED's body (immediate: drop what is held until @until_seq, which is kept). */
int ap2_flush_buffered_body(uint32_t until_seq, uint32_t until_ts, uint8_t **out, size_t *len);

struct profile_opts;

/**
 * `txpace pair`: PIN pair-setup (M1-M6) with the receiver @o names (to_name or dest_s), asking it
 * to show a PIN first (POST /pair-pin-start); the receiver's key is stored in @o->pair_dir under
 * its device id (written to @id), and later streams pair-verify with it.
 * @return 0, or -errno with the one line in @err (wrong PIN, refused, unreachable, ...)
 */
int airplay2_pair_pin(const struct profile_opts *o, const char *pin, char *id, size_t idcap,
		      char *err, size_t errlen);
/** Forget the receiver stored under @id. @return 0, -ENOENT, or -errno with a line */
int airplay2_unpair(const struct profile_opts *o, const char *id, char *err, size_t errlen);

#endif
