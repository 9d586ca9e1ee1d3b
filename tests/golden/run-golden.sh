#!/bin/sh
# Golden tests for the hnnc front end. Run from the repository root:
#   sh tests/golden/run-golden.sh            (BUILD defaults to build)
#
#   valid/NAME.hnn     must check (exit 0). `hnnc check --print` must equal
#                      NAME.pretty, `hnnc check --dump` must equal NAME.dump, and
#                      stderr must equal NAME.err (empty when there is no .err).
#                      The printed form must print to itself again (fixed point).
#   invalid/NAME.hnn   must fail (exit 1) with exactly NAME.err on stderr.
#                      NAME starts with the lang/SPEC.md section it tests.
#   robust/NAME.hnn    hostile input: exit 1 with exactly NAME.err.
#   generated          1 MB lines, deep nesting, binary noise made on the fly:
#                      exit 1, an error message, no crash, no hang.
#
# Each case prints [PASS] or [FAIL] (with a diff); the last line is
# "N passed, N failed".
set -u
BUILD=${BUILD:-build}
root=$(cd "$(dirname "$0")" && pwd)
case $BUILD in
/*) HNNC=$BUILD/bin/hnnc ;;
*) HNNC=$(pwd)/$BUILD/bin/hnnc ;;
esac
if [ ! -x "$HNNC" ]; then
    echo "run-golden: $HNNC not found; build it first (make $BUILD/bin/hnnc)" >&2
    echo "0 passed, 1 failed"
    exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

pass() { passed=$((passed + 1)); echo "[PASS] $1"; }
fail() { failed=$((failed + 1)); echo "[FAIL] $1: $2"; [ -f "$tmp/diff" ] && cat "$tmp/diff"; rm -f "$tmp/diff"; }

# same EXPECTED ACTUAL: compares, leaving a diff in $tmp/diff
same() {
    if [ -f "$1" ]; then
        diff -u "$1" "$2" >"$tmp/diff" 2>&1 && { rm -f "$tmp/diff"; return 0; }
        return 1
    fi
    # no expectation file: the output must be empty
    [ ! -s "$2" ] && return 0
    { echo "unexpected output (no $(basename "$1")):"; cat "$2"; } >"$tmp/diff"
    return 1
}

# run DIR FILE ARGS...: runs hnnc check inside DIR, so paths in messages are short
run() {
    dir=$1
    shift
    (cd "$dir" && timeout 20 "$HNNC" check "$@") >"$tmp/out" 2>"$tmp/err"
    echo $? >"$tmp/status"
}

status() { cat "$tmp/status"; }

for f in "$root"/valid/*.hnn; do
    [ -f "$f" ] || continue
    name=valid/$(basename "$f" .hnn)
    base=${f%.hnn}
    run "$root/valid" "$(basename "$f")" --print
    if [ "$(status)" -ne 0 ]; then fail "$name" "--print exited $(status)"; cat "$tmp/err"; continue; fi
    if ! same "$base.pretty" "$tmp/out"; then fail "$name" "canonical form differs"; continue; fi
    cp "$tmp/out" "$tmp/pretty.hnn"
    run "$tmp" pretty.hnn --print
    if ! cmp -s "$tmp/out" "$tmp/pretty.hnn"; then
        diff -u "$tmp/pretty.hnn" "$tmp/out" >"$tmp/diff"
        fail "$name" "print -> parse -> print is not a fixed point"
        continue
    fi
    run "$root/valid" "$(basename "$f")" --dump
    if [ "$(status)" -ne 0 ]; then fail "$name" "check exited $(status)"; cat "$tmp/err"; continue; fi
    if ! same "$base.dump" "$tmp/out"; then fail "$name" "checked model differs"; continue; fi
    if ! same "$base.err" "$tmp/err"; then fail "$name" "diagnostics differ"; continue; fi
    pass "$name"
done

for kind in invalid robust; do
    for f in "$root"/$kind/*.hnn; do
        [ -f "$f" ] || continue
        name=$kind/$(basename "$f" .hnn)
        run "$root/$kind" "$(basename "$f")"
        if [ "$(status)" -ne 1 ]; then
            fail "$name" "exit status $(status), expected 1"
            cat "$tmp/err"
            continue
        fi
        if ! same "${f%.hnn}.err" "$tmp/err"; then fail "$name" "diagnostics differ"; continue; fi
        if [ -s "$tmp/out" ]; then fail "$name" "printed to stdout on error"; continue; fi
        pass "$name"
    done
done

# Every example in lang/SPEC.md (a block fenced as ```hnn) parses; those that
# name no weights file also check.
spec=$root/../../lang/SPEC.md
if [ -f "$spec" ]; then
    mkdir -p "$tmp/spec"
    awk -v dir="$tmp/spec" '
        inblock && /^```$/ { inblock = 0; close(file); next }
        /^```hnn$/ { inblock = 1; n++; file = sprintf("%s/example-%02d.hnn", dir, n); next }
        inblock { print > file }
    ' "$spec"
    for f in "$tmp"/spec/example-*.hnn; do
        [ -f "$f" ] || continue
        name=spec/$(basename "$f" .hnn)
        if grep -q 'weights "' "$f"; then
            run "$tmp/spec" "$(basename "$f")" --print
        else
            run "$tmp/spec" "$(basename "$f")"
        fi
        if [ "$(status)" -ne 0 ]; then
            fail "$name" "the example in lang/SPEC.md does not check"
            cat "$f" "$tmp/err"
        else
            pass "$name"
        fi
    done
fi

# The command line: exit statuses, help, version, summaries.
# cli NAME STATUS PATTERN ARGS...: hnnc ARGS exits with STATUS and its output
# (stdout and stderr) matches the grep pattern.
cli() {
    name=$1 want=$2 pattern=$3
    shift 3
    (cd "$root/valid" && timeout 20 "$HNNC" "$@") >"$tmp/out" 2>&1
    st=$?
    if [ "$st" -ne "$want" ]; then
        fail "cli/$name" "exit status $st, expected $want"
        cat "$tmp/out"
    elif ! grep -q -- "$pattern" "$tmp/out"; then
        fail "cli/$name" "output does not match '$pattern'"
        cat "$tmp/out"
    else
        pass "cli/$name"
    fi
}
cli no-arguments 2 'usage: hnnc COMMAND'
cli version 0 '^hnnc [0-9][0-9.]*$' --version
cli help 0 '^  check ' help
cli help-flag 0 '^  check ' --help
cli help-check 0 'usage: hnnc check' help check
cli check-help 0 'usage: hnnc check' check --help
cli help-help 0 'usage: hnnc help' help --help
cli help-unknown 2 "unknown command 'nope'" help nope
cli unknown-command 2 "unknown command 'chek'; did you mean 'check'?" chek x.hnn
cli unknown-option 2 "unknown option '--verbose'" --verbose
cli check-no-file 2 'no model file given' check
cli check-bad-option 2 "unknown option '--frobnicate'" check --frobnicate iris.hnn
cli check-max-errors-bad 2 'needs a number' check --max-errors=x iris.hnn
cli check-missing-file 1 "hnnc: error: cannot read 'nothere.hnn': No such file or directory" check nothere.hnn
cli check-directory 1 "cannot read '.': Is a directory" check .
cli check-summary 0 '^iris: 4 layers, 68 parameters, input vector(4), output vector(3)$' check iris.hnn
cli check-several 0 '^cryptonets: 7 layers' check iris.hnn cryptonets.hnn
cli check-several-one-bad 1 '^iris: 4 layers' check iris.hnn nothere.hnn
cli check-werror 1 'error: layer .spare. is never used' check -Werror 4.4-unused-layer-warning.hnn
cli check-no-warnings 0 '^m: 4 layers' check -w 4.4-unused-layer-warning.hnn
cli check-weights-override 1 "cannot read the weights file 'none.json'" check --weights none.json iris.hnn
cli check-max-errors 1 '1 more error not shown' check --max-errors 1 ../invalid/4.1-no-input-no-output.hnn

# gen NAME: checks $tmp/gen/NAME.hnn fails cleanly (exit 1, an error, in time)
gen() {
    run "$tmp/gen" "$1.hnn"
    st=$(status)
    if [ "$st" -ne 1 ]; then
        fail "generated/$1" "exit status $st, expected 1 (124 is a timeout, >128 a crash)"
        head -c 2000 "$tmp/err"
    elif ! grep -q ': error: ' "$tmp/err"; then
        fail "generated/$1" "no error message"
    elif [ "$(wc -c <"$tmp/err")" -gt 20000 ]; then
        fail "generated/$1" "diagnostics are $(wc -c <"$tmp/err") bytes: long input must be clipped"
    else
        pass "generated/$1"
    fi
}
mkdir -p "$tmp/gen"
# 1 MB names, comments and numbers on one line
awk 'BEGIN { s = "bbbbbbbbbbbbbbbb"; while (length(s) < 1048576) s = s s;
    printf "model m { input x: vector(4) range [-1, 1]; # %s\n layer d = dense(x, %s); output %s; }\n", s, s, s }' >"$tmp/gen/long-line.hnn"
gen long-line
awk 'BEGIN { s = "1111111111111111"; while (length(s) < 1048576) s = s s;
    printf "model m { input x: vector(%s) range [-1, 1]; output x; }\n", s }' >"$tmp/gen/long-number.hnn"
gen long-number
awk 'BEGIN { s = "xxxxxxxxxxxxxxxx"; while (length(s) < 1048576) s = s s;
    printf "model m { weights \"%s\"; }\n", s }' >"$tmp/gen/long-string.hnn"
gen long-string
# 100,000 open brackets, and as many parentheses
awk 'BEGIN { printf "model m { input x: vector(2) range ["; for (i = 0; i < 100000; i++) printf "["; print "" }' >"$tmp/gen/deep-brackets.hnn"
gen deep-brackets
awk 'BEGIN { printf "model m { layer a = dense("; for (i = 0; i < 100000; i++) printf "f("; print "" }' >"$tmp/gen/deep-calls.hnn"
gen deep-calls
# 256 KB of pseudo-random bytes (a fixed linear congruential sequence)
awk 'BEGIN { x = 12345; for (i = 0; i < 262144; i++) { x = (x * 1103515245 + 12345) % 2147483648;
    c = int(x / 65536) % 255 + 1; printf "%c", c } }' >"$tmp/gen/noise.hnn"
gen noise
# a valid model followed by noise; and a model cut in the middle of every line
{ printf 'model m { input x: vector(2) range [0, 1]; output x; }\n'; cat "$tmp/gen/noise.hnn"; } >"$tmp/gen/trailing-noise.hnn"
gen trailing-noise
# thousands of errors: the report stops at the limit
awk 'BEGIN { print "model m {"; for (i = 0; i < 20000; i++) print "  layer @ = ;"; print "}" }' >"$tmp/gen/many-errors.hnn"
gen many-errors
# a weights file of 4 MB that is not JSON, and one with a huge wrong-shaped array
printf 'model m { input x: vector(2) range [0, 1]; weights "w.json"; layer d = dense(x, 2); output d; }\n' >"$tmp/gen/bad-weights.hnn"
awk 'BEGIN { s = "[1, 2, 3, 4, 5, 6, 7, 8, "; while (length(s) < 4194304) s = s s; print "{\"layers\": {\"d\": {\"weight\": " s }' >"$tmp/gen/w.json"
gen bad-weights
awk 'BEGIN { printf "{\"layers\": {\"d\": {\"weight\": ["; for (i = 0; i < 200000; i++) printf "%s[1, 2]", (i ? ", " : ""); print "]}}}" }' >"$tmp/gen/w.json"
cp "$tmp/gen/bad-weights.hnn" "$tmp/gen/big-weights.hnn"
gen big-weights

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
