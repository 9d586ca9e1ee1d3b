#!/bin/sh
# The examples that run in seconds, end to end (the others run with `make
# examples`): through tools/example.sh, each example's weights are reproduced
# byte for byte by its training run and its whole test split runs encrypted
# with the accuracy its README reports; its input ranges are the ones
# `hnnc train --print-range` computes from its training split. The examples
# that take minutes are checked on a few samples.
set -u
BUILD=${BUILD:-build}
case $BUILD in
/*) ;;
*) BUILD=$(pwd)/$BUILD ;;
esac
export BUILD
HNNC=$BUILD/bin/hnnc
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
HNNRT_THREADS=1
export HNNRT_THREADS
passed=0
failed=0

pass() { echo "[PASS] $1"; passed=$((passed + 1)); }
fail() { echo "[FAIL] $1"; sed 's/^/    /' "$TMP/log" | head -20; failed=$((failed + 1)); }

# The numbers of a range clause, one per line (comments and layout aside).
range_numbers() { sed 's/#.*//' | tr -s ' [],\n' '\n' | grep -E '^-?[0-9.]+(e[-+]?[0-9]+)?$'; }

# ---------------------------------------------------------------- cancer
if sh tools/example.sh weights cancer >"$TMP/log" 2>&1; then pass cancer-weights-reproduce; else fail cancer-weights-reproduce; fi
C=examples/cancer
if (cd "$C" && "$HNNC" train cancer.hnn --data data/wdbc-train.csv --print-range) >"$TMP/range" 2>"$TMP/log" &&
    sed -n '/input x: vector(30) range \[/,/^  \];/p' "$C/cancer.hnn" | range_numbers >"$TMP/model-range" &&
    range_numbers <"$TMP/range" >"$TMP/printed-range" && [ "$(wc -l <"$TMP/model-range")" -eq 60 ] &&
    cmp "$TMP/model-range" "$TMP/printed-range" >>"$TMP/log" 2>&1; then
    pass cancer-ranges-from-training-split
else
    diff "$TMP/model-range" "$TMP/printed-range" >>"$TMP/log" 2>&1
    fail cancer-ranges-from-training-split
fi
sh tools/example.sh run cancer >"$TMP/log" 2>&1
if grep -q "accuracy: encrypted 98.23% (111/113), plaintext 98.23% (111/113)" "$TMP/log" &&
    grep -q "single output: class 1 above 0.5" "$TMP/log" &&
    grep -q "agreement: 100.00% of predicted classes (113/113)" "$TMP/log" &&
    grep -q "inputs: 5 values clamped into their declared ranges (4 samples)" "$TMP/log"; then
    pass cancer-encrypted-test-split
else
    fail cancer-encrypted-test-split
fi

# ---------------------------------------------------------------- mnist-lola
# Its whole test split and its training take minutes (make example-mnist-lola,
# weights-mnist-lola); here: the plan (vector packing, the client's layout of
# the image in 4 ciphertexts), the first two test images (a 7 and a 2)
# encrypted against plaintext with the error at most 2 bits above the
# estimate, and the first through the key holder / server split on files
# (the server with the evaluation keys only).
L=examples/mnist-lola
M=mnist-lola.hnn
IMAGES=data/t10k-images-idx3-ubyte.gz
LABELS=data/t10k-labels-idx1-ubyte.gz
if (cd "$L" && "$HNNC" report "$M") >"$TMP/log" 2>&1 && grep -q "vector packing, 5 levels consumed" "$TMP/log" &&
    grep -q "ciphertexts: in 4, out 1" "$TMP/log" &&
    grep -q "input: laid out by the client for the first layer, 4 ciphertexts of 8192 slots" "$TMP/log"; then
    pass mnist-lola-plan
else
    fail mnist-lola-plan
fi
if (cd "$L" && "$HNNC" run "$M" --data "$IMAGES" --labels "$LABELS" --limit 2) >"$TMP/log" 2>&1 &&
    grep -q "accuracy: encrypted 100.00% (2/2), plaintext 100.00% (2/2)" "$TMP/log" &&
    grep -q "agreement: 100.00% of predicted classes (2/2)" "$TMP/log" &&
    sed -n 's/.*; \([0-9.]*\) bits measured, estimated \([0-9.]*\).*/\1 \2/p' "$TMP/log" |
    awk '{ ok = $1 >= $2 - 2 } END { exit !ok }'; then
    pass mnist-lola-two-images
else
    fail mnist-lola-two-images
fi
if (cd "$L" && "$HNNC" keygen "$M" -o "$TMP/keys" && mkdir "$TMP/server" &&
    cp "$TMP/keys/params.hnnrt" "$TMP/keys/relin-key.hnnrt" "$TMP/keys/galois-keys.hnnrt" "$TMP/server/" &&
    "$HNNC" encrypt "$M" --keys "$TMP/keys" --data "$IMAGES" --limit 1 -o "$TMP/in.hnnb" &&
    "$HNNC" eval "$M" --keys "$TMP/server" -i "$TMP/in.hnnb" -o "$TMP/out.hnnb" &&
    "$HNNC" decrypt "$M" --keys "$TMP/keys" -i "$TMP/out.hnnb" --json) >"$TMP/log" 2>&1 &&
    grep -q '"predictions": *\[ *7 *\]' "$TMP/log"; then
    pass mnist-lola-client-server
else
    fail mnist-lola-client-server
fi

# ---------------------------------------------------------------- deep
# The deep MLP's plan: N = 2^14 and ten refresh points of 64 ciphertexts. Its
# batch-packed evaluation (8192 images, about a minute) is `make example-deep`;
# here the same network and weights run in vector packing, one ciphertext per
# image through the ten refreshes, on 2 test images (a few seconds): one
# round trip with the key holder per refresh point and evaluation, 10 x 2.
D=examples/deep
if (cd "$D" && "$HNNC" report deep.hnn) >"$TMP/report" 2>"$TMP/log" &&
    grep -q "^parameters: N = 2^14 (8192 slots)" "$TMP/report" &&
    grep -q "^refresh: the key holder refreshes 640 ciphertexts per evaluation in 10 round trips, after h1+n1, h2+n2, h3+n3, h4+n4, h5+n5, h6+n6, h7+n7, h8+n8, h9+n9, h10+n10 " "$TMP/report"; then
    pass deep-plan-refresh-points
else
    cat "$TMP/report" >>"$TMP/log"
    fail deep-plan-refresh-points
fi
sed 's/packing batch;/packing vector;/' "$D/deep.hnn" >"$TMP/deep-vector.hnn"
if "$HNNC" run "$TMP/deep-vector.hnn" --weights "$D/deep.weights.json" --data "$D/data/t10k-images-idx3-ubyte.gz" \
    --labels "$D/data/t10k-labels-idx1-ubyte.gz" --limit 2 --json >"$TMP/json" 2>"$TMP/log" &&
    grep -q '"packing": "vector",' "$TMP/json" && grep -q '"agreement": 1,' "$TMP/json" &&
    grep -q '"accuracy_encrypted": 1,' "$TMP/json" && grep -q '"refresh_round_trips": 20,' "$TMP/json" &&
    grep -q '"refresh_ciphertexts": 20,' "$TMP/json" &&
    grep -q '"interval_samples_outside": 0,' "$TMP/json" &&
    awk -F': ' '/"precision_bits_measured"/ { exit !($2 + 0 >= 12) }' "$TMP/json"; then
    pass deep-encrypted-2-images
else
    cat "$TMP/json" >>"$TMP/log"
    fail deep-encrypted-2-images
fi

# ---------------------------------------------------------------- mnist-cryptonets
# One evaluation serves up to 8192 images, so its cost does not depend on how
# many are sent: the first 64 test images, encrypted against plaintext (the
# whole test split and the training run are make example-/weights-mnist-cryptonets).
C=examples/mnist-cryptonets
if (cd "$C" && "$HNNC" report mnist-cryptonets.hnn) >"$TMP/log" 2>&1 &&
    grep -q "batch packing, 5 levels consumed" "$TMP/log" && grep -q "rotation keys none" "$TMP/log" &&
    grep -q "ciphertexts: in 784, out 10" "$TMP/log"; then
    pass mnist-cryptonets-plan
else
    fail mnist-cryptonets-plan
fi
if (cd "$C" && "$HNNC" run mnist-cryptonets.hnn --data data/t10k-images-idx3-ubyte.gz \
    --labels data/t10k-labels-idx1-ubyte.gz --limit 64) >"$TMP/log" 2>&1 &&
    grep -q "agreement: 100.00% of predicted classes (64/64)" "$TMP/log" &&
    sed -n 's/.*; \([0-9.]*\) bits measured, estimated \([0-9.]*\).*/\1 \2/p' "$TMP/log" |
    awk '{ ok = $1 >= $2 - 1 } END { exit !ok }'; then
    pass mnist-cryptonets-64-images
else
    fail mnist-cryptonets-64-images
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
