#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Installs the build into a scratch prefix, compiles docs/example/embed.c
# against it with pkg-config only, and checks it prints records.
set -euo pipefail
src=$1 build=$2
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
pcdir=$(dirname "$(find "$prefix" -name gcprobe.pc | head -1)")
libdir=$(PKG_CONFIG_PATH=$pcdir pkg-config --variable=libdir gcprobe)
cc -Wall -Wextra -Werror "$src/docs/example/embed.c" -o "$prefix/embed" \
	$(PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs gcprobe) -Wl,-rpath,"$libdir"
out=$("$prefix/embed" "$src/data/demo.pcap")
echo "$out"
grep -q '"type":"http"' <<<"$out"
grep -q '"type":"dns"' <<<"$out"
# Only the public API is exported from the shared library.
if nm -D --defined-only "$libdir/libgcprobe.so" | awk '{print $3}' | grep -v '^gcp_' | grep -v '^GCPROBE' | grep -q .; then
	echo "non-gcp_ symbols exported" >&2
	exit 1
fi
echo "install example: ok"
