#!/bin/sh
# check_abi.sh LIBRARY HEADERS_DIR BASELINE
# Compares the ABI of the built library against the committed baseline with
# abidiff. Added functions are allowed (a compatible change; refresh the
# baseline with scripts/update-abi-baseline.sh); any other change — a removed
# function, a changed signature or type — fails.
set -eu
library=$1 headers=$2 baseline=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
abidw --headers-dir "$headers" --drop-private-types --suppressions "$(dirname "$0")/opaque_types.suppr" --no-show-locs --no-corpus-path --out-file "$tmp/current.abi" "$library"
set +e
abidiff --no-added-syms "$baseline" "$tmp/current.abi" > "$tmp/report"
status=$?
set -e
cat "$tmp/report"
# abidiff's status is a bit field: 1 error, 2 usage, 4 ABI change, 8
# incompatible ABI change.
if [ $status -ne 0 ]; then
  echo "ABI differs from $baseline (abidiff status $status)"
  exit 1
fi
echo "ABI OK against $baseline"
