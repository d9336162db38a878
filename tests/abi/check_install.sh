#!/bin/sh
# check_install.sh BUILD_DIR SOURCE_DIR
# Installs the library to a temporary prefix, then builds and runs the C
# example with nothing but `pkg-config --cflags --libs lashup`.
set -eu
build=$1 source=$2
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" > "$prefix/install.log"
pcdir=$(dirname "$(find "$prefix" -name lashup.pc | head -n 1)")
export PKG_CONFIG_PATH="$pcdir"
cflags=$(pkg-config --cflags lashup)
libs=$(pkg-config --libs lashup)
echo "pkg-config: $cflags $libs"
# Nothing but the public headers may be installed.
extra=$(find "$prefix/include" -type f ! -name lashup.h ! -name lashup_version.h)
if [ -n "$extra" ]; then echo "unexpected installed headers: $extra"; exit 1; fi
cc -std=c99 -Wall -Wextra -Werror $cflags "$source/examples/c/hello.c" -o "$prefix/hello" $libs
libdir=$(pkg-config --variable=libdir lashup)
LD_LIBRARY_PATH="$libdir" "$prefix/hello"
# The SONAME is liblashup.so.<abi>.
soname=$(objdump -p "$libdir/liblashup.so" | awk '/SONAME/{print $2}')
case "$soname" in
  liblashup.so.[0-9]*) echo "SONAME $soname" ;;
  *) echo "bad SONAME: $soname"; exit 1 ;;
esac
