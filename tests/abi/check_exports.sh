#!/bin/sh
# check_exports.sh LIBRARY HEADER LIST
# The dynamic symbols liblashup.so defines must be exactly the functions
# declared with LASHUP_API in the public header, and exactly the committed
# list (so an addition is a reviewed change of tests/abi/exported_symbols.txt).
set -eu
library=$1 header=$2 list=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

nm -D --defined-only "$library" | awk '{print $NF}' | sed 's/@.*//' | grep -v '^LASHUP_' | sort -u > "$tmp/exported"
# Declarations may span lines: join the header, then take the identifier
# before the first '(' of each LASHUP_API declaration.
tr '\n' ' ' < "$header" | grep -o 'LASHUP_API[^;(]*(' | sed 's/($//; s/.*[ *]//' | grep '^lashup_' | sort -u > "$tmp/declared"
sort -u "$list" > "$tmp/listed"

status=0
if ! diff -u "$tmp/declared" "$tmp/exported" > "$tmp/d1"; then
  echo "exported symbols differ from the functions declared in $header:"; cat "$tmp/d1"; status=1
fi
if ! diff -u "$tmp/listed" "$tmp/exported" > "$tmp/d2"; then
  echo "exported symbols differ from $list:"; cat "$tmp/d2"; status=1
fi
# Every exported symbol must carry the version node of lashup.map.
if nm -D --defined-only "$library" | awk '{print $NF}' | grep '^lashup_' | grep -qv '@@LASHUP_1.0$'; then
  echo "some lashup_ symbols lack the LASHUP_1.0 version node"; status=1
fi
[ $status -eq 0 ] && echo "exports OK: $(wc -l < "$tmp/exported") symbols"
exit $status
