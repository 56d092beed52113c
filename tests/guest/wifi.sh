#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs inside Debian's full amd64 kernel (tests/integration/test_wifi.sh boots it with
# mac80211_hwsim and the CCMP crypto; extra files: build/txpace, jq, hostapd, wpa_supplicant,
# iw): a real Wi-Fi link between two simulated radios. hostapd (WPA2-PSK, CCMP) serves an
# access point on one radio in this namespace; wpa_supplicant joins it from the other radio,
# moved into a namespace of its own ("sta") as the Raspberry Pi would be: a station whose default
# route is the access point. txpace sends from the station (nl80211 power save is a station's
# state: an access point has none), `txpace measure` receives on the access point's side.
# Checked, each independently of txpace (iw reads the power save state, tc the qdiscs, the
# receiver counts what arrived):
#  - power save ON before a stream is off while its packets flow and on again after it: for the
#    edt backend `--backend auto` picks here, for rt (what it picks for the Pi's brcmfmac), for
#    rt --watch without BTF (the Pi's whole path), and after `kill -9` + `txpace cleanup`;
#    --keep-powersave leaves it on; off before stays off; the qdiscs come back exactly;
#  - `txpace probe` reports the interface (named, or the default route's), its driver and the
#    power save state, and says when an interface is no Wi-Fi;
#  - `--backend auto` says why it chose (the summary line and backend_reason in the report);
#  - every packet was handed over or reported dropped, every one handed over arrived, none
#    before its launch time (the driver hand-off or SCHED stamps for 99 % of them).
# Prints PASS/FAIL lines; exits 1 when anything failed.
set -u
FAILED=0
T=$(mktemp -d)
TXPACE=/build/txpace
NS=sta
AP_IP=192.168.70.1
ST_IP=192.168.70.2
PORT=5004
AP_PID=
SUP_PID=
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1${2:+: $2}"; FAILED=1; }
# jqc NAME FILE EXPR: PASS when EXPR holds for the JSON in FILE; else FAIL and the file's gist
jqc() {
	if jq -e "$3" "$2" >/dev/null 2>&1; then
		pass "$1"
		return 0
	fi
	fail "$1" "jq '$3' false"
	jq -cM '{backend,sent,packets,lost,duplicates,early,dropped,send_errors,icmp_errors,complete,
		snd:.stamps_us.snd.count,setup:.kernel.setup,xmit:.kernel.xmit_seen}' "$2" 2>/dev/null |
		head -c 900
	echo
	return 1
}
teardown() {
	[ -z "$SUP_PID" ] || { kill "$SUP_PID"; wait "$SUP_PID"; } 2>/dev/null
	[ -z "$AP_PID" ] || { kill "$AP_PID"; wait "$AP_PID"; } 2>/dev/null
	ip netns del $NS 2>/dev/null
}
trap teardown EXIT
in_sta() { ip netns exec $NS "$@"; }
# ps_state: the station's power save as iw reads it (on/off)
ps_state() { in_sta iw dev "$STA" get power_save 2>&1 | sed -n 's/^Power save: //p'; }
# snap: the station's qdiscs and egress filters, to compare before and after
snap() { in_sta tc qdisc show dev "$STA"; in_sta tc filter show dev "$STA" egress; }
# poll COUNT COMMAND...: until COMMAND succeeds, at most COUNT tries 50 ms apart
poll() {
	local n=$1 i
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}
ps_is() { [ "$(ps_state)" = "$1" ]; }
# ps_set on|off: the station's power save, as the next case starts from (each case on its own)
ps_set() {
	in_sta iw dev "$STA" set power_save "$1"
	ps_is "$1" || fail "iw: power save $1 for $STA" "iw says '$(ps_state)'"
}

# --- two radios, an access point, a station --------------------------------------------------
# reloaded with radios=2 said explicitly (the module's default today, and what everything below
# assumes)
rmmod mac80211_hwsim 2>/dev/null
if ! insmod "/lib/modules/$(uname -r)/mac80211_hwsim.ko" radios=2 2>"$T/insmod.err"; then
	fail "mac80211_hwsim radios=2" "$(tail -n 1 "$T/insmod.err")"
	exit 1
fi
wlans=()
for d in /sys/class/net/*; do
	[ -e "$d/phy80211" ] && wlans+=("${d##*/}")
done
if [ ${#wlans[@]} -ne 2 ]; then
	fail "mac80211_hwsim radios=2: two Wi-Fi interfaces" "found ${#wlans[@]}: ${wlans[*]}"
	exit 1
fi
AP=${wlans[0]} STA=${wlans[1]}
pass "mac80211_hwsim radios=2: two radios, $AP ($(cat /sys/class/net/$AP/phy80211/name)) and $STA ($(cat /sys/class/net/$STA/phy80211/name))"

ip netns add $NS && in_sta ip link set lo up &&
	iw phy "$(cat /sys/class/net/$STA/phy80211/name)" set netns name $NS 2>"$T/netns.err" &&
	in_sta ip link set "$STA" up && in_sta ip addr add $ST_IP/24 dev "$STA" &&
	in_sta ip route add default via $AP_IP ||
	{ fail "the station's radio moved into its own namespace" "$(tail -n 1 "$T/netns.err")"; exit 1; }
ip addr add $AP_IP/24 dev "$AP"
cat >"$T/ap.conf" <<EOF
interface=$AP
driver=nl80211
ssid=txpace-wifi
hw_mode=g
channel=6
ieee80211n=1
wmm_enabled=1
wpa=2
wpa_key_mgmt=WPA-PSK
rsn_pairwise=CCMP
wpa_passphrase=txpace-wifi-test
EOF
cat >"$T/sta.conf" <<EOF
network={
	ssid="txpace-wifi"
	key_mgmt=WPA-PSK
	proto=RSN
	pairwise=CCMP
	group=CCMP
	psk="txpace-wifi-test"
}
EOF
hostapd "$T/ap.conf" >"$T/ap.log" 2>&1 &
AP_PID=$!
if ! poll 400 grep -q AP-ENABLED "$T/ap.log"; then
	fail "hostapd: access point up on $AP" "$(tail -n 1 "$T/ap.log")"
	exit 1
fi
pass "hostapd: WPA2 access point txpace-wifi up on $AP"
in_sta wpa_supplicant -i "$STA" -c "$T/sta.conf" >"$T/sta.log" 2>&1 &
SUP_PID=$!
# associated, keys negotiated: the access point answers a ping through the encrypted link
# (40 pings of up to a second each: TCG takes a few seconds to associate)
if ! poll 40 in_sta ping -c 1 -W 1 $AP_IP >/dev/null 2>&1; then
	fail "wpa_supplicant: the station joins the access point" "$(tail -n 2 "$T/sta.log" | tr '\n' ' ')"
	exit 1
fi
if grep -q 'Key negotiation completed.*PTK=CCMP' "$T/sta.log" &&
	in_sta iw dev "$STA" link | grep -q "Connected to $(cat /sys/class/net/$AP/address)"; then
	pass "wpa_supplicant: $STA associated with the access point, WPA2 CCMP keys, pings answered"
else
	fail "wpa_supplicant: $STA associated with WPA2 CCMP keys" "$(grep -m 1 'Key negotiation' "$T/sta.log")"
fi
in_sta iw dev "$STA" link | sed -n 's/^\t\(SSID\|signal\|tx bitrate\)/  \1/p'
snap >"$T/before"

# --- power save on, and what probe says ----------------------------------------------------
in_sta iw dev "$STA" set power_save on
if ps_is on; then
	pass "iw: power save on for $STA"
else
	fail "iw: power save on for $STA" "iw says '$(ps_state)'"
	exit 1
fi
in_sta $TXPACE probe "$STA" >"$T/probe.txt" 2>&1
echo "txpace probe $STA (the station, power save on):"
sed 's/^/  /' "$T/probe.txt"
if in_sta $TXPACE probe --json "$STA" >"$T/probe.json" 2>"$T/probe.err"; then
	jqc "probe $STA: driver mac80211_hwsim, Wi-Fi power save ON, and says txpace turns it off" \
		"$T/probe.json" ".iface == \"$STA\" and .driver_name == \"mac80211_hwsim\" and
		.wifi_powersave == true and (.reasons.wifi_powersave | test(\"power save is ON.*turns it off\"))"
	jqc "probe $STA: a backend and the reason for it" "$T/probe.json" \
		'(.backend | length) > 0 and (.reasons.backend | length) > 10'
else
	fail "probe --json $STA" "$(tail -n 1 "$T/probe.err")"
fi
# no interface named: the default route's, the Wi-Fi link
in_sta $TXPACE probe --json >"$T/probe-route.json" 2>/dev/null
jqc "probe (no interface named): the default route's $STA, power save ON" "$T/probe-route.json" \
	".iface == \"$STA\" and .wifi_powersave == true"
# the access point's interface has no power save state of its own: off
$TXPACE probe --json "$AP" >"$T/probe-ap.json" 2>/dev/null
jqc "probe $AP (the access point): Wi-Fi power save off" "$T/probe-ap.json" \
	".wifi_powersave == false and (.reasons.wifi_powersave | test(\"$AP: Wi-Fi power save is off\"))"
in_sta $TXPACE probe --json lo >"$T/probe-lo.json" 2>/dev/null
jqc "probe lo: not a Wi-Fi interface" "$T/probe-lo.json" \
	'.wifi_powersave == false and (.reasons.wifi_powersave | test("not a Wi-Fi interface"))'

# --- streams over the link ----------------------------------------------------------------
M=
# rx NAME: the receiver on the access point's side; its PID in $M
rx() {
	UDP0=$(udp_in)
	$TXPACE measure --json --listen 0.0.0.0:$PORT >"$T/$1.rx" 2>"$T/$1.rxerr" &
	M=$!
	poll 200 grep -q ":$(printf %04X $PORT) " /proc/net/udp ||
		fail "$1: the receiver did not start" "$(tail -n 1 "$T/$1.rxerr")"
}
# UDP datagrams this namespace took in (the receiver's, nothing else here speaks UDP)
udp_in() { awk '$1 == "Udp:" && $2 ~ /^[0-9]+$/ { print $2 }' /proc/net/snmp; }
udp_since() { [ $(($(udp_in) - UDP0)) -ge "$1" ]; }
# endrx [SENT]: stop the receiver, once the SENT packets the sender handed over have reached its
# socket (they may still be on their way through fq and the radios when the sender exits)
endrx() {
	[ -z "${1:-}" ] || poll 400 udp_since "$1"
	kill -INT "$M"
	wait "$M"
}
alive() { kill -0 "$S" 2>/dev/null; }
rx_packets() { cat "/sys/class/net/$AP/statistics/rx_packets"; }
# flowing BASE: the sender runs and 100 more packets than BASE have reached the access point,
# so its setup stands (txpace changes the interface before it sends anything)
flowing() { alive && [ $(($(rx_packets) - $1)) -ge 100 ]; }
# watch: once packets flow, the power save state iw reads (SEEN, "" when the sender ended first)
# and the qdiscs (during-NAME)
watch() {
	SEEN=
	if poll 600 flowing "$1"; then
		SEEN=$(ps_state)
		snap >"$T/during-$2"
		alive || SEEN=
	fi
}
# stream NAME SECONDS ARGS...: a stream from the station, watched (RC: its exit status)
stream() {
	local n=$1 secs=$2 base
	shift 2
	rx "$n"
	base=$(rx_packets)
	ip netns exec $NS $TXPACE send --seconds "$secs" --report "$T/$n.json" "$@" $AP_IP:$PORT tone:440 \
		>"$T/$n.out" 2>"$T/$n.err" &
	S=$!
	watch "$base" "$n"
	wait $S
	RC=$?
	endrx "$(jq '.sent // 0' "$T/$n.json" 2>/dev/null)"
	# exit 1 is right when the qdisc dropped packets and txpace said so (with power save on,
	# mac80211 stops its queues while the station wakes, and fq's flow limit can overflow)
	if [ $RC -eq 0 ]; then
		pass "$n: exit 0"
	elif [ $RC -eq 1 ] && grep -q "dropped by the qdisc" "$T/$n.err" &&
		jq -e '.dropped > 0' "$T/$n.json" >/dev/null; then
		pass "$n: exit 1, naming the $(jq .dropped "$T/$n.json") packets the qdisc dropped"
	else
		fail "$n: exit $RC" "$(tail -n 1 "$T/$n.err")"
	fi
}
# ps_during NAME STATE: iw read STATE while the packets flowed
ps_during() {
	[ "$SEEN" = "$2" ] && pass "$1: power save $2 while the packets flowed (iw)" ||
		fail "$1: power save $2 while the packets flowed (iw)" "iw said '${SEEN:-nothing: the stream ended first}'"
}
# delivered NAME PACKETS: every packet was handed over or reported dropped, every one handed
# over arrived (none twice), none before its launch time. mac80211 gives no SND stamps (nothing
# on its path calls skb_tx_timestamp), so the departure evidence is the driver hand-off (--watch's
# net_dev_start_xmit program) for the kernel backends and the SCHED stamp (taken as the packet
# enters the qdisc) for rt without --watch; it must cover (99 % of) the packets handed over, so
# that "none early" means something.
delivered() {
	local via='.kernel.xmit_seen == .sent and .kernel.xmit_error_us.count >= .sent * 0.99'
	local what="driver hand-off, $(jq -r '.kernel.setup | capture("(?<t>tp_btf|tracepoint)").t' "$T/$1.json")"
	if [ "$(jq -r '.backend + " " + (.kernel.xmit_seen | type)' "$T/$1.json")" = "rt null" ]; then
		via='.departure_source == "sched" and .stamps_us.sched.count >= .sent * 0.99' what="SCHED stamps"
	fi
	jqc "$1: all $2 packets handed over or reported dropped, none before its launch time ($what)" \
		"$T/$1.json" ".sent + .dropped == $2 and (.complete or .dropped > 0) and .early == 0 and
		.send_errors == 0 and $via" ||
		{ jq -cM '{xmit_recalibrations:.kernel.xmit_recalibrations,sched:.stamps_us.sched.count}' \
			"$T/$1.json"; tail -n 3 "$T/$1.err"; }
	jq -s '{rx: .[0], tx: .[1]}' "$T/$1.rx" "$T/$1.json" >"$T/$1.both" 2>/dev/null
	jqc "$1: the access point's side received every packet handed over ($(jq .sent "$T/$1.json")), none twice" \
		"$T/$1.both" '.rx.packets == .tx.sent and .rx.duplicates == 0 and .rx.lost <= .tx.dropped' ||
		{ jq -cM '{packets:.rx.packets,lost:.rx.lost,duplicates:.rx.duplicates,sent:.tx.sent,dropped:.tx.dropped}' \
			"$T/$1.both"; head -c 300 "$T/$1.rxerr"; }
}
# handoff NAME WHAT: the driver hand-off lateness (not asserted: TCG's, and the host's load)
handoff() {
	echo "$1 ($2): $(jq -r '"driver hand-off - launch (ms): p50 \(.kernel.xmit_error_us.p50 / 1000 | floor) p99 \(.kernel.xmit_error_us.p99 / 1000 | floor) max \(.kernel.xmit_error_us.max / 1000 | floor), \(.kernel.xmit_seen) of \(.sent) seen"' "$T/$1.json")"
}
restored() {
	snap >"$T/after-$1"
	cmp -s "$T/before" "$T/after-$1" && pass "$1: qdiscs and filters on $STA restored exactly" ||
		fail "$1: qdiscs and filters on $STA restored exactly" "$(diff "$T/before" "$T/after-$1" | tail -n 2 | tr '\n' ' ')"
}
ps_after() {
	ps_is "$2" && pass "$1: power save $2 again after the stream (iw)" ||
		fail "$1: power save $2 again after the stream (iw)" "iw says '$(ps_state)'"
}

# auto: what probe chooses here (edt on mac80211_hwsim), with the reason it gives
stream auto 3 --backend auto --watch
ps_during auto off
ps_after auto on
jq -n --slurpfile r "$T/auto.json" --slurpfile p "$T/probe.json" \
	'$r[0].backend == $p[0].backend and $r[0].backend_reason == $p[0].reasons.backend' |
	grep -q true && pass "auto: chose probe's backend ($(jq -r .backend "$T/auto.json")) and says why in the report: $(jq -r .backend_reason "$T/auto.json")" ||
	fail "auto: chose probe's backend and says why in the report" "$(jq -c '{backend,backend_reason}' "$T/auto.json")"
reason=$(jq -r .backend_reason "$T/auto.json")
grep -qF "backend $(jq -r .backend "$T/auto.json") chosen: $reason" "$T/auto.out" &&
	pass "auto: the summary says which backend and why" ||
	fail "auto: the summary says which backend and why" "$(grep -m 1 backend "$T/auto.out")"
jqc "auto: the kernel setup says Wi-Fi power save off" "$T/auto.json" \
	'.kernel.setup | test("Wi-Fi power save off")'
delivered auto 3000
restored auto
echo "auto: $(jq -r .kernel.setup "$T/auto.json")"
handoff auto "power save turned off by txpace"

# rt: the real-time thread, what the Pi's brcmfmac gets; no qdisc changes, only power save
ps_set on
stream rt 2 --backend rt
ps_during rt off
cmp -s "$T/before" "$T/during-rt" && pass "rt: qdiscs untouched while it ran" ||
	fail "rt: qdiscs untouched while it ran" "$(diff "$T/before" "$T/during-rt" | tail -n 2 | tr '\n' ' ')"
ps_after rt on
delivered rt 2000
restored rt

# the Raspberry Pi's own path: rt (its brcmfmac), --watch, and no kernel BTF, so the classic
# net_dev_start_xmit tracepoint (TXPACE_NO_BTF=1: as if the kernel had none)
ps_set on
export TXPACE_NO_BTF=1
stream rt-watch 2 --backend rt --watch
unset TXPACE_NO_BTF
ps_during rt-watch off
ps_after rt-watch on
delivered rt-watch 2000
restored rt-watch

# --keep-powersave: left on, while txpace's qdisc stood
ps_set on
stream keep 2 --backend auto --watch --keep-powersave
ps_during keep on
grep -q '^qdisc fq ' "$T/during-keep" && pass "keep: txpace's setup stood then (fq on $STA)" ||
	fail "keep: txpace's setup stood then (fq on $STA)" "$(head -n 2 "$T/during-keep" | tr '\n' ' ')"
delivered keep 2000
handoff keep "power save left on"
restored keep

# off before: off during and after, and no power save step in the setup
ps_set off
stream off 2 --backend auto --watch
ps_during off off
ps_after off off
jqc "off: no power save step in the setup" "$T/off.json" '.kernel.setup | test("power save") | not'
delivered off 2000
handoff off "power save off before"
restored off

# --- kill -9, then txpace cleanup -----------------------------------------------------------
# killed BACKEND: a long stream killed while its packets flow, then `txpace cleanup`
killed() {
	local n=kill-$1 base rc
	ps_set on
	rx "$n"
	base=$(rx_packets)
	ip netns exec $NS $TXPACE send --quiet --seconds 120 --backend "$1" $AP_IP:$PORT tone:440 \
		>"$T/$n.out" 2>&1 &
	S=$!
	watch "$base" "$n"
	kill -9 $S
	wait $S 2>/dev/null
	endrx
	ps_during "$n" off
	ps_is off && pass "$n: kill -9 left power save off (nothing restored it yet)" ||
		fail "$n: kill -9 left power save off" "iw says '$(ps_state)'"
	in_sta $TXPACE cleanup "$STA" >"$T/$n.cleanup" 2>&1
	rc=$?
	sed 's/^/  cleanup: /' "$T/$n.cleanup"
	[ $rc -eq 0 ] && grep -q "$STA: Wi-Fi power save back on" "$T/$n.cleanup" &&
		pass "$n: txpace cleanup says power save is back on" ||
		fail "$n: txpace cleanup says power save is back on" "rc $rc: $(tail -n 1 "$T/$n.cleanup")"
	ps_is on && pass "$n: power save on again after txpace cleanup (iw)" ||
		fail "$n: power save on again after txpace cleanup (iw)" "iw says '$(ps_state)'"
	restored "$n"
	if ls /run/txpace/*.state >/dev/null 2>&1 || [ -n "$(ls -A /sys/fs/bpf/txpace 2>/dev/null)" ]; then
		fail "$n: no journal or pinned maps left" "$(ls /run/txpace/ /sys/fs/bpf/txpace 2>&1 | tr '\n' ' ')"
	else
		pass "$n: no journal or pinned maps left"
	fi
}
killed auto
killed rt
exit $FAILED
