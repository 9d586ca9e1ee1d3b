#!/bin/sh
# End-to-end tests of the C back end: hnnc compile -> the generated code built
# alone with every warning as an error (gcc, and clang when present) -> the
# server object checked with nm for secret-key functions -> tests/e2e/driver.c
# linked with it: keys, encrypt, evaluate (refresh through the key holder's
# callback), decrypt, compared with the plan on doubles and with the executor
# within the plan's precision estimate. Also: --weights file, bad weights
# files refused, usage errors.
set -u
BUILD=${BUILD:-build}
HNNC=$BUILD/bin/hnnc
DIR=$(dirname "$0")
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0
WARN="-std=c17 -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Wvla -Wformat=2 -Wundef -Wpointer-arith"
CC=${CC:-cc}
CLANG=$(command -v clang || true)

pass() { echo "[PASS] $1"; passed=$((passed + 1)); }
fail() { echo "[FAIL] $1"; sed 's/^/    /' "$TMP/log" | head -30; failed=$((failed + 1)); }

# e2e NAME MODEL SAMPLES [hnnc compile options...]: the whole chain for one model.
e2e() {
    name=$1 model=$2 samples=$3
    shift 3
    out=$TMP/$name
    if ! "$HNNC" compile "$model" -o "$out" "$@" >"$TMP/log" 2>&1; then fail "$name: compile"; return; fi
    h=$(ls "$out"/*.h) base=$(basename "$h" .h)
    up=$(echo "$base" | tr '[:lower:]' '[:upper:]')
    if ! $CC $WARN -O1 -c "$out/${base}_client.c" -o "$out/client.o" -Iruntime/include >"$TMP/log" 2>&1 ||
        ! $CC $WARN -O1 -c "$out/${base}_server.c" -o "$out/server.o" -Iruntime/include >>"$TMP/log" 2>&1; then
        fail "$name: generated code compiles with $CC"; return
    fi
    if [ -n "$CLANG" ] && [ "$CC" != "$CLANG" ] && [ "$CC" != clang ]; then
        if ! clang $WARN -fsyntax-only "$out/${base}_client.c" "$out/${base}_server.c" -Iruntime/include >"$TMP/log" 2>&1; then
            fail "$name: generated code compiles with clang"; return
        fi
    fi
    # The server object references nothing that touches the secret key.
    nm -u "$out/server.o" >"$TMP/syms"
    if grep -E 'hnnrt_(decrypt|decryptor_|keygen_|secret_key_)' "$TMP/syms" >"$TMP/log"; then
        fail "$name: server object references secret-key functions"; return
    fi
    if ! grep -q hnnrt_evaluator_new "$TMP/syms"; then
        echo "nm found no hnnrt_evaluator_new" >"$TMP/log"; fail "$name: nm sees the server's symbols"; return
    fi
    if ! $CC $WARN -O1 ${SAN:-} -fopenmp -D_POSIX_C_SOURCE=200809L -DE2E_MODEL="$base" -DE2E_UP="$up" \
        -DE2E_HEADER="\"$base.h\"" -I"$out" -Iruntime/include -Icompiler -I"$BUILD/gen" -Ilang \
        -o "$out/driver" "$DIR/driver.c" "$out/client.o" "$out/server.o" \
        "$BUILD/lib/libhnnc.a" "$BUILD/lib/libhnnrt.a" -ljansson -lz -lsodium -lm >"$TMP/log" 2>&1; then
        fail "$name: driver builds"; return
    fi
    weights=""
    [ -f "$out/$base.weights" ] && weights="$out/$base.weights"
    if HNNRT_THREADS=1 "$out/driver" "$model" "$samples" $weights >"$TMP/log" 2>&1; then
        pass "$name"
        sed 's/^/    /' "$TMP/log"
    else
        fail "$name"
    fi
}

e2e identity "$DIR/models/ident.hnn" 16
e2e lin "$DIR/models/lin.hnn" 64
e2e sq-batch "$DIR/models/sq.hnn" 128
e2e sq-table "$DIR/models/sq.hnn" 128 --style table
e2e sigmoid-batch "$DIR/models/sig.hnn" 128
e2e deep-refresh "$DIR/../cli/deep.hnn" 256
e2e deep-refresh-table-file "$DIR/../cli/deep.hnn" 256 --style table --weights file
e2e vector-poly "$DIR/models/scal.hnn" 2
e2e vector-residual "$DIR/models/res.hnn" 3
e2e vector-f16-hoisted "$DIR/models/f16.hnn" 2
e2e vector-f16-table "$DIR/models/f16.hnn" 2 --style table
e2e vector-cnn "$DIR/models/cnn.hnn" 2
e2e element-ranges-batch "$DIR/models/ranges.hnn" 64
e2e channel-ranges-vector "$DIR/models/ranges-vec.hnn" 2
e2e vector-softargmax "$DIR/../cli/small.hnn" 2
e2e iris "$DIR/../golden/valid/iris.hnn" 3
e2e iris-weights-file "$DIR/../golden/valid/iris.hnn" 2 --weights file

# Bad weights files: the deep-refresh-table-file build's server refuses each.
out=$TMP/deep-refresh-table-file
w=$out/deep.weights
if [ -x "$out/driver" ] && [ -f "$w" ]; then
    size=$(wc -c <"$w")
    head -c $((size - 8)) "$w" >"$TMP/truncated.weights"
    cp "$w" "$TMP/flipped.weights"
    printf '\001' | dd of="$TMP/flipped.weights" bs=1 seek=$((size - 5)) conv=notrunc 2>/dev/null
    cp "$w" "$TMP/magic.weights"
    printf 'X' | dd of="$TMP/magic.weights" bs=1 seek=0 conv=notrunc 2>/dev/null
    cp "$w" "$TMP/trailing.weights"
    printf 'junk' >>"$TMP/trailing.weights"
    for bad in truncated flipped magic trailing missing; do
        if "$out/driver" --bad-weights "$TMP/$bad.weights" >"$TMP/log" 2>&1; then
            pass "bad-weights-$bad ($(sed 's/^refused: //' "$TMP/log"))"
        else
            fail "bad-weights-$bad"
        fi
    done
else
    echo "no weights build" >"$TMP/log"
    fail "bad-weights"
fi

# The same model compiles to the same bytes (build systems and reviews rely on it).
if "$HNNC" compile "$DIR/../golden/valid/iris.hnn" -o "$TMP/det1" --weights file >"$TMP/log" 2>&1 &&
    "$HNNC" compile "$DIR/../golden/valid/iris.hnn" -o "$TMP/det2" --weights file >>"$TMP/log" 2>&1 &&
    (for f in iris.h iris_client.c iris_server.c iris.weights; do cmp "$TMP/det1/$f" "$TMP/det2/$f" || exit 1; done) >>"$TMP/log" 2>&1
then
    pass "compile-deterministic"
else
    fail "compile-deterministic"
fi

# Usage and user errors of hnnc compile.
status_case() {
    name=$1 want=$2
    shift 2
    "$@" >"$TMP/log" 2>&1
    got=$?
    if [ "$got" -eq "$want" ]; then pass "$name"; else echo "status $got, want $want" >>"$TMP/log"; fail "$name"; fi
}
status_case compile-no-output 2 "$HNNC" compile "$DIR/models/lin.hnn"
status_case compile-bad-weights-option 2 "$HNNC" compile "$DIR/models/lin.hnn" -o "$TMP/x" --weights inline
status_case compile-bad-style 2 "$HNNC" compile "$DIR/models/lin.hnn" -o "$TMP/x" --style fancy
status_case compile-missing-model 1 "$HNNC" compile "$DIR/models/none.hnn" -o "$TMP/x"
status_case compile-unwritable-dir 1 "$HNNC" compile "$DIR/models/lin.hnn" -o /proc/no-such-dir
status_case compile-help 0 "$HNNC" compile --help
if "$HNNC" compile "$DIR/models/lin.hnn" -o "$TMP/rep" --report "$TMP/rep.json" >"$TMP/log" 2>&1 &&
    grep -q '"schema": "hnnc-report"' "$TMP/rep.json"; then
    pass "compile-report-json"
else
    fail "compile-report-json"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
