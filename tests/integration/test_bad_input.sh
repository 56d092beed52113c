#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Bad input gets one clear line on stderr, a non-zero exit, and leaves nothing behind.
. "$(dirname "$0")/lib.sh"


# one_line NAME WANT_STATUS PATTERN COMMAND...: exit status, exactly one stderr line matching
one_line() {
	local name=$1 want=$2 pat=$3 rc
	shift 3
	"$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	local lines
	lines=$(wc -l <"$T/err")
	if [ "$rc" -ne "$want" ]; then
		fail "$name" "exit $rc, wanted $want; stderr: $(head -c 300 "$T/err")"
	elif [ "$lines" -ne 1 ]; then
		fail "$name" "$lines lines on stderr: $(head -c 300 "$T/err")"
	elif ! grep -qE "$pat" "$T/err"; then
		fail "$name" "stderr does not say '$pat': $(cat "$T/err")"
	else
		pass "$name ($(cat "$T/err"))"
	fi
}

# random bytes (seeded: the same file every run)
python3 -c 'import random,sys; r=random.Random(7); sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(20000)))' >"$T/noise.mp3"
printf 'just some text, not audio\n' >"$T/notes.wav"
ffmpeg -v error -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=1" -c:a pcm_s16le "$T/ok.wav"
# a WAV whose header is fine but whose format tag is unknown (0x1234)
python3 - "$T/ok.wav" "$T/badtag.wav" <<'PY'
import sys
b = bytearray(open(sys.argv[1], 'rb').read())
i = b.index(b'fmt ') + 8
b[i:i + 2] = (0x1234).to_bytes(2, 'little')
open(sys.argv[2], 'wb').write(b)
PY

one_line "missing file" 1 "No such file" "$TXPACE" send 127.0.0.1:5004 "$T/none.wav"
one_line "corrupt file (random bytes)" 1 "noise.mp3: (not a media file|no audio stream)" "$TXPACE" send 127.0.0.1:5004 "$T/noise.mp3"
one_line "not audio (text)" 1 "notes.wav: not a media file" "$TXPACE" send 127.0.0.1:5004 "$T/notes.wav"
one_line "unsupported codec tag" 1 "badtag.wav" "$TXPACE" send 127.0.0.1:5004 "$T/badtag.wav"
one_line "raw stdin without a format" 2 "input-format" "$TXPACE" send 127.0.0.1:5004 -
one_line "unsupported raw format" 1 "unsupported input format" "$TXPACE" send \
	--input-format u8:48000:2 127.0.0.1:5004 -
one_line "rate out of range" 2 "rate" "$TXPACE" send --rate 7000 127.0.0.1:5004 tone:440
one_line "packet time out of range" 2 "ptime" "$TXPACE" send --ptime 30ms 127.0.0.1:5004 tone:440
one_line "unknown format" 2 "format" "$TXPACE" send --format L20 127.0.0.1:5004 tone:440
one_line "too many channels" 2 "channels" "$TXPACE" send --channels 9 127.0.0.1:5004 tone:440
one_line "unknown option" 2 "unknown option" "$TXPACE" send --bogus 127.0.0.1:5004 tone:440
one_line "PTP domain out of range" 2 "ptp-domain: '128' is not a number in 0..127" "$TXPACE" send \
	--profile aes67 --ptp-domain 128 239.69.0.1:5004 tone:440
one_line "relay: PTP domain out of range" 2 "ptp-domain: '-1' is not a number in 0..127" "$TXPACE" \
	relay --ptp-domain -1 --from 239.69.0.1:5004 --to 239.69.0.2
one_line "unknown backend" 2 "backend" "$TXPACE" send --backend fq 127.0.0.1:5004 tone:440
one_line "--stamp without edt" 2 "stamp" "$TXPACE" send --backend rt --stamp bpf 127.0.0.1:5004 tone:440
one_line "--lead not below --lookahead" 2 "lead" "$TXPACE" send --lead 200 127.0.0.1:5004 tone:440
one_line "packet too big for UDP" 1 "more than UDP" "$TXPACE" send --rate 192000 --channels 8 \
	--ptime 20ms 127.0.0.1:5004 tone:440
one_line "bad destination" 1 "not HOST" "$TXPACE" send 127.0.0.1:99999 tone:440
one_line "unknown host" 1 "unknown host" "$TXPACE" send no-such-host.invalid:5004 tone:440
one_line "unknown subcommand" 2 "unknown command" "$TXPACE" sned
one_line "measure without --listen" 2 "listen" "$TXPACE" measure
one_line "measure with a unicast --group" 2 "group" "$TXPACE" measure --listen 0.0.0.0:5004 \
	--group 10.0.0.1

# unreachable: a namespace with only loopback has no route anywhere else
ip netns add "$NS_TX"
ip -n "$NS_TX" link set lo up
one_line "unreachable destination" 1 "Network is unreachable" in_tx "$TXPACE" send --seconds 1 \
	192.0.2.1:5004 tone:440
# a receiver that is not there: every packet comes back as ICMP port unreachable
one_line "no receiver (port unreachable)" 1 "200 of 200 packets came back as errors \(Connection refused" in_tx "$TXPACE" send --quiet \
	--seconds 0.2 127.0.0.1:5004 tone:440
# a multicast group without a route and without --iface
one_line "multicast without a route" 1 "iface" in_tx "$TXPACE" send --seconds 1 \
	239.69.0.1:5004 tone:440
# a receiver that disappears mid-stream
in_tx python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 5004))
s.recv(2000); s.close()' &
r=$!
PIDS+=("$r")
wait_udp "$NS_TX" 5004
one_line "receiver disappears mid-stream" 1 "49[0-9] of 500 packets came back as errors.*RTP seq" in_tx "$TXPACE" send --quiet \
	--seconds 0.5 127.0.0.1:5004 tone:440
wait $r
ip netns del "$NS_TX"

# nothing left behind: no saved state, no pinned objects, no namespaces of ours
check "no interface state left in /run/txpace" test -z "$(ls /run/txpace/*.state 2>/dev/null)"
check "no pinned BPF objects left" test ! -e /sys/fs/bpf/txpace
# (this script's own: other tests on the machine may have theirs meanwhile)
check "no network namespaces of this script left" bash -c "! ip netns list | grep -q '^txp$$'"
exit $FAILED
