#!/bin/sh
# The runtime is a strict chain of layers (arguments, bottom-up): a file in one
# layer may include the headers of its own layer and of the layers below only.
set -eu
status=0
i=0
for layer in "$@"; do
    i=$((i + 1))
    above=$(echo "$@" | tr ' ' '\n' | tail -n +$((i + 1)) | tr '\n' ' ')
    for f in runtime/src/"$layer"/*.[ch]; do
        [ -f "$f" ] || continue
        for up in $above; do
            if grep -Eq "#include +\"$up/" "$f"; then
                echo "check-layers: $f (layer $layer) includes a header of layer $up above it"
                status=1
            fi
        done
    done
done
[ $status -eq 0 ] && echo "check-layers: ok"
exit $status
