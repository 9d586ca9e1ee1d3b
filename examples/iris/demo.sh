#!/bin/sh
# The iris example end to end, as a service would run it: the plan, the
# generated C, the keys, then the 30 test flowers encrypted by the key holder,
# classified by a server that holds no secret key, decrypted, and compared
# with the same network on plaintext. Run by `make demo` from the repository
# root; BUILD names the build directory (default build).
set -eu

BUILD=${BUILD:-build}
HNNC=$BUILD/bin/hnnc
MODEL=examples/iris/iris.hnn
TEST=examples/iris/data/iris-test.csv
WORK=$BUILD/demo
CC=${CC:-cc}
export HNNRT_THREADS="${HNNRT_THREADS:-1}"

rm -rf "$WORK"
mkdir -p "$WORK/server-keys"

step() { printf '\n== %s\n' "$*"; }
bytes() { wc -c <"$1" | tr -d ' '; }
mib() { awk -v b="$1" 'BEGIN { if (b < 1e5) printf "%.1f kB", b / 1e3; else printf "%.2f MB", b / 1e6 }'; }

step "1. The plan: hnnc report $MODEL"
"$HNNC" report "$MODEL"

step "2. The generated C: hnnc compile $MODEL -o $WORK/gen"
"$HNNC" compile "$MODEL" -o "$WORK/gen" --report "$WORK/gen/iris.report.json"
for side in client server; do
    $CC -std=c17 -O2 -Wall -Wextra -Werror -c "$WORK/gen/iris_$side.c" -o "$WORK/gen/iris_$side.o" -Iruntime/include
done
printf 'iris_client.c %s lines, iris_server.c %s lines: both compile with %s -Wall -Wextra -Werror\n' \
    "$(wc -l <"$WORK/gen/iris_client.c" | tr -d ' ')" "$(wc -l <"$WORK/gen/iris_server.c" | tr -d ' ')" "$CC"
if nm -u "$WORK/gen/iris_server.o" | grep -Eq 'hnnrt_(decrypt|decryptor_|keygen_|secret_key_)'; then
    echo "the server object references a secret-key function" >&2
    exit 1
fi
echo "the server object references no function that touches a secret key (nm -u)"

step "3. Keys (key holder): hnnc keygen"
"$HNNC" keygen "$MODEL" -o "$WORK/keys"
for f in "$WORK"/keys/*.hnnrt; do
    printf '  %-20s %s\n' "$(basename "$f")" "$(mib "$(bytes "$f")")"
done
# The server gets the evaluation keys only.
cp "$WORK/keys/params.hnnrt" "$WORK/keys/relin-key.hnnrt" "$WORK/server-keys/"
[ -f "$WORK/keys/galois-keys.hnnrt" ] && cp "$WORK/keys/galois-keys.hnnrt" "$WORK/server-keys/"

step "4. Encrypt the test set (key holder, public key): hnnc encrypt"
"$HNNC" encrypt "$MODEL" --keys "$WORK/keys" --data "$TEST" -o "$WORK/inputs.hnnb"
echo "  inputs.hnnb $(mib "$(bytes "$WORK/inputs.hnnb")")"

step "5. Evaluate (server, no secret key): hnnc eval"
"$HNNC" eval "$MODEL" --keys "$WORK/server-keys" -i "$WORK/inputs.hnnb" -o "$WORK/outputs.hnnb"
echo "  outputs.hnnb $(mib "$(bytes "$WORK/outputs.hnnb")")"

step "6. Decrypt (key holder): hnnc decrypt"
"$HNNC" decrypt "$MODEL" --keys "$WORK/keys" -i "$WORK/outputs.hnnb" -o "$WORK/outputs.csv"
# Classes are numbered in order of first appearance, as hnnc numbers them.
awk -F, 'NR == FNR { if (!($NF in id)) id[$NF] = n++; label[FNR] = id[$NF]; next }
         { best = 1; for (i = 2; i <= NF; i++) if ($i > $best) best = i
           right += (best - 1 == label[FNR]); total++ }
         END { printf "  decrypted predictions: %d of %d test flowers right (%.2f %%)\n", right, total, 100 * right / total }' \
    "$TEST" "$WORK/outputs.csv"

step "7. Encrypted against plaintext, the whole test set: hnnc run"
"$HNNC" run "$MODEL" --data "$TEST"
