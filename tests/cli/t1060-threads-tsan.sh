#!/usr/bin/env bash
# The backup and restore pipelines under ThreadSanitizer (build/tsan,
# `make MODE=tsan`): four workers and four read-ahead threads on a tree
# with multi-chunk files, duplicates, a file that dedups inside itself and
# hundreds of small files (batches); then an incremental backup with a
# changed file, a restore (chunks read ahead), a sub-path restore and a
# scrub.  Any data race reported fails the test; the restores must be
# identical to the source.
. "$(dirname "$0")/lib.sh"
TS=${VG_BIN_TSAN:-}
if [ -z "$TS" ] || [ ! -x "$TS" ]; then
	ok "threads under TSan # skipped: no build/tsan/vigil (make MODE=tsan)"
	done_testing
	exit 0
fi
export TSAN_OPTIONS="halt_on_error=1:exitcode=66:report_signal_unsafe=0"
export VIGIL_WORKERS=4 # more threads than cores: more interleavings
src=$T/src
mkdir -p "$src/small" "$src/big"
head -c 6000000 /dev/urandom > "$src/big/r1"
cp "$src/big/r1" "$src/big/r1-copy"
{ head -c 1500000 /dev/urandom > "$T/blk"; cat "$T/blk" "$T/blk" "$T/blk"; } > "$src/big/repeats"
seq 1 400000 > "$src/big/text"
for i in $(seq 1 300); do seq 1 $((i * 7)) > "$src/small/f$i"; done
for i in $(seq 1 50); do head -c $((i * 1300)) /dev/urandom > "$src/small/r$i"; done

tsan() { # NAME CMD...: run under TSan, fail on any report
	local name=$1; shift
	if "$@" > "$T/out" 2> "$T/err"; then rc=0; else rc=$?; fi
	if grep -q "ThreadSanitizer" "$T/err" || [ "$rc" -ge 2 ]; then
		not_ok "$name" "exit $rc: $(grep -m3 -A12 'WARNING: ThreadSanitizer\|vigil:' "$T/err" | head -30)"
	else
		ok "$name"
	fi
}
tsan "init" "$TS" init --layout raidz1 "$T/a" "$T/b" "$T/c"
tsan "first backup: no race" "$TS" backup --vault "$T/a" "$src"
echo more >> "$src/big/text"
tsan "incremental backup: no race" "$TS" backup --vault "$T/a" "$src"
tsan "restore with read-ahead: no race" "$TS" restore --vault "$T/a" latest "$T/r"
diff -r "$src" "$T/r/src" > /dev/null && ok "restore is identical" || not_ok "restore is identical"
tsan "sub-path restore --verify: no race" "$TS" restore --verify --vault "$T/a" latest:"$src/big" "$T/r2"
cmp -s "$src/big/repeats" "$T/r2/repeats" && ok "sub-path restore is identical" || not_ok "sub-path restore is identical"
tsan "scrub: no race" "$TS" scrub --vault "$T/a"
done_testing
