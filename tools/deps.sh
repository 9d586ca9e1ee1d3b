#!/bin/sh
# Installs the Debian packages hnnc needs to build and test, when they are missing.
# Used by `make` targets so that a fresh Debian machine needs no other set-up step.
set -eu

packages="make gcc flex bison libjansson-dev libcmocka-dev libsodium-dev zlib1g-dev"
[ "${1:-}" = "--with-clang" ] && packages="$packages clang libclang-rt-14-dev"

missing=""
for p in $packages; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "hnnc: missing packages:$missing (no apt-get on this machine; install them by hand)" >&2
    exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
else
    echo "hnnc: missing packages:$missing (need root or sudo to install them)" >&2
    exit 1
fi
echo "hnnc: installing missing Debian packages:$missing" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >&2
