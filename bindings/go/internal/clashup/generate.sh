#!/bin/sh
# Regenerates the SWIG layer of the Go binding (lashup.go, lashup_wrap.c in
# this directory) from bindings/swig/lashup.i and include/lashup/lashup.h.
# The output is checked in so that `go build` needs no SWIG; the ctest
# `go_swig_generated_up_to_date` fails when it differs from what this script
# writes. Usage: generate.sh [OUTDIR] (default: this directory).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
outdir=${1:-$here}
mkdir -p "$outdir"
# Relative paths from the repository root keep the generated text free of
# the checkout's location.
cd "$root"
swig -go -cgo -intgosize 64 -package clashup -Iinclude \
  -o "$outdir/lashup_wrap.c" -outdir "$outdir" bindings/swig/lashup.i
# The generated C file is compiled by cgo alongside the library's headers;
# gofmt keeps the Go file in the form `go vet` and editors expect.
gofmt -w "$outdir/lashup.go"
