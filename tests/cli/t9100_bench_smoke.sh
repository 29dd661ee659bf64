#!/usr/bin/env bash
# t9100_bench_smoke.sh - bench/run still runs end to end (vigil, restic
# and borg side by side, every row with its ratio) at a tiny scale, so the
# benchmark cannot rot between the runs that produce the published
# figures.  Figures at this scale mean nothing; only the shape is checked.
. "$(dirname "$0")/lib.sh"
B="$ROOT/build/release"
if [ ! -x "$B/vigil" ] || [ ! -x "$B/bench/bench_pool" ]; then
	ok "bench/run # skipped: no release build (make MODE=release all)"
	done_testing
	exit 0
fi
out=$(cd "$ROOT" && BENCH_RUNS=1 BENCH_SCALE=0.01 BENCH_MIB=16 BENCH_SCRUB_MIB=16 BENCH_TINY_FILES=2000 \
	bench/run 2>&1)
rc=$?
[ "$rc" = 0 ] && ok "bench/run completes" || not_ok "bench/run completes" "exit $rc: $(echo "$out" | tail -5)"
contains "storage engine figures" "$out" "raw read of the device files"
contains "scrub against restic" "$out" "restic check --read-data:"
contains "scrub against borg" "$out" "borg check --verify-data:"
for step in first nochange changed restore verify; do
	echo "$out" | grep -Eq "^   $step +[0-9.]+ s +[0-9.]+ s +[0-9.]+ s +[0-9.]+x \|" && ok "row $step with its ratio" ||
		not_ok "row $step with its ratio" "$(echo "$out" | grep -E "^   $step" | head -1)"
done
contains "syscalls per file" "$out" "syscalls per file"
contains "tiny files" "$out" "2000 tiny files"
case "$out" in *failed*) not_ok "no step failed" "$(echo "$out" | grep failed | head -3)" ;; *) ok "no step failed" ;; esac
done_testing
