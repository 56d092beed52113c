#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# AirPlay 2 / HomeKit pairing against independent implementations the test runs itself:
# HKDF-SHA512 against Python's hmac/hashlib; SRP-6a 3072/SHA-512 against fast-srp-hap (npm) as
# the server (fixed random salt and keys fed both ways: A, M1, K and M2 must agree); PIN
# pair-setup M1-M6, pair-verify M1-M4 and an encrypted GET /accessories against a HAP-NodeJS
# 1.2.0 accessory with a known setup code, in a network namespace with only lo (it listens on
# every address whatever it is told); a wrong PIN, an already-paired accessory (error 6), a
# controller it does not know and a stored key that is not the accessory's each give one line.
. "$(dirname "$0")/lib.sh"
DRV=${PAIR_DRIVER:-$TOP/build/drivers/pair_driver}
NPM_DIR=/var/cache/txpace-npm/pair
PORT=51826
PIN=031-45-154

[ "$(id -u)" -eq 0 ] || { skip pair "needs root for a network namespace"; exit 0; }
[ -x "$DRV" ] || { fail pair "$DRV not built (make build-tests)"; exit 1; }

# --- HKDF-SHA512 against Python's standard library (RFC 5869 extract + expand) ---------------
hkdf_py() {
	python3 - "$@" <<'PY'
import hashlib, hmac, sys
ikm, salt, info, n = bytes.fromhex(sys.argv[1]), bytes.fromhex(sys.argv[2]), bytes.fromhex(sys.argv[3]), int(sys.argv[4])
prk = hmac.new(salt or bytes(64), ikm, hashlib.sha512).digest()
t, okm, i = b"", b"", 1
while len(okm) < n:
    t = hmac.new(prk, t + info + bytes([i]), hashlib.sha512).digest()
    okm += t
    i += 1
print("OKM " + okm[:n].hex())
PY
}
hx() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
hkdf_ok=0 hkdf_n=0
for c in "$(openssl rand -hex 32) $(hx Control-Salt) $(hx Control-Write-Encryption-Key) 32" \
	 "$(openssl rand -hex 64) $(hx Pair-Setup-Encrypt-Salt) $(hx Pair-Setup-Encrypt-Info) 32" \
	 "$(openssl rand -hex 22) $(openssl rand -hex 13) $(openssl rand -hex 10) 200" \
	 "$(openssl rand -hex 80) '' $(openssl rand -hex 80) 64" \
	 "$(openssl rand -hex 16) $(openssl rand -hex 80) '' 65"; do
	eval "set -- $c"
	hkdf_n=$((hkdf_n + 1))
	a=$("$DRV" hkdf "$@") b=$(hkdf_py "$@")
	[ -n "$a" ] && [ "$a" = "$b" ] && hkdf_ok=$((hkdf_ok + 1))
done
check "hkdf: HKDF-SHA512 equals Python's hmac/hashlib ($hkdf_ok of $hkdf_n cases)" [ "$hkdf_ok" -eq "$hkdf_n" ]

# --- the npm peers: cached under /var/cache/txpace-npm -----------------------------------------
have_npm() {
	[ -f "$NPM_DIR/node_modules/hap-nodejs/package.json" ] &&
		grep -q '"version": "1.2.0"' "$NPM_DIR/node_modules/hap-nodejs/package.json" &&
		[ -f "$NPM_DIR/node_modules/fast-srp-hap/package.json" ]
}
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	skip pair "no node/npm (Node 20 and npm are part of the test machine's setup)"
	exit $FAILED
fi
if ! have_npm; then
	mkdir -p "$NPM_DIR"
	npm install --prefix "$NPM_DIR" --no-audit --no-fund --no-save hap-nodejs@1.2.0 fast-srp-hap \
		>"$T/npm.log" 2>&1
fi
if ! have_npm; then
	skip pair "npm could not install hap-nodejs@1.2.0 and fast-srp-hap into $NPM_DIR: $(tail -n 1 "$T/npm.log")"
	exit $FAILED
fi
export NODE_PATH=$NPM_DIR/node_modules

# --- SRP-6a 3072/SHA-512 against fast-srp-hap as the server -------------------------------------
cat >"$T/srp.js" <<'JS'
// fast-srp-hap's server with a fixed salt and b: step 1 prints B; step 2 checks A + M1, prints M2, K
const { SRP, SrpServer } = require("fast-srp-hap");
const [step, salt, b, pin, A, M1] = process.argv.slice(2);
const s = new SrpServer(SRP.params.hap, Buffer.from(salt, "hex"), Buffer.from("Pair-Setup"),
			Buffer.from(pin), Buffer.from(b, "hex"));
if (step === "B") {
	console.log("B " + s.computeB().toString("hex"));
} else {
	s.setA(Buffer.from(A, "hex"));
	s.checkM1(Buffer.from(M1, "hex"));	// throws on a mismatch
	console.log("M2 " + s.computeM2().toString("hex"));
	console.log("K " + s.computeK().toString("hex"));
}
JS
srp_round() {	# srp_round CLIENT-PIN: one exchange; 0 when A, M1, K and M2 all agree
	local salt b a B out A M1 K srv M2 K2
	salt=$(openssl rand -hex 16) b=$(openssl rand -hex 32) a=$(openssl rand -hex 32)
	B=$(node "$T/srp.js" B "$salt" "$b" 3939 | sed -n 's/^B //p') || return 1
	out=$("$DRV" srp "$salt" "$B" "$a" "$1") || return 1
	A=$(echo "$out" | sed -n 's/^A //p') M1=$(echo "$out" | sed -n 's/^M1 //p')
	K=$(echo "$out" | sed -n 's/^K //p')
	[ ${#A} -eq 768 ] && [ ${#M1} -eq 128 ] && [ ${#K} -eq 128 ] || return 1
	srv=$(node "$T/srp.js" M "$salt" "$b" 3939 "$A" "$M1" 2>"$T/srp.err") || return 2
	M2=$(echo "$srv" | sed -n 's/^M2 //p') K2=$(echo "$srv" | sed -n 's/^K //p')
	[ "$K" = "$K2" ] && "$DRV" srp "$salt" "$B" "$a" "$1" "$M2"
}
ok=0
for i in 1 2 3; do srp_round 3939 && ok=$((ok + 1)); done
check "srp: 3072/SHA-512 A, M1, K and M2 agree with fast-srp-hap ($ok of 3 exchanges)" [ "$ok" -eq 3 ]
srp_round 3940
check "srp: fast-srp-hap refuses the M1 of a wrong PIN" [ $? -eq 2 ]

# --- PIN pairing, pair-verify and an encrypted request against HAP-NodeJS -----------------------
NS_TX="txp$$pr"	# lib.sh's teardown removes it
ip netns add "$NS_TX" && ip -n "$NS_TX" link set lo up || { fail pair "no network namespace"; exit 1; }
cat >"$T/acc.js" <<'JS'
// a HAP-NodeJS accessory with a known setup code; "listening PORT" once it accepts connections
const hap = require("hap-nodejs");
const [dir, port, pin] = process.argv.slice(2);
hap.HAPStorage.setCustomStoragePath(dir);
const acc = new hap.Accessory("txpace test", hap.uuid.generate("txpace.pair.test"));
acc.on("listening", (p) => console.log("listening " + p));
acc.publish({ username: "AA:BB:CC:DD:EE:01", pincode: pin, port: Number(port),
	      category: hap.Categories.OTHER, advertiser: "bonjour-hap" });
JS
# (ip netns exec itself, not the in_tx function: a function in the background is a subshell,
# and killing its PID at teardown left node running)
ip netns exec "$NS_TX" node "$T/acc.js" "$T/persist" $PORT $PIN >"$T/acc.log" 2>&1 &
PIDS+=($!)
if ! wait_grep "$T/acc.log" "^listening $PORT"; then
	fail pair "the HAP-NodeJS accessory did not start: $(tail -n 3 "$T/acc.log")"
	exit 1
fi
one_line() {	# one_line FILE PATTERN: FILE is exactly one line and it matches
	[ "$(wc -l <"$1")" -eq 1 ] && grep -q "$2" "$1"
}
failed_with() {	# failed_with RC FILE PATTERN: exit code 1 and FILE the one line matching PATTERN
	[ "$1" -eq 1 ] && one_line "$2" "$3"
}
drv() { in_tx "$DRV" "$@"; }

drv pair 127.0.0.1 $PORT 111-22-333 "$T/ctl" >"$T/wrong.out" 2>"$T/wrong.err"
check "pair: a wrong PIN fails with one line saying so" \
	failed_with $? "$T/wrong.err" "^wrong PIN for acc: .*txpace pair acc"
drv pair 127.0.0.1 $PORT $PIN "$T/ctl" >"$T/pair.out" 2>"$T/pair.err"
check "pair: PIN pair-setup M1-M6 with HAP-NodeJS" grep -q "^paired AA:BB:CC:DD:EE:01 as " "$T/pair.out"
[ -s "$T/pair.err" ] && cat "$T/pair.err" >&2
modes=$(stat -c '%a' "$T/ctl" "$T/ctl/identity" "$T/ctl/peers" 2>/dev/null | tr '\n' ' ')
check "pair: the store is mode 700, its files 600 ($modes)" [ "$modes" = "700 600 600 " ]
ctl_id=$(sed -n 's/^id //p' "$T/ctl/identity")
check "pair: HAP-NodeJS stored our identifier and key" \
	grep -rqs "$ctl_id" "$T/persist"

drv verify 127.0.0.1 $PORT "$T/ctl" /accessories >"$T/verify.out" 2>"$T/verify.err"
check "verify: pair-verify M1-M4 and an encrypted GET /accessories answered 200" \
	grep -q "^HTTP/1.1 200" "$T/verify.out"
check "verify: the decrypted body is the accessory database" \
	grep -q '"accessories":\[{"aid":1' "$T/verify.out"
check "verify: the reply came in encrypted frames" \
	grep -qE "^frames sent 1 received [1-9]" "$T/verify.out"
[ -s "$T/verify.err" ] && cat "$T/verify.err" >&2

drv pair 127.0.0.1 $PORT $PIN "$T/ctl2" >"$T/busy.out" 2>"$T/busy.err"
check "pair: an already-paired accessory (error 6) gives one line that says what to do" \
	failed_with $? "$T/busy.err" "already paired with another controller.*txpace pair acc"

# a controller the accessory does not know, holding the right accessory key: M4 error 2
cp "$T/ctl/peers" "$T/ctl2/peers"
drv verify 127.0.0.1 $PORT "$T/ctl2" /accessories >"$T/stranger.out" 2>"$T/stranger.err"
check "verify: an unknown controller is refused with one line" \
	failed_with $? "$T/stranger.err" "no longer knows this sender.*txpace pair acc"
# the stored accessory key replaced: its signature must not verify
python3 - "$T/ctl/peers" <<'PY'
import sys
p = sys.argv[1]
lines = open(p).read().splitlines()
out = [l if l.startswith("#") else " ".join(l.split()[:2] + ["%064x" % (int(l.split()[2], 16) ^ 1)]) for l in lines]
open(p, "w").write("\n".join(out) + "\n")
PY
drv verify 127.0.0.1 $PORT "$T/ctl" /accessories >"$T/forged.out" 2>"$T/forged.err"
check "verify: an accessory whose key differs from the stored one is refused with one line" \
	failed_with $? "$T/forged.err" "not from the key it was paired with"
exit $FAILED
