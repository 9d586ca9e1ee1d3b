#!/bin/sh
# Runs every test program given as an argument, then every scripted test
# (tests/*/run-*.sh), and closes with one line: "N passed, N failed".
# A cmocka program counts as its number of test cases; a script prints its own
# "N passed, N failed" line, which is added in.
set -u
BUILD=${BUILD:-build}
SAN=${SAN:-}
export BUILD SAN
passed=0
failed=0
failed_names=""
log=$(mktemp)
trap 'rm -f "$log"' EXIT

count() { # $1 = name, $2 = exit status; reads the log
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p; s/^\([0-9]*\) passed, [0-9]* failed.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p; s/^[0-9]* passed, \([0-9]*\) failed.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
    if [ "$2" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    passed=$((passed + p))
    failed=$((failed + f))
    [ "$f" -ne 0 ] && failed_names="$failed_names $1"
}

for t in "$@"; do
    printf '== %s\n' "$t"
    timeout 600 "$t" >"$log" 2>&1
    rc=$?
    grep -E '^\[ +(FAILED|PASSED|SKIPPED|ERROR|LINE) +\]|^  measured ' "$log" | head -60
    [ "$rc" -ne 0 ] && tail -30 "$log"
    count "$t" "$rc"
done

for s in tests/*/run-*.sh; do
    [ -f "$s" ] || continue
    printf '== %s\n' "$s"
    timeout 900 sh "$s" >"$log" 2>&1
    rc=$?
    grep -E 'FAIL|SKIP' "$log" | head -40
    [ "$rc" -ne 0 ] && tail -30 "$log"
    count "$s" "$rc"
done

[ -n "$failed_names" ] && echo "failing:$failed_names"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
