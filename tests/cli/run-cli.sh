#!/bin/sh
# Command-line tests of the planning commands: hnnc report, graph, calibrate.
# Each case runs hnnc, checks the exit status and a piece of the output.
set -u
BUILD=${BUILD:-build}
HNNC=$BUILD/bin/hnnc
DIR=$(dirname "$0")
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0

# case NAME EXPECTED_STATUS PATTERN CMD...: PATTERN must occur in stdout+stderr.
case_() {
    name=$1 want=$2 pattern=$3
    shift 3
    "$@" >"$TMP/out" 2>&1
    got=$?
    if [ "$got" -eq "$want" ] && { [ -z "$pattern" ] || grep -q -- "$pattern" "$TMP/out"; }; then
        echo "[PASS] $name"
        passed=$((passed + 1))
    else
        echo "[FAIL] $name (status $got, want $want; pattern '$pattern')"
        sed 's/^/    /' "$TMP/out" | head -20
        failed=$((failed + 1))
    fi
}

case_ report-text 0 "security: 128-bit" "$HNNC" report "$DIR/small.hnn"
case_ report-vector-keys 0 "rotation keys" "$HNNC" report "$DIR/small.hnn"
case_ report-json 0 '"schema": "hnnc-report"' "$HNNC" report --json "$DIR/small.hnn"
case_ report-json-precision 0 '"precision"' "$HNNC" report --json "$DIR/small.hnn"
case_ report-refresh 0 "the key holder refreshes 9 ciphertexts per evaluation in 3 round trips" "$HNNC" report "$DIR/deep.hnn"
case_ report-bootstrap-unavailable 1 "note: \`refresh bootstrap\` plans as \`refresh none\`" "$HNNC" report "$DIR/bootstrap.hnn"
case_ report-dump-tir 0 "affine" "$HNNC" report --dump-after tir-simplify "$DIR/small.hnn"
case_ report-dump-hir 0 "rescale" "$HNNC" report --dump-after scales "$DIR/small.hnn"
case_ report-bad-pass 2 "needs a pass" "$HNNC" report --dump-after nothing "$DIR/small.hnn"
case_ report-no-model 2 "no model file" "$HNNC" report
case_ report-precision-unmet 1 "error: the plan reaches an estimated" "$HNNC" report "$DIR/too-precise.hnn"
case_ report-precision-note 1 "note: raise the degree of 'a1'" "$HNNC" report "$DIR/too-precise.hnn"
case_ report-missing-file 1 "error" "$HNNC" report "$DIR/no-such-model.hnn"
case_ graph-hir 0 "digraph" "$HNNC" graph "$DIR/small.hnn"
case_ graph-layers-refresh 0 "doubleoctagon" "$HNNC" graph --layers "$DIR/deep.hnn"
case_ graph-file 0 "" "$HNNC" graph "$DIR/small.hnn" -o "$TMP/c.dot"
if grep -q "^digraph" "$TMP/c.dot" 2>/dev/null; then passed=$((passed + 1)); echo "[PASS] graph-file-content";
else failed=$((failed + 1)); echo "[FAIL] graph-file-content"; fi
printf '%s\n' '{"op": "add", "logN": 13, "levels": 2, "special": 1, "threads": 1, "median_ns": 1000, "runs": 9}' >"$TMP/b.jsonl"
case_ calibrate-bad-json 1 "error" sh -c "printf 'not json\n' | $HNNC calibrate"
case_ calibrate-bad-usage 2 "cannot be used together" "$HNNC" calibrate --c --json "$TMP/b.jsonl"
case_ help-lists-commands 0 "calibrate" "$HNNC" help

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
