#!/bin/sh
# Installs the Debian 12 packages liblashup needs to build and test, if any
# are missing. Idempotent: with everything present it changes nothing and
# needs no network. Run as root.
set -eu

packages="
  cmake ninja-build pkg-config clang libclang-rt-14-dev g++ binutils
  libgtest-dev libcmocka-dev abigail-tools
  libevent-dev libssl-dev libdb5.3-dev libdb5.3++-dev openssl
  iproute2 nftables python3 procps
"
# Further packages, one list per part (bindings, tools): whitespace-separated
# names, '#' starts a comment.
for list in "$(dirname "$0")"/deps.d/*.list; do
  [ -f "$list" ] || continue
  packages="$packages $(sed 's/#.*//' "$list")"
done

missing=""
for p in $packages; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done

if [ -z "$missing" ]; then
  echo "install-deps: all packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages:$missing; run as root to install them" >&2
  exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
