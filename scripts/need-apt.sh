#!/usr/bin/env bash
# need-apt.sh COMMAND PACKAGE: make sure COMMAND exists, installing Debian's
# PACKAGE when it does not (CI runs as root on a machine with only Go). The
# package index is refreshed only when the first install attempt fails, so a
# warm machine makes no network call at all.
set -euo pipefail
cmd=$1 pkg=$2
command -v "$cmd" >/dev/null 2>&1 && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "need-apt: $cmd is missing; install the Debian package $pkg (apt-get install $pkg)" >&2
	exit 1
fi
echo "need-apt: installing $pkg for $cmd" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null ||
	{ apt-get update -qq && apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null; }
command -v "$cmd" >/dev/null
