#!/usr/bin/env bash
# t9000_fuzz_smoke.sh - every libFuzzer target (make fuzz: the parsers of
# on-disk structures and of tool outputs) runs a fixed, seeded number of
# inputs mutated from its seeds: the real samples under tests/fixtures.
# Any crash, leak, sanitizer report or hang fails the target.  Skipped
# when the fuzz build is absent (`make check` builds it).
. "$(dirname "$0")/lib.sh"
FZ="$ROOT/build/fuzz"
F="$ROOT/tests/fixtures"
# seeds NAME DIR: copy the target's seeds into DIR
seeds() {
	case $1 in
	fuzz_zpool_text) cp "$F"/health/zpool-status*.txt "$2"/ 2>/dev/null ;;
	fuzz_zpool_json) cp "$F"/health/zpool*.json "$2"/ 2>/dev/null ;;
	fuzz_btrfs) cp "$F"/health/btrfs-*.txt "$2"/ ;;
	fuzz_mdstat) cp "$F"/health/mdstat-*.txt "$2"/ ;;
	fuzz_smart) cp "$F"/health/smartctl-*.json "$2"/ ;;
	fuzz_pg_control) cp "$F"/pg/pg_control-* "$2"/ && rm -f "$2"/*.source ;;
	fuzz_mountinfo) cp /proc/self/mountinfo "$2"/this-machine 2>/dev/null ;;
	*) [ -d "$F/fuzz/${1#fuzz_}" ] && cp -r "$F/fuzz/${1#fuzz_}"/. "$2"/ ;;
	esac
	return 0
}
n=0
for bin in "$FZ"/fuzz_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	n=$((n + 1))
	mkdir -p "$T/$name"
	seeds "$name" "$T/$name"
	if timeout 60 "$bin" -seed=1 -runs=20000 -max_total_time=5 -timeout=5 -rss_limit_mb=1024 \
		"$T/$name" >"$T/$name.log" 2>&1; then
		ok "$name"
	else
		not_ok "$name" "$(grep -m3 -e ERROR -e SUMMARY -e 'deadly signal' "$T/$name.log")"
	fi
done
[ "$n" -gt 0 ] || ok "fuzz targets # skipped: not built (make fuzz)"
done_testing
