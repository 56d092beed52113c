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
# Then 8 ms RAOP rows to a real receiver (RAOP=0 skips them) and, with GUEST=1, edt against rt
# in the 6.1 guest (wake-ups of the hand-off thread). Rates are per second of the stream's life
# (start to report: RAOP's include the wait for the receiver to play out, about 2.3 s).
# usage: bench/cost.sh [SECONDS_PER_RUN (10)] [ROUNDS (3)]
#   (ROWS="auto s200 s0 abs", RAOP_SPINS="auto 200 0"; with TXPACE_B=BINARY also autoB in either)
set -u
cd "$(dirname "$0")/.."
SECS=${1:-10}
ROUNDS=${2:-3}
ROWS=${ROWS:-"auto s200 s0 abs"}
RAOP_SPINS=${RAOP_SPINS:-"auto 200 0"}
# TXPACE_B=BINARY: another build of txpace, as the rows autoB (1 ms) and RAOP_SPINS autoB, for
# an A/B comparison of two builds in the same rounds
TXPACE_B=${TXPACE_B:-}
export RAOP_SPINS
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

send_txpace() { # REPORT SPIN [BINARY]
	ip netns exec "$NS_TX" "${3:-$TXPACE}" send --quiet --backend rt --seconds "$SECS" --spin "$2" \
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
	autoB) send_txpace "$base.tx.json" auto "$TXPACE_B" ;;
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
# 8 ms RAOP rows: txpace rt to a real receiver (Debian's shairport-sync, in its own namespace,
# from tests/integration/lib.sh), interleaved the same way; no plain loop speaks RAOP, so the
# figure is txpace's own departure error (SND stamp - launch), and the cost
if [ "${RAOP:-1}" = 1 ] && command -v shairport-sync >/dev/null; then
	(
		. tests/integration/lib.sh
		start_airplay CostRx || exit 1
		for r in $(seq 1 "$ROUNDS"); do
			for spin in $RAOP_SPINS; do
				echo "  round $r: raop --spin $spin" >&2
				bin=$TXPACE
				[ "$spin" = autoB ] && bin=$TXPACE_B
				in_ap "$bin" send --profile raop --quiet --backend rt --spin ${spin%B} \
					--seconds "$SECS" --report "$OUT/raop-$spin.$r.tx.json" 127.0.0.1 tone:1000 \
					>"$OUT/raop-$spin.$r.log" 2>&1 || echo "bench: raop --spin $spin failed" >&2
			done
		done
	)
fi
# edt in the 6.1 guest (qemu TCG, scripts/guest.sh; GUEST=1): wake-ups and CPU of the hand-off
# thread (--lead 20 ms, every lead / 2) against rt --spin auto, 1 ms L24, same rounds
if [ "${GUEST:-0}" = 1 ]; then
	cat >"$OUT/guest.sh" <<GEOF
#!/bin/bash
ip netns add tx; ip netns add rx
ip link add v_tx netns tx type veth peer name v_rx netns rx
ip -n tx addr add 192.168.67.1/24 dev v_tx; ip -n rx addr add 192.168.67.2/24 dev v_rx
ip -n tx link set v_tx up; ip -n rx link set v_rx up
ip netns exec rx /build/txpace measure --listen 0.0.0.0:5004 >/dev/null 2>&1 &
for r in \$(seq 1 $ROUNDS); do
	for b in edt rt; do
		ip netns exec tx /build/txpace send --quiet --backend \$b --lead 20 --seconds $SECS --report /tmp/\$b.json 192.168.67.2:5004 tone:1000 2>/dev/null
		echo "GROW \$b \$r \$(jq -c '{p50: .stamps_us.snd.p50, p99: .stamps_us.snd.p99, p999: .stamps_us.snd.p999, early, cost}' /tmp/\$b.json)"
	done
done
GEOF
	chmod +x "$OUT/guest.sh"
	scripts/guest.sh run --timeout $((SECS * ROUNDS * 2 * 3 + 180)) "$OUT/guest.sh" "$TXPACE" \
		"$(command -v jq)" | grep '^GROW' >"$OUT/guest.rows"
fi
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
label = {"autoB": "txpace B rt --spin auto", "auto": "txpace rt --spin auto", "s200": "txpace rt --spin 200", "s0": "txpace rt --spin 0",
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
                     pwake=c.get("process_wakeups_per_s"),
                     rss=c["rss_kib"] / 1024, lck=c["locked_kib"] / 1024,
                     steal=tx["machine"]["steal_ms"], late99=tx["machine"]["wake_late_us"]["p99"],
                     spin=tx["realtime"]["spin_us"], spinmax=tx["realtime"].get("spin_max_us", 0))
        t = load(f"{out}/{r}.{k}.time.json")
        if t:
            w = t["wall_s"] or 1
            d.update(pcpu=100 * (t["user_s"] + t["sys_s"]) / w, pwake=t["vol_cs"] / w,
                     rss=t["maxrss_kib"] / 1024)
        res[r].append((k, d))
def med(r, key):
    v = [d[key] for _, d in res[r] if d.get(key) is not None]
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
      f"{'wake/s':>7} {'all/s':>7} {'RSS MiB':>8} {'lock MiB':>8} {'lost':>5} {'late p99':>8}")
for r in rows:
    print(f"{label.get(r, r):28} {f(med(r,'p50')):>7} {f(med(r,'p99')):>7} {f(med(r,'p999')):>8} "
          f"{f(ratio(r), '%.2f'):>8} {f(med(r,'cpu')):>7} {f(med(r,'pcpu')):>6} {f(med(r,'wake'), '%.0f'):>7} "
          f"{f(med(r,'pwake'), '%.0f'):>7} "
          f"{f(med(r,'rss')):>8} {f(med(r,'lck')):>8} {f(med(r,'lost'), '%.0f'):>5} {f(med(r,'late99')):>8}")
print(f"(medians over {rounds} rounds of {len(rows)} rows; p99/s200 = the median of each round's p99 ratio;"
       " pacer% and proc% of one core; wake/s = the pacer's wake-ups, all/s = the process's sleeps"
      " (voluntary context switches, every thread); late p99 = the pacer's own wake-up lateness, us)")
def raop_row(spin, k):
    tx = load(f"{out}/raop-{spin}.{k}.tx.json")
    if not tx:
        return None
    e, c = tx["departure_error_us"], tx["cost"]
    return {"p50": e["p50"], "p99": e["p99"], "p999": e["p999"], "cpu": c["pacer_cpu_pct"],
            "pcpu": c["process_cpu_pct"], "wake": c["wakeups_per_s"], "rss": c["rss_kib"] / 1024,
            "late99": tx["machine"]["wake_late_us"]["p99"], "late": tx["late"]}
raop = {s: [(k, raop_row(s, k)) for k in range(1, rounds + 1)] for s in os.environ.get("RAOP_SPINS", "auto 200 0").split()}
raop = {s: [(k, d) for k, d in v if d] for s, v in raop.items()}
if any(raop.values()):
    print()
    print(f"RAOP to shairport-sync (8 ms packets, 352 frames), txpace rt: departure error, SND stamp - launch (us)")
    print(f"{'sender':28} {'p50':>7} {'p99':>7} {'p99.9':>8} {'p99/s200':>8} {'pacer%':>7} {'proc%':>6} "
          f"{'wake/s':>7} {'RSS MiB':>8} {'late p99':>8}")
    base = dict(raop.get("200", []))
    for s, v in raop.items():
        m = lambda key: statistics.median(d[key] for _, d in v) if v else None
        rr = [d["p99"] / base[k]["p99"] for k, d in v if k in base and base[k]["p99"] > 0]
        print(f"{'txpace rt --spin ' + s:28} {f(m('p50')):>7} {f(m('p99')):>7} {f(m('p999')):>8} "
              f"{f(statistics.median(rr) if rr else None, '%.2f'):>8} {f(m('cpu')):>7} {f(m('pcpu')):>6} "
              f"{f(m('wake'), '%.0f'):>7} {f(m('rss')):>8} {f(m('late99')):>8}")
if os.path.exists(f"{out}/guest.rows"):
    g = {}
    for line in open(f"{out}/guest.rows"):
        _, b, k, v = line.split(" ", 3)
        g.setdefault(b, []).append(json.loads(v))
    if g:
        print()
        print("In the 6.1 guest (qemu TCG), 1 ms L24, --lead 20: departure error (SND stamp - launch, us) and cost"
              " (wake/s: the pacer's; all/s: every thread's sleeps)")
        print(f"{'backend':28} {'p50':>7} {'p99':>7} {'p99.9':>8} {'early':>6} {'pacer%':>7} {'proc%':>6} {'wake/s':>7} {'all/s':>7} {'RSS MiB':>8}")
        for b, v in g.items():
            m = lambda fn: statistics.median(fn(x) for x in v)
            print(f"{b:28} {f(m(lambda x: x['p50'])):>7} {f(m(lambda x: x['p99'])):>7} {f(m(lambda x: x['p999'])):>8} "
                  f"{f(m(lambda x: x['early']), '%.0f'):>6} {f(m(lambda x: x['cost']['pacer_cpu_pct'])):>7} "
                  f"{f(m(lambda x: x['cost']['process_cpu_pct'])):>6} {f(m(lambda x: x['cost']['wakeups_per_s']), '%.0f'):>7} "
                  f"{f(m(lambda x: x['cost'].get('process_wakeups_per_s', 0)), '%.0f'):>7} "
                  f"{f(m(lambda x: x['cost']['rss_kib'] / 1024)):>8}")
for p in ("rtp", "aes67"):
    fn = f"{out}/callgrind.{p}.txt"
    if os.path.exists(fn):
        m = re.search(r"Collected : (\d+)", open(fn).read())
        if m:
            print(f"callgrind, send --profile {p} (sleep backend, 2 s = 2000 packets): {int(m.group(1)) / 2000:.0f} instructions per packet (start-up included)")
PY
