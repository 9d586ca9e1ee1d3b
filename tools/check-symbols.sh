#!/bin/sh
# Fails when libhnnrt exports a symbol without the hnnrt_ prefix: generated code
# is linked into users' services next to other libraries.
set -eu
status=0
so=$1; a=$2
bad=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRV]$/ {print $3}' | grep -v '^hnnrt_' | grep -Ev '^(_init|_fini|_edata|_end|__bss_start)$' || true)
if [ -n "$bad" ]; then echo "check-symbols: $so exports unprefixed symbols:"; echo "$bad"; status=1; fi
bad=$(nm -g --defined-only "$a" 2>/dev/null | awk 'NF==3 && $2 ~ /^[TDBRVC]$/ {print $3}' | grep -v '^hnnrt_' | grep -Ev '^(__odr_asan|__asan|__ubsan|__sancov)' || true)
if [ -n "$bad" ]; then echo "check-symbols: $a defines unprefixed global symbols:"; echo "$bad"; status=1; fi
[ $status -eq 0 ] && echo "check-symbols: ok"
exit $status
