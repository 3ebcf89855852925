#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Fresh-machine set-up: install Debian packages, build, then either run the
# probe on the bundled capture (demo) or pass the test suite (test).
# Idempotent: packages already present are not fetched again, the build
# directory is reused.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(build-essential cmake pkg-config clang llvm libmsgpack-dev libcriterion-dev
      libpcap-dev libssl-dev zlib1g-dev libhyperscan-dev tshark python3
      libxdp-dev libbpf-dev bpftool dpdk-dev libdpdk-dev librdkafka-dev
      tcpdump tcpreplay iproute2 curl lftp swaks libnet-ssleay-perl libio-socket-ssl-perl
      openssl vsftpd
      dovecot-imapd dovecot-pop3d opensmtpd gnuplot-nox libndpi-bin jq valgrind
      nginx dnsmasq-base bind9-dnsutils ethtool time)

install_deps() {
	local missing=()
	for p in "${PKGS[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	local sudo=""
	[ "$(id -u)" -ne 0 ] && sudo="sudo"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

build() { # build DIR [cmake args...]
	local dir=$1; shift
	cmake -S . -B "$dir" "$@" >/dev/null
	cmake --build "$dir" -j"$(nproc)"
}

case "${1:-}" in
demo)
	install_deps
	build build -DCMAKE_BUILD_TYPE=Release
	./build/probe/gcprobe --read data/demo.pcap --format json
	;;
test)
	install_deps
	build build -DCMAKE_BUILD_TYPE=Release
	ctest --test-dir build --output-on-failure -j"$(nproc)"
	;;
*)
	echo "usage: $0 demo|test" >&2
	exit 2
	;;
esac
