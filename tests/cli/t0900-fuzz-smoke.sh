#!/usr/bin/env bash
# Every fuzz target builds and survives a short run (seeded from
# tests/fixtures/fuzz/<target>/ when present), so the targets never rot.
# Longer campaigns: see fuzz/Makefile.
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
if ! command -v clang >/dev/null; then
	not_ok build "clang is missing (make deps installs it)"
	exit 1
fi
if out=$(make -s fuzz 2>&1); then ok build; else not_ok build "$out"; exit 1; fi
for t in build/fuzz/fuzz_*; do
	name=$(basename "$t")
	corpus="$T/$name"
	mkdir -p "$corpus"
	seeds="tests/fixtures/fuzz/${name#fuzz_}"
	[ -d "$seeds" ] && cp -r "$seeds"/. "$corpus"/
	if out=$("$t" -runs="${VG_FUZZ_RUNS:-20000}" -max_len=65536 "$corpus" 2>&1); then
		ok "$name"
	else
		not_ok "$name" "$(echo "$out" | grep -E 'ERROR|SUMMARY' | head -3)"
	fi
done
done_testing
