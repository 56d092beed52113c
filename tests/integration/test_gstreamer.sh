#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Real peers: GStreamer receives txpace streams (payload bit-exact to FFmpeg's own decode of the
# source), and txpace measure receives a GStreamer sender.
. "$(dirname "$0")/lib.sh"
command -v gst-launch-1.0 >/dev/null || { fail "gstreamer" "gst-launch-1.0 missing (scripts/install-deps.sh)"; exit 1; }
make_pair || { fail "namespaces" "cannot create the veth pair"; exit 1; }

ffmpeg -v error -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=2" -ac 2 \
	-c:a pcm_s16le "$T/in.wav"
ffmpeg -v error -i "$T/in.wav" -c:a flac "$T/in.flac"
ffmpeg -v error -f lavfi -i "sine=frequency=1000:sample_rate=44100:duration=2.5" -ac 2 \
	-c:a libmp3lame -b:a 192k "$T/in.mp3"

caps() { # ENCODING CHANNELS
	echo "application/x-rtp,media=(string)audio,clock-rate=(int)48000,encoding-name=(string)$1,encoding-params=(string)$2,channels=(int)$2,payload=(int)96"
}

# gst_case NAME SOURCE BITS CHANNELS UDPSRC_ARGS DEST SEND_ARGS...
gst_case() {
	local name=$1 src=$2 bits=$3 ch=$4 uargs=$5 dest=$6 enc
	shift 6
	enc=L$bits
	# the reference: FFmpeg decodes (and resamples) the source to the stream format itself
	ffmpeg -v error -i "$T/$src" -ar 48000 -ac "$ch" -f "s${bits}be" "$T/$name.ref"
	bg_rx "$T/$name.gst.log" gst-launch-1.0 -e -q udpsrc $uargs port=5004 caps="$(caps $enc $ch)" \
		! "rtp${enc}depay" ! filesink location="$T/$name.out"
	local g=$BG
	wait_udp "$NS_RX" 5004 || { fail "$name" "GStreamer did not start"; return; }
	if ! in_tx "$TXPACE" send --quiet "$@" --format $enc --channels "$ch" "$dest" "$T/$src" \
		2>"$T/$name.err"; then
		fail "$name" "send: $(cat "$T/$name.err")"
	fi
	stop $g
	# the last packet is padded with silence: at most one packet of zeros after the source
	check "$name: GStreamer's output is the source, bit for bit" \
		same_prefix "$T/$name.ref" "$T/$name.out" $((48 * ch * bits / 8))
}

gst_case wav_l24 in.wav 24 2 "" $RX4:5004
gst_case flac_l24 in.flac 24 2 "" $RX4:5004
gst_case mp3_l24_resampled in.mp3 24 2 "" $RX4:5004
gst_case wav_l16_multicast in.wav 16 2 "address=$GROUP4 multicast-iface=v_rx" $GROUP4:5004 --iface v_tx
gst_case mp3_l16_mono_v6 in.mp3 16 1 "address=$RX6" "[$RX6]:5004"

# GStreamer sends (1 ms L24 stereo packets, live), txpace measure receives
bg_rx "$T/gsend.json" "$TXPACE" measure --json --listen 0.0.0.0:5004
m=$BG
if wait_udp "$NS_RX" 5004; then
	in_tx gst-launch-1.0 -q audiotestsrc is-live=true num-buffers=500 samplesperbuffer=48 \
		! audio/x-raw,format=S24BE,rate=48000,channels=2 \
		! rtpL24pay min-ptime=1000000 max-ptime=1000000 \
		! udpsink host=$RX4 port=5004 sync=true
	stop $m
	check "measure of a GStreamer sender: 500 packets, RTP step 48, nothing lost" \
		jq_check "$T/gsend.json" '.packets == 500 and .lost == 0 and .rtp_step.value == 48 and
			.rtp_step.errors == 0 and .interval_us.p50 > 900 and .interval_us.p50 < 1100'
else
	fail "gstreamer sender" "measure did not start"
fi
exit $FAILED
