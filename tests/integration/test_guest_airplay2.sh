#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# AirPlay 2 with the kernel backends, which this machine's kernel may lack (fq, etf): in the 6.1
# guest (scripts/guest.sh run --net, qemu TCG), txpace --profile airplay2 --backend edt and
# --backend etf send over the guest's virtio NIC, through its qdiscs and the tc egress program,
# to tests/peers/ap2_receiver.py on the host side (qemu's user-mode network: 10.0.2.2 is the
# loopback of this test's own namespace). Checked: the output is the source bit for bit, each
# backend's report has every packet handed over and none before its launch time (SND stamps),
# the packets went through the kernel backend (edt: stamped by the egress program), the
# guest's qdiscs were restored; and etf, which on this one-queue NIC would be the root qdisc
# and drop the session's RTSP and PTP (nothing without a launch time passes it), is refused
# in one line before the interface changes; on a link with 4 TX queues (a veth in the guest,
# routed to the NIC) etf works as mqprio + etf, the session's own traffic on the other queues:
# bit-exact, none early, none missed.
. "$(dirname "$0")/lib.sh"
GUEST=$TOP/scripts/guest.sh

for b in qemu-system-x86_64 busybox jq ffmpeg; do
	if ! command -v $b >/dev/null && [ ! -x /bin/$b ]; then
		fail "guest airplay2" "$b missing (scripts/install-deps.sh)"
		exit 1
	fi
done
python3 -c 'import cryptography' 2>/dev/null ||
	{ fail "guest airplay2" "python3-cryptography missing (scripts/install-deps.sh)"; exit 1; }
guest_prepare "guest airplay2"
guest_source guest-ap2 17
# the peers and qemu in a namespace of their own
guest_ap2_peers "guest airplay2" edt etf etf-mq || exit 1
ip netns exec "$NS_RX" "$GUEST" run --net --modules "act_nat cls_matchall" --timeout 400 "$TOP/tests/guest/airplay2.sh" "$TXPACE" \
	"$(command -v jq)" "$SRC" >"$T/guest.log" 2>&1
rc=$?
grep -q '^AP2 ' "$T/guest.log" ||
	{ fail "guest airplay2" "the guest ran no stream (exit $rc): $(tail -n 5 "$T/guest.log")"; exit 1; }

line=$(grep "^AP2 edt " "$T/guest.log")
brc=$(echo "$line" | cut -d' ' -f3)
echo "$line" | cut -d' ' -f4- >"$T/edt.json"
if [ "$brc" = 0 ]; then
	check "edt: the peer's output is the source, bit for bit (through the guest's edt backend)" \
		peer_exact "$T/in.ref" "$T/edt.pcm"
	check "edt: every packet handed over and sent, none before its launch time (SND stamps)" \
		jq_check "$T/edt.json" '.profile == "airplay2" and .backend == "edt" and .kernel.iface == "eth0" and
			(.kernel.setup | test("fq")) and .complete and
			.sent == .packets and .early == 0 and .stamps_us.snd.count > 0 and
			.send_errors == 0 and .airplay2.pairing == "transient"'
	check "edt: the egress program stamped every packet (none unstamped), the peer decrypted each" \
		jq_check "$T/edt.sum" '.audio.failed == 0 and .audio.decrypted == '"$(jq '.packets' "$T/edt.json")"' and
			'"$(jq '.unstamped == 0' "$T/edt.json")"
else
	fail "edt: airplay2 stream" "exit $brc: $(grep "^AP2-ERR edt " "$T/guest.log" | cut -d' ' -f3-) (the peer: $(tail -n 3 "$T/edt.peer" | tr '\n' ' '))"
fi
err=$(grep "^AP2-ERR etf " "$T/guest.log" | cut -d' ' -f3-)
check "etf on a one-queue NIC: refused, exit 1, one line ($err)" \
	test "$(grep "^AP2 etf " "$T/guest.log" | cut -d' ' -f3)" = 1 -a \
	"$(grep "^AP2-ERRLINES etf " "$T/guest.log" | cut -d' ' -f3)" = 1
check "etf on a one-queue NIC: the line says why and what to use" \
	grep -q "one TX queue.*--backend edt" <<<"$err"
line=$(grep "^AP2 etf-mq " "$T/guest.log")
echo "$line" | cut -d' ' -f4- >"$T/etf-mq.json"
if [ "$(echo "$line" | cut -d' ' -f3)" = 0 ]; then
	check "etf, 4 TX queues: the peer's output is the source, bit for bit" peer_exact "$T/in.ref" "$T/etf-mq.pcm"
	check "etf, 4 TX queues: mqprio + etf, every packet sent, none early, none missed or late" \
		jq_check "$T/etf-mq.json" '.backend == "etf" and (.kernel.setup | test("^mqprio \\+ etf")) and
			.kernel.iface == "mq_tx" and .complete and .sent == .packets and
			.early == 0 and .txtime_missed == 0 and .txtime_invalid == 0 and .send_errors == 0 and
			.stamps_us.snd.count > 0'
	check "etf, 4 TX queues: the peer decrypted every packet" \
		jq_check "$T/etf-mq.sum" '.audio.failed == 0 and .audio.decrypted == '"$(jq '.packets' "$T/etf-mq.json")"
else
	fail "etf, 4 TX queues: airplay2 stream" "$(echo "$line" | cut -d' ' -f3): $(grep "^AP2-ERR etf-mq " "$T/guest.log" | cut -d' ' -f3-)"
fi
for q in "" -MQ; do
	before=$(grep "^QDISC$q-BEFORE" "$T/guest.log" | cut -d' ' -f2-)
	after=$(grep "^QDISC$q-AFTER" "$T/guest.log" | cut -d' ' -f2-)
	check "the guest's qdiscs restored after the ${q:+4-queue }streams ($after)" \
		test -n "$before" -a "$before" = "$after"
done
exit $FAILED
