#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# What precision costs: txpace rt with --spin auto, --spin 200 and --spin 0 against the plain
# abs clock_nanosleep + SCHED_FIFO loop, 1 ms L24 stereo over a veth pair between private
# namespaces (txpace measure takes kernel RX stamps in the receiver's). Rounds are interleaved
# (A B C D A B C D ...) because this VM's noise comes and goes; each round's p99 is also given
# as a ratio to --spin 200's in the same round, and the medians over rounds are reported.
# Per row: receiver p50/p99/p99.9 (us), CPU (% of a core: the pacer thread's and the whole
# process's for txpace, the process's for the plain loop), wake-ups per second, RSS and locked
# memory (MiB), and the machine's steal and the pacer's own wake-up lateness p99 (txpace).
# Optional: CALLGRIND=1 also counts instructions per packet of `send` (sleep backend, 2 s).
#
# usage: bench/cost.sh [SECONDS_PER_RUN (10)] [ROUNDS (3)]   (ROWS="auto s200 s0 abs")
set -u
cd "$(dirname "$0")/.."
SECS=${1:-10}
ROUNDS=${2:-3}
ROWS=${ROWS:-"auto s200 s0 abs"}
N=$((SECS * 1000))
TXPACE=$PWD/build/txpace
PLAIN=$PWD/build/bench/plain_sender
OUT=$PWD/build/bench/cost-$(date +%Y%m%d-%H%M%S)
NS_TX="txpc$$tx" NS_RX="txpc$$rx"
RX=192.168.67.2
mkdir -p "$OUT"
for b in "$TXPACE" "$PLAIN"; do
	[ -x "$b" ] || { echo "bench: build first (make)" >&2; exit 1; }
done

M=""
cleanup() {
	[ -n "$M" ] && kill "$M" 2>/dev/null
	ip netns del "$NS_TX" 2>/dev/null
	ip netns del "$NS_RX" 2>/dev/null
}
trap cleanup EXIT
ip netns add "$NS_TX" && ip netns add "$NS_RX" || exit 1
ip link add "c$$t" type veth peer name "c$$r"
ip link set "c$$t" netns "$NS_TX" && ip link set "c$$r" netns "$NS_RX"
ip -n "$NS_TX" addr add 192.168.67.1/24 dev "c$$t" && ip -n "$NS_RX" addr add $RX/24 dev "c$$r"
for ns in "$NS_TX" "$NS_RX"; do ip -n "$ns" link set lo up; done
ip -n "$NS_TX" link set "c$$t" up && ip -n "$NS_RX" link set "c$$r" up

send_txpace() { # REPORT SPIN
	ip netns exec "$NS_TX" "$TXPACE" send --quiet --backend rt --seconds "$SECS" --spin "$2" \
		--report "$1" $RX:5004 tone:1000
}

run() { # ROW ROUND
	local base=$OUT/$1.$2 i
	ip netns exec "$NS_RX" "$TXPACE" measure --json --listen 0.0.0.0:5004 >"$base.rx.json" &
	M=$!
	for i in $(seq 1 200); do
		ip netns exec "$NS_RX" ss -Hlun "sport = :5004" | grep -q . && break
		sleep 0.05
	done
	case $1 in
	auto) send_txpace "$base.tx.json" auto ;;
	s200) send_txpace "$base.tx.json" 200 ;;
	s0) send_txpace "$base.tx.json" 0 ;;
	abs) /usr/bin/time -f '{"user_s":%U,"sys_s":%S,"wall_s":%e,"maxrss_kib":%M,"vol_cs":%w,"invol_cs":%c}' \
		-o "$base.time.json" ip netns exec "$NS_TX" "$PLAIN" abs $RX 5004 "$N" 80 ;;
	esac >"$base.log" 2>&1 || echo "bench: $1 failed (see $base.log)" >&2
	kill -INT "$M"
	wait "$M"
	M=""
}

echo "bench: $ROUNDS rounds of [$ROWS], $SECS s each; raw results in $OUT" >&2
for r in $(seq 1 "$ROUNDS"); do
	for row in $ROWS; do
		echo "  round $r: $row" >&2
		run "$row" "$r"
	done
done
if [ "${CALLGRIND:-0}" = 1 ] && command -v valgrind >/dev/null; then
	for p in rtp aes67; do
		valgrind --tool=callgrind --callgrind-out-file=/dev/null "$TXPACE" send --quiet \
			--backend sleep --profile $p --sap-interval 0 --seconds 2 127.0.0.1:9 tone:1000 \
			2>"$OUT/callgrind.$p.txt" >/dev/null
	done
fi
python3 - "$OUT" "$ROUNDS" "$ROWS" <<'PY'
import json, re, statistics, sys, os
out, rounds, rows = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()
label = {"auto": "txpace rt --spin auto", "s200": "txpace rt --spin 200", "s0": "txpace rt --spin 0",
         "abs": "plain abs + SCHED_FIFO 80"}
def load(p):
    try:
        return json.load(open(p))
    except Exception:
        return None
res = {r: [] for r in rows}
for k in range(1, rounds + 1):
    for r in rows:
        rx = load(f"{out}/{r}.{k}.rx.json")
        if not rx:
            continue
        d = {"p50": rx["deviation_us"]["p50"], "p99": rx["deviation_us"]["p99"],
             "p999": rx["deviation_us"]["p999"], "lost": rx["lost"]}
        tx = load(f"{out}/{r}.{k}.tx.json")
        if tx:
            c = tx["cost"]
            d.update(cpu=c["pacer_cpu_pct"], pcpu=c["process_cpu_pct"], wake=c["wakeups_per_s"],
                     rss=c["rss_kib"] / 1024, lck=c["locked_kib"] / 1024,
                     steal=tx["machine"]["steal_ms"], late99=tx["machine"]["wake_late_us"]["p99"],
                     spin=tx["realtime"]["spin_us"], spinmax=tx["realtime"].get("spin_max_us", 0))
        t = load(f"{out}/{r}.{k}.time.json")
        if t:
            w = t["wall_s"] or 1
            d.update(pcpu=100 * (t["user_s"] + t["sys_s"]) / w, wake=(t["vol_cs"] + t["invol_cs"]) / w,
                     rss=t["maxrss_kib"] / 1024)
        res[r].append((k, d))
def med(r, key):
    v = [d[key] for _, d in res[r] if key in d]
    return statistics.median(v) if v else None
def ratio(r):
    v = []
    base = dict(res.get("s200", []))
    for k, d in res[r]:
        if k in base and base[k]["p99"] > 0:
            v.append(d["p99"] / base[k]["p99"])
    return statistics.median(v) if v else None
f = lambda x, fmt="%.1f": "-" if x is None else fmt % x
print(f"{'sender':28} {'p50':>7} {'p99':>7} {'p99.9':>8} {'p99/s200':>8} {'pacer%':>7} {'proc%':>6} "
      f"{'wake/s':>7} {'RSS MiB':>8} {'lock MiB':>8} {'lost':>5} {'late p99':>8}")
for r in rows:
    print(f"{label.get(r, r):28} {f(med(r,'p50')):>7} {f(med(r,'p99')):>7} {f(med(r,'p999')):>8} "
          f"{f(ratio(r), '%.2f'):>8} {f(med(r,'cpu')):>7} {f(med(r,'pcpu')):>6} {f(med(r,'wake'), '%.0f'):>7} "
          f"{f(med(r,'rss')):>8} {f(med(r,'lck')):>8} {f(med(r,'lost'), '%.0f'):>5} {f(med(r,'late99')):>8}")
print(f"(medians over {rounds} rounds of {len(rows)} rows; p99/s200 = the median of each round's p99 ratio;"
      " pacer% and proc% of one core; late p99 = the pacer's own wake-up lateness, us)")
for p in ("rtp", "aes67"):
    fn = f"{out}/callgrind.{p}.txt"
    if os.path.exists(fn):
        m = re.search(r"Collected : (\d+)", open(fn).read())
        if m:
            print(f"callgrind, send --profile {p} (sleep backend, 2 s = 2000 packets): {int(m.group(1)) / 2000:.0f} instructions per packet (start-up included)")
PY
