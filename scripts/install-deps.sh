#!/bin/sh
# Install everything vigil needs to build, test and benchmark on Debian 12.
# Idempotent; skips apt-get when every package is already installed.
set -eu

PKGS="build-essential pkg-config clang llvm libclang-rt-14-dev
libisal-dev libssl-dev libsodium-dev libxxhash-dev libzstd-dev
libcurl4-openssl-dev libcurl4 libjansson-dev libinih-dev
python3 postgresql postgresql-contrib restic borgbackup
attr acl time strace util-linux"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
