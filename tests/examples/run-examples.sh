#!/bin/sh
# The examples that run in seconds, end to end (the others run with `make
# examples`): through tools/example.sh, each example's weights are reproduced
# byte for byte by its training run and its whole test split runs encrypted
# with the accuracy its README reports; its input ranges are the ones
# `hnnc train --print-range` computes from its training split.
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

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
