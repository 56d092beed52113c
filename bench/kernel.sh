#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Kernel pacing benchmarks, as root after `make`:
#  1. here: the deadline watchdog's lateness (bpf_timer BPF_F_TIMER_ABS expiry - deadline) on a
#     1 ms stream vs cyclictest's wake-up latency, same script, interleaved rounds;
#  2. in the 6.1 guest (qemu TCG, scripts/guest.sh): departure error (SND stamp - launch) of
#     edt (root fq + BPF stamps) vs the rt thread, interleaved rounds. TCG time is coarse: read
#     the ratio, not the microseconds.
# Usage: bench/kernel.sh [SECONDS] [ROUNDS]   (default 10 3)
set -u
cd "$(dirname "$0")/.."
SECS=${1:-10} ROUNDS=${2:-3}
TXPACE=$PWD/build/txpace
W=$(mktemp -d /tmp/txpace-kbench.XXXXXX)
NS=txpkb$$
cleanup() { ip netns del ${NS}tx 2>/dev/null; ip netns del ${NS}rx 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
ip netns add ${NS}tx && ip netns add ${NS}rx
ip link add kb$$a type veth peer name kb$$b
ip link set kb$$a netns ${NS}tx && ip link set kb$$b netns ${NS}rx
ip -n ${NS}tx addr add 192.168.68.1/24 dev kb$$a && ip -n ${NS}rx addr add 192.168.68.2/24 dev kb$$b
ip -n ${NS}tx link set kb$$a up && ip -n ${NS}rx link set kb$$b up
# a plain receiver (nothing bounces); ip execs python, so $RX is its PID
ip netns exec ${NS}rx python3 -c '
import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0",5004))
while True: s.recv(65536)' >/dev/null 2>&1 </dev/null &
RX=$!
trap 'kill $RX 2>/dev/null; cleanup' EXIT

echo "== watchdog lateness vs cyclictest (this machine, $(uname -r)), ${SECS} s x ${ROUNDS}"
for r in $(seq 1 "$ROUNDS"); do
	ip netns exec ${NS}tx "$TXPACE" send --quiet --backend rt --watch --grace 1000 \
		--seconds "$SECS" --report "$W/watch$r.json" 192.168.68.2:5004 tone:440 2>/dev/null
	cyclictest -m -p80 -i1000 -l$((SECS * 1000)) -q -t1 -h 2000 >"$W/cyc$r.txt" 2>/dev/null
done
python3 - "$W" "$ROUNDS" <<'PY'
import json, sys, statistics as st
w, n = sys.argv[1], int(sys.argv[2])
def cyc(path):
    h = {}
    for line in open(path):
        if line[:1].isdigit():
            us, c = line.split()[:2]; h[int(us)] = int(c)
    tot = sum(h.values()); out = {}
    for q in (0.5, 0.99, 0.999):
        acc = 0
        for us in sorted(h):
            acc += h[us]
            if acc >= q * tot: out[q] = us; break
    out['max'] = max(k for k, v in h.items() if v)
    return out
rows = {'watchdog (bpf_timer ABS)': [], 'cyclictest -p80': []}
for r in range(1, n + 1):
    j = json.load(open(f"{w}/watch{r}.json"))["kernel"]["watch_lateness_us"]
    rows['watchdog (bpf_timer ABS)'].append((j['p50'], j['p99'], j['p999'], j['max']))
    c = cyc(f"{w}/cyc{r}.txt")
    rows['cyclictest -p80'].append((c[0.5], c[0.99], c[0.999], c['max']))
print("| waker | p50 us | p99 us | p99.9 us | max us | (median of rounds; per-round p99) |")
print("|---|---|---|---|---|---|")
for k, v in rows.items():
    med = [st.median(x[i] for x in v) for i in range(4)]
    print(f"| {k} | {med[0]:.0f} | {med[1]:.0f} | {med[2]:.0f} | {med[3]:.0f} | {[x[1] for x in v]} |")
a = [x[1] for x in rows['watchdog (bpf_timer ABS)']]; b = [x[1] for x in rows['cyclictest -p80']]
print(f"p99 ratio watchdog/cyclictest per round: {[round(x / y, 2) if y else None for x, y in zip(a, b)]}")
PY

echo
echo "== edt vs rt in the 6.1 guest (qemu TCG), ${SECS} s x ${ROUNDS}"
cat >"$W/guest.sh" <<GEOF
#!/bin/bash
ip netns add tx; ip netns add rx
ip link add v_tx netns tx type veth peer name v_rx netns rx
ip -n tx addr add 192.168.67.1/24 dev v_tx; ip -n rx addr add 192.168.67.2/24 dev v_rx
ip -n tx link set v_tx up; ip -n rx link set v_rx up
ip netns exec rx /build/txpace measure --listen 0.0.0.0:5004 >/dev/null 2>&1 &
for r in \$(seq 1 $ROUNDS); do
	for b in edt rt; do
		ip netns exec tx /build/txpace send --quiet --backend \$b --seconds $SECS --report /tmp/\$b.json 192.168.67.2:5004 tone:440 2>/dev/null
		echo "ROW \$b \$(jq -c '[.stamps_us.snd.p50, .stamps_us.snd.p99, .stamps_us.snd.p999, .stamps_us.snd.max, .early]' /tmp/\$b.json)"
	done
done
GEOF
chmod +x "$W/guest.sh"
scripts/guest.sh run --timeout $((SECS * ROUNDS * 2 * 3 + 120)) "$W/guest.sh" "$TXPACE" "$(command -v jq)" |
	grep '^ROW' | python3 -c '
import sys, json, statistics as st
rows = {}
for line in sys.stdin:
    _, b, v = line.split(" ", 2); rows.setdefault(b, []).append(json.loads(v))
print("| backend | p50 us | p99 us | p99.9 us | max us | early | (per-round p99) |")
print("|---|---|---|---|---|---|---|")
for b, v in rows.items():
    m = [st.median(x[i] for x in v) for i in range(5)]
    print(f"| {b} | {m[0]:.0f} | {m[1]:.0f} | {m[2]:.0f} | {m[3]:.0f} | {m[4]:.0f} | {[round(x[1]) for x in v]} |")
if "edt" in rows and "rt" in rows:
    r = [e[1] / t[1] for e, t in zip(rows["edt"], rows["rt"]) if t[1]]
    print(f"p99 ratio edt/rt per round: {[round(x, 2) for x in r]}, median {st.median(r):.2f}")
'
