#!/bin/sh
# hnnc train from the command line: usage errors, training the iris data,
# the weights read back by hnnc check, and the same seed giving the same file.
set -u
BUILD=${BUILD:-build}
HNNC=$BUILD/bin/hnnc
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); }
ko() { failed=$((failed + 1)); echo "FAIL: $1"; }
expect() { # status, description, command...
    want=$1; what=$2; shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" -eq "$want" ]; then ok; else ko "$what (exit $got, expected $want)"; cat "$tmp/err"; fi
}

cat >"$tmp/m.hnn" <<'HNN'
model m {
  input x: vector(4) range [0, 8];
  weights none;
  layer h = dense(x, 6);
  layer a = poly(h, coeffs [0, 0.5, 0.25]);
  layer o = dense(a, 3);
  output softargmax(o, T 1);
  train { optimizer sgd(lr 0.01, momentum 0.9); epochs 4; batch 8; seed 3; }
}
HNN
data=examples/iris/data

expect 0 "--help" "$HNNC" train --help
grep -q "usage: hnnc train" "$tmp/out" && ok || ko "--help text"
expect 2 "no data" "$HNNC" train "$tmp/m.hnn" -o "$tmp/w.json"
expect 2 "no output" "$HNNC" train "$tmp/m.hnn" --data "$data/iris-train.csv"
expect 2 "bad seed" "$HNNC" train "$tmp/m.hnn" --data "$data/iris-train.csv" -o "$tmp/w.json" --seed x
expect 1 "missing data file" "$HNNC" train "$tmp/m.hnn" --data "$tmp/none.csv" -o "$tmp/w.json"
expect 0 "train" "$HNNC" train "$tmp/m.hnn" --data "$data/iris-train.csv" --test "$data/iris-test.csv" -o "$tmp/w.json"
[ "$(grep -c '^epoch ' "$tmp/out")" -eq 4 ] && ok || ko "one line per epoch"
grep -q "test accuracy" "$tmp/out" && ok || ko "test accuracy reported"
[ ! -s "$tmp/err" ] && ok || ko "no progress bar when stderr is not a terminal"
expect 0 "check --weights" "$HNNC" check "$tmp/m.hnn" --weights "$tmp/w.json"
[ ! -s "$tmp/err" ] && ok || ko "weights read back without warnings"
expect 0 "train again" "$HNNC" train "$tmp/m.hnn" --data "$data/iris-train.csv" -o "$tmp/w2.json" -q
cmp -s "$tmp/w.json" "$tmp/w2.json" && ok || ko "same seed, same bytes"
expect 0 "other seed" "$HNNC" train "$tmp/m.hnn" --data "$data/iris-train.csv" -o "$tmp/w3.json" -q --seed 4
cmp -s "$tmp/w.json" "$tmp/w3.json" && ko "another seed, other weights" || ok
# The iris example's weights come back byte for byte from its data and seed.
expect 0 "iris from scratch" "$HNNC" train examples/iris/iris.hnn --from-scratch --data "$data/iris-train.csv" -o "$tmp/iris.json" -q
cmp -s "$tmp/iris.json" examples/iris/iris.weights.json && ok || ko "iris weights reproduced"
printf '1,2,3,a\n' >"$tmp/bad.csv"
expect 1 "too few features" "$HNNC" train "$tmp/m.hnn" --data "$tmp/bad.csv" -o "$tmp/w.json"

# --print-range: per element, [min, max] widened by the margin (not below 0
# for a column never negative), rounded outward to 3 digits of the width.
printf '0,-1,100,5,a\n1,1,4300,5,b\n0.5,0,200,5,a\n' >"$tmp/scales.csv"
expect 0 "--print-range" "$HNNC" train "$tmp/m.hnn" --data "$tmp/scales.csv" --print-range
[ "$(cat "$tmp/out")" = "range [[0, 1.05], [-1.1, 1.1], [0, 4510], [4.75, 5.25]]" ] && ok ||
    ko "--print-range clause (got '$(cat "$tmp/out")')"
expect 0 "--margin 0" "$HNNC" train "$tmp/m.hnn" --data "$tmp/scales.csv" --print-range --margin 0
[ "$(cat "$tmp/out")" = "range [[0, 1], [-1, 1], [100, 4300], [4.95, 5.05]]" ] && ok ||
    ko "--margin 0 clause (got '$(cat "$tmp/out")')"
expect 2 "bad margin" "$HNNC" train "$tmp/m.hnn" --data "$tmp/scales.csv" --print-range --margin -1
# ends that are multiples of 0.01 print as such (452 * 0.01 is 4.5200000000000005 in binary)
expect 0 "--print-range on iris" "$HNNC" train "$tmp/m.hnn" --data "$data/iris-train.csv" --print-range
[ "$(cat "$tmp/out")" = "range [[4.12, 8.08], [1.88, 4.52], [0.7, 7.2], [0, 2.62]]" ] && ok ||
    ko "--print-range on iris (got '$(cat "$tmp/out")')"
# values outside the range are clamped for training, as the encoder does
printf '0,1,2,9,a\n1,2,3,4,b\n' >"$tmp/wide.csv"
expect 0 "train on data outside the range" "$HNNC" train "$tmp/m.hnn" --data "$tmp/wide.csv" -o "$tmp/w4.json" -q
grep -q "1 value in .* lies outside the input range of 'x'; clamped to it" "$tmp/err" && ok ||
    ko "clamping reported"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
