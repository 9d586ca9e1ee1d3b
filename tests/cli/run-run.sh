#!/bin/sh
# Command-line tests of hnnc run and of the client/server commands on files:
# keygen, encrypt, eval (without the secret key), decrypt, refresh; their
# errors on corrupted files, bad usage and malformed data.
set -u
BUILD=${BUILD:-build}
HNNC=$BUILD/bin/hnnc
DIR=$(dirname "$0")
DATA=$DIR/data/small.csv
TMP=$(mktemp -d)
# One runtime thread: `make test` shares the cores with other work, where
# OpenMP's waiting threads cost more than they gain on these small circuits.
HNNRT_THREADS=1
export HNNRT_THREADS
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0

pass() { echo "[PASS] $1"; passed=$((passed + 1)); }
fail() { echo "[FAIL] $1"; failed=$((failed + 1)); }

# case NAME EXPECTED_STATUS PATTERN CMD...: PATTERN must occur in stdout+stderr.
case_() {
    name=$1 want=$2 pattern=$3
    shift 3
    "$@" >"$TMP/out" 2>&1
    got=$?
    if [ "$got" -eq "$want" ] && { [ -z "$pattern" ] || grep -q -- "$pattern" "$TMP/out"; }; then
        pass "$name"
    else
        fail "$name (status $got, want $want; pattern '$pattern')"
        sed 's/^/    /' "$TMP/out" | head -20
    fi
}

# check NAME CMD...: the command succeeds.
check() {
    name=$1
    shift
    if "$@" >"$TMP/check" 2>&1; then pass "$name"; else fail "$name"; sed 's/^/    /' "$TMP/check" | head -10; fi
}

# same_outputs A B: two output CSVs of the same samples agree within 1e-3
# (two encryptions of the same data differ by their noise, about 2^-20 here).
same_outputs() {
    [ -s "$1" ] && [ "$(wc -l <"$1")" -eq "$(wc -l <"$2")" ] &&
        paste -d, "$1" "$2" | awk -F, '{ n = NF / 2; for (i = 1; i <= n; i++) { d = $i - $(i + n); if (d < 0) d = -d; if (d > m) m = d } }
            END { exit !(NR > 0 && m < 1e-3) }'
}

# ---------------------------------------------------------------- hnnc run
case_ run-text 0 "accuracy: encrypted 87.50% (14/16), plaintext 87.50% (14/16)" "$HNNC" run "$DIR/small.hnn" --data "$DATA"
case_ run-threads 0 "agreement: 100.00%" "$HNNC" run "$DIR/small.hnn" --data "$DATA" --threads 2 --limit 4
"$HNNC" run "$DIR/small.hnn" --data "$DATA" --json --outputs "$TMP/run-small.csv" >"$TMP/run.json" 2>&1
for key in samples accuracy_encrypted accuracy_plain agreement max_abs_error precision_bits_measured \
    precision_bits_estimated latency_ms keygen_ms peak_rss_mb; do
    if grep -q "^  \"$key\": [0-9]" "$TMP/run.json"; then pass "run-json-$key"; else fail "run-json-$key"; cat "$TMP/run.json"; fi
done
# the ten keys first, in this order
if sed -n '2,11s/^  "\([a-z_]*\)".*/\1/p' "$TMP/run.json" | tr '\n' ' ' |
    grep -q "^samples accuracy_encrypted accuracy_plain agreement max_abs_error precision_bits_measured precision_bits_estimated latency_ms keygen_ms peak_rss_mb $"; then
    pass run-json-order
else
    fail run-json-order
fi
if grep -q '"samples": 16,' "$TMP/run.json" && grep -q '"agreement": 1,' "$TMP/run.json"; then
    pass run-json-values
else
    fail run-json-values
fi
case_ run-limit 0 '"samples": 3,' "$HNNC" run "$DIR/small.hnn" --data "$DATA" --json --limit 3
# deep.hnn: 3 refresh points of 3 ciphertexts (after s1, s2, s3); the 16
# samples are one evaluation. One round trip per point, all its ciphertexts.
case_ run-batch-refresh 0 '"refresh_round_trips": 3,' "$HNNC" run "$DIR/deep.hnn" --data "$DATA" --json --outputs "$TMP/run-deep.csv"
if grep -q '"refresh_ciphertexts": 9,' "$TMP/out"; then pass run-batch-refresh-ciphertexts; else fail run-batch-refresh-ciphertexts; fi
case_ run-batch-text 0 "per sample amortised" "$HNNC" run "$DIR/deep.hnn" --data "$DATA"
if grep -q "^refresh: 3 round trips with the key holder (9 ciphertexts), " "$TMP/out"; then
    pass run-batch-refresh-text
else
    fail run-batch-refresh-text
    grep refresh "$TMP/out"
fi

# ---------------------------------------------------------------- client/server on files
K=$TMP/keys
case_ keygen 0 "keys for small" "$HNNC" keygen "$DIR/small.hnn" -o "$K"
if [ -f "$K/params.hnnrt" ] && [ -f "$K/relin-key.hnnrt" ] && [ -f "$K/galois-keys.hnnrt" ] &&
    [ "$(stat -c %a "$K/secret-key.hnnrt")" = 600 ]; then pass keygen-files; else fail keygen-files; ls -l "$K"; fi
check encrypt "$HNNC" encrypt "$DIR/small.hnn" --keys "$K" --data "$DATA" -o "$TMP/in.hnnb"
# the server runs with the secret key out of reach
mv "$K/secret-key.hnnrt" "$TMP/secret-key.hnnrt"
check eval-without-secret-key "$HNNC" eval "$DIR/small.hnn" --keys "$K" -i "$TMP/in.hnnb" -o "$TMP/out.hnnb" --threads 1
case_ eval-refuses-secret-input 1 "holds a secret key; refusing" "$HNNC" eval "$DIR/small.hnn" --keys "$K" -i "$TMP/secret-key.hnnrt" -o "$TMP/x.hnnb"
mkdir "$TMP/evil"
cp "$K/params.hnnrt" "$K/galois-keys.hnnrt" "$TMP/evil/"
cp "$TMP/secret-key.hnnrt" "$TMP/evil/relin-key.hnnrt"
case_ eval-refuses-secret-as-key 1 "holds a secret key; refusing" "$HNNC" eval "$DIR/small.hnn" --keys "$TMP/evil" -i "$TMP/in.hnnb" -o "$TMP/x.hnnb"
mv "$TMP/secret-key.hnnrt" "$K/secret-key.hnnrt"
check decrypt "$HNNC" decrypt "$DIR/small.hnn" --keys "$K" -i "$TMP/out.hnnb" -o "$TMP/dec-small.csv"
if same_outputs "$TMP/dec-small.csv" "$TMP/run-small.csv"; then pass roundtrip-matches-run; else fail roundtrip-matches-run; fi
case_ decrypt-json 0 '"predictions": \[' "$HNNC" decrypt "$DIR/small.hnn" --keys "$K" -i "$TMP/out.hnnb" --json
case_ decrypt-wrong-stage 1 "a bundle of inputs; decrypt reads outputs" "$HNNC" decrypt "$DIR/small.hnn" --keys "$K" -i "$TMP/in.hnnb"

# refresh points through files: hnnc refresh answers eval's masked requests
KD=$TMP/keys-deep
check keygen-deep "$HNNC" keygen "$DIR/deep.hnn" -o "$KD"
check encrypt-deep "$HNNC" encrypt "$DIR/deep.hnn" --keys "$KD" --data "$DATA" -o "$TMP/in-deep.hnnb"
case_ eval-refresh-needs-dir 1 "refresh points: give --refresh-dir" "$HNNC" eval "$DIR/deep.hnn" --keys "$KD" -i "$TMP/in-deep.hnnb" -o "$TMP/o.hnnb"
# the server's key directory: the parameters and evaluation keys only
mkdir "$TMP/x" "$TMP/server"
cp "$KD/params.hnnrt" "$KD/relin-key.hnnrt" "$TMP/server/"
"$HNNC" refresh --keys "$KD" "$TMP/x" --timeout 30 >"$TMP/refresh.log" 2>&1 &
rpid=$!
case_ eval-refresh-files 0 "3 refresh round trips (9 ciphertexts)" "$HNNC" eval "$DIR/deep.hnn" --keys "$TMP/server" -i "$TMP/in-deep.hnnb" -o "$TMP/out-deep.hnnb" --refresh-dir "$TMP/x" --timeout 30
if wait "$rpid" && grep -q "3 refresh requests answered (9 ciphertexts)" "$TMP/refresh.log"; then pass refresh-exits; else fail refresh-exits; cat "$TMP/refresh.log"; fi
check decrypt-deep "$HNNC" decrypt "$DIR/deep.hnn" --keys "$KD" -i "$TMP/out-deep.hnnb" -o "$TMP/dec-deep.csv"
if same_outputs "$TMP/dec-deep.csv" "$TMP/run-deep.csv"; then pass roundtrip-refresh-matches-run; else fail roundtrip-refresh-matches-run; fi
mkdir "$TMP/y"
case_ eval-refresh-timeout 1 "no reply from the key holder" "$HNNC" eval "$DIR/deep.hnn" --keys "$KD" -i "$TMP/in-deep.hnnb" -o "$TMP/o.hnnb" --refresh-dir "$TMP/y" --timeout 1

# A hostile key holder: replies made from eval's first request (the point's
# 3 masked ciphertexts), each refused with a reason and without a hang.
# fake_reply DIR EDIT: waits for DIR/request-000000.hnnb, copies it, runs
# EDIT on the copy and renames it to DIR/reply-000000.hnnb.
fake_reply() {
    d=$1 edit=$2 i=0
    while [ ! -f "$d/request-000000.hnnb" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    cp "$d/request-000000.hnnb" "$d/fake" && $edit "$d/fake" && mv "$d/fake" "$d/reply-000000.hnnb"
}
as_reply() { printf '\004' | dd of="$1" bs=1 seek=6 conv=notrunc 2>/dev/null; }
# the reply stage, one ciphertext less than the request (all 3 are the same size)
short_reply() {
    as_reply "$1"
    size=$(wc -c <"$1")
    head -c $((48 + 2 * ((size - 48) / 3))) "$1" >"$1.cut" && mv "$1.cut" "$1"
    printf '\002' | dd of="$1" bs=1 seek=20 conv=notrunc 2>/dev/null
}
garbage_reply() { printf 'HNNB garbage' >"$1"; }
hostile() {
    name=$1 edit=$2 pattern=$3
    mkdir "$TMP/$name"
    fake_reply "$TMP/$name" "$edit" &
    fpid=$!
    case_ "$name" 1 "$pattern" "$HNNC" eval "$DIR/deep.hnn" --keys "$TMP/server" -i "$TMP/in-deep.hnnb" -o "$TMP/o.hnnb" --refresh-dir "$TMP/$name" --timeout 30
    wait "$fpid"
}
hostile refresh-reply-is-the-request true "not a refresh reply for these keys"
hostile refresh-reply-not-reencrypted as_reply "ciphertext 0 re-encrypted at level 1 scale .*, not 3 0x1p+40"
hostile refresh-reply-short short_reply "2 ciphertexts in 1 groups; the request had 3 in 1"
hostile refresh-reply-garbage garbage_reply "truncated"
# and the key holder's side: a request that is not one is refused, not waited on
mkdir "$TMP/req"
printf 'garbage' >"$TMP/req/request-000000.hnnb"
case_ refresh-garbage-request 1 "not a ciphertext bundle" "$HNNC" refresh --keys "$KD" "$TMP/req" --timeout 5

# ---------------------------------------------------------------- corrupted files
head -c 1000 "$TMP/out.hnnb" >"$TMP/cut.hnnb"
case_ decrypt-truncated 1 "truncated" "$HNNC" decrypt "$DIR/small.hnn" --keys "$K" -i "$TMP/cut.hnnb"
# residues beyond their prime: 64 bytes of ones inside the first ciphertext
cp "$TMP/out.hnnb" "$TMP/bad.hnnb"
printf '\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377' |
    dd of="$TMP/bad.hnnb" bs=1 seek=4000 conv=notrunc 2>/dev/null
case_ decrypt-corrupt-residues 1 "not below" "$HNNC" decrypt "$DIR/small.hnn" --keys "$K" -i "$TMP/bad.hnnb"
printf 'garbage' >"$TMP/garbage.hnnb"
case_ eval-garbage-input 1 "not a ciphertext bundle" "$HNNC" eval "$DIR/small.hnn" --keys "$K" -i "$TMP/garbage.hnnb" -o "$TMP/x.hnnb"
mkdir "$TMP/badkeys"
cp "$K/params.hnnrt" "$K/galois-keys.hnnrt" "$TMP/badkeys/"
head -c 5000 "$K/relin-key.hnnrt" >"$TMP/badkeys/relin-key.hnnrt"
case_ eval-truncated-relin-key 1 "relin-key.hnnrt" "$HNNC" eval "$DIR/small.hnn" --keys "$TMP/badkeys" -i "$TMP/in.hnnb" -o "$TMP/x.hnnb"
cp "$K/relin-key.hnnrt" "$TMP/badkeys/"
printf 'HNRT' >"$TMP/badkeys/galois-keys.hnnrt"
case_ eval-corrupt-galois-keys 1 "galois-keys.hnnrt" "$HNNC" eval "$DIR/small.hnn" --keys "$TMP/badkeys" -i "$TMP/in.hnnb" -o "$TMP/x.hnnb"
case_ eval-wrong-keys 1 "other parameters" "$HNNC" eval "$DIR/small.hnn" --keys "$KD" -i "$TMP/in.hnnb" -o "$TMP/x.hnnb"
case_ decrypt-missing-keys 1 "secret-key.hnnrt" "$HNNC" decrypt "$DIR/small.hnn" --keys "$TMP/evil" -i "$TMP/out.hnnb"

# ---------------------------------------------------------------- usage and data errors
case_ run-no-data 2 "no data given" "$HNNC" run "$DIR/small.hnn"
case_ run-bad-threads 2 "--threads needs" "$HNNC" run "$DIR/small.hnn" --data "$DATA" --threads 0
case_ run-bad-limit 2 "--limit needs" "$HNNC" run "$DIR/small.hnn" --data "$DATA" --limit x
case_ run-unknown-option 2 "unknown option" "$HNNC" run "$DIR/small.hnn" --data "$DATA" --fast
case_ eval-no-input 2 "no input given" "$HNNC" eval "$DIR/small.hnn" --keys "$K" -o "$TMP/x.hnnb"
case_ keygen-no-output 2 "no output given" "$HNNC" keygen "$DIR/small.hnn"
case_ refresh-no-dir 2 "no exchange directory" "$HNNC" refresh --keys "$K"
printf 'a,b,c,label\n0.1,0.2,0.3,0\n0.1,oops,0.3,1\n' >"$TMP/bad.csv"
case_ run-malformed-row 1 "bad.csv:3: field 2 ('oops') is not a number" "$HNNC" run "$DIR/small.hnn" --data "$TMP/bad.csv"
printf '0.1,0.2,0.3,0.4,0.5,0\n' >"$TMP/wide.csv"
case_ run-wrong-width 1 "wide.csv:1: 6 fields; the model's input takes 3" "$HNNC" run "$DIR/small.hnn" --data "$TMP/wide.csv"
case_ run-missing-data 1 "cannot open" "$HNNC" run "$DIR/small.hnn" --data "$TMP/absent.csv"
printf '\037\213\010\000' >"$TMP/images.gz"
case_ run-gzip-damaged 1 "images.gz: read error" "$HNNC" run "$DIR/small.hnn" --data "$TMP/images.gz"
printf '3,0,0,cat\n-1,0.5,0.2,dog\n0,0,0,cat\n' >"$TMP/names.csv"
case_ run-class-names 0 "classes: 0 = cat, 1 = dog" "$HNNC" run "$DIR/small.hnn" --data "$TMP/names.csv"
case_ run-out-of-range-warning 0 "1 feature value of 1 sample in .* lies outside the model's input range" "$HNNC" run "$DIR/small.hnn" --data "$TMP/names.csv"
# values outside the range are clamped by the encoder, for the plaintext reference too: counted and reported
case_ run-clamped-text 0 "inputs: 1 value clamped into their declared ranges (1 sample)" "$HNNC" run "$DIR/small.hnn" --data "$TMP/names.csv"
case_ run-clamped-json 0 '"clamped_values": 1,' "$HNNC" run "$DIR/small.hnn" --data "$TMP/names.csv" --json
case_ encrypt-clamps 0 "1 feature value lies outside the model's input range; clamped to it" "$HNNC" encrypt "$DIR/small.hnn" --keys "$K" --data "$TMP/names.csv" -o "$TMP/clamped.hnnb"
case_ help-lists-run 0 "keygen" "$HNNC" help

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
