#!/bin/sh
# The examples' full runs, behind `make examples`, `make example-NAME` and
# `make weights-NAME`. Each examples/NAME/example.conf names its files:
#   MODEL, WEIGHTS            the model and its committed weights
#   TRAIN, TRAIN_LABELS       training data (labels: IDX only)
#   TEST, TEST_LABELS         test data
#   RUN_ARGS                  extra `hnnc run` options (optional)
#
#   tools/example.sh weights NAME   retrain from the seed; compare with WEIGHTS byte for byte
#   tools/example.sh run NAME       the whole test split, encrypted against plaintext
set -eu

[ $# -eq 2 ] || { echo "usage: tools/example.sh weights|run NAME" >&2; exit 2; }
action=$1
name=$2
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$(pwd)/$BUILD ;; esac
HNNC=$BUILD/bin/hnnc
dir=examples/$name
[ -f "$dir/example.conf" ] || { echo "tools/example.sh: no example '$name' ($dir/example.conf)" >&2; exit 2; }
TRAIN_LABELS="" TEST_LABELS="" RUN_ARGS=""
. "./$dir/example.conf"
cd "$dir"

case $action in
weights)
    out=$BUILD/examples/$name.weights.json
    mkdir -p "$(dirname "$out")"
    echo "== $name: hnnc train $MODEL --from-scratch (the train block's seed)"
    "$HNNC" train "$MODEL" --from-scratch --data "$TRAIN" ${TRAIN_LABELS:+--labels "$TRAIN_LABELS"} \
        --test "$TEST" ${TEST_LABELS:+--test-labels "$TEST_LABELS"} -o "$out"
    if cmp -s "$out" "$WEIGHTS"; then
        echo "$name: $out equals $dir/$WEIGHTS byte for byte"
    else
        echo "$name: $out differs from $dir/$WEIGHTS" >&2
        exit 1
    fi
    ;;
run)
    echo "== $name: hnnc run $MODEL --data $TEST (threads: ${HNNRT_THREADS:-all})"
    # shellcheck disable=SC2086 # RUN_ARGS is a list of options
    "$HNNC" run "$MODEL" --data "$TEST" ${TEST_LABELS:+--labels "$TEST_LABELS"} $RUN_ARGS
    ;;
*)
    echo "usage: tools/example.sh weights|run NAME" >&2
    exit 2
    ;;
esac
