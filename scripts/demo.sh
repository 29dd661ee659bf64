#!/usr/bin/env bash
# The demo behind `make demo`: a raidz2 vault over four directories, a
# backup of a sample tree, one device destroyed and another silently
# damaged, a restore that is still byte-identical, and `vigil status`.
#
#   scripts/demo.sh [VIGIL_BINARY]      (default build/release/vigil)
#   DEMO_DIR=/some/dir scripts/demo.sh  keep the demo files there
set -eu
VG=${1:-build/release/vigil}
VG=$(cd "$(dirname "$VG")" && pwd)/$(basename "$VG")
export VIGIL_PASSWORD=${VIGIL_PASSWORD:-demo passphrase} # the vault is encrypted
base=${DEMO_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/vigil-demo-XXXXXX")}
mkdir -p "$base"
cd "$base"
rm -rf vault-a vault-b vault-c vault-d src restored
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "a sample tree to protect"
mkdir -p src/docs src/photos src/empty
for i in $(seq 1 200); do echo "note $i: $(date +%s%N)" > "src/docs/note-$i.txt"; done
head -c 20000000 /dev/urandom > src/photos/big.raw
printf 'hello\n' > "src/docs/odd name with spaces.txt"
ln -s docs/note-1.txt src/link-to-note
du -sh src

say "vigil init --layout raidz2 (four devices, any two may fail)"
"$VG" init --layout raidz2 "$base/vault-a" "$base/vault-b" "$base/vault-c" "$base/vault-d"

say "vigil backup"
"$VG" backup --vault "$base/vault-a" src | tail -3
"$VG" snapshots --vault "$base/vault-a"

say "disaster: vault-b is destroyed, vault-c silently rots"
rm -rf "$base/vault-b"
for f in "$base"/vault-c/seg-*; do
	size=$(stat -c %s "$f")
	for k in 1 2 3 4 5 6 7 8; do
		printf 'ROTTENBYTES' | dd of="$f" bs=1 seek=$(( (RANDOM * 32768 + RANDOM) % size )) conv=notrunc status=none
	done
done

say "vigil restore latest"
if "$VG" restore --vault "$base/vault-c" latest restored; then :; fi
if diff -r src restored/src >/dev/null 2>&1 || diff -r src restored >/dev/null 2>&1; then
	echo "restore is byte-identical to the source"
else
	echo "restore differs from the source (beyond the vault's redundancy)"
fi

say "vigil status"
"$VG" status --vault "$base/vault-a" || true
echo
echo "demo files are in $base"
