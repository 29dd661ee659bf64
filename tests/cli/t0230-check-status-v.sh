#!/usr/bin/env bash
# check finds a missing segment file (exit 2, named); status -v lists the
# files hit by a block damaged beyond repair on a single-device vault -
# exactly those that no longer restore - and every other file restores;
# status --json carries the health record.
. "$(dirname "$0")/lib.sh"
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
mkdir -p "$T/src" "$T/v"
for i in $(seq 0 19); do head -c 300000 /dev/urandom > "$T/src/f$i"; done
"$VG" init --layout single "$T/v/d0" >/dev/null && "$VG" backup --vault "$T/v/d0" "$T/src" >/dev/null || { not_ok setup; exit 1; }
expect_exit 0 "check: a sound vault" "$VG" check --vault "$T/v/d0"
contains "check: says so" "$OUT" "no problems found"
expect_exit 0 "status: clean" "$VG" status --vault "$T/v/d0"
[ "$("$VG" status --json --vault "$T/v/d0" | field "d['health']['level']")" = WARN ] && ok "health: never scrubbed is a warning" || not_ok "health: never scrubbed"

mkdir -p "$T/m"
"$VG" init --layout mirror "$T/m/a" "$T/m/b" >/dev/null && "$VG" backup --vault "$T/m/a" "$T/src" >/dev/null || not_ok "mirror setup"
rm "$T/m/b/seg-00000000"
expect_exit 2 "check: a missing segment file fails" "$VG" check --vault "$T/m/a"
contains "check: names it" "$OUT" "segment file 0 is missing"

# 4 KiB of garbage 1 MiB into the segment: inside the first data pack
python3 - "$T/v/d0/seg-00000000" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(1 << 20); f.write(b"\xa5" * 4096)
PY
expect_exit 2 "scrub: finds unrecoverable damage" "$VG" scrub --vault "$T/v/d0"
expect_exit 2 "status: exits 2 with data lost" "$VG" status --vault "$T/v/d0"
contains "status: points at -v" "$OUT" "use '-v'"
expect_exit 2 "status -v: exits 2" "$VG" status -v --vault "$T/v/d0"
contains "status -v: the permanent-error list" "$OUT" "Permanent errors have been detected in the following files"
listed=$(echo "$OUT" | sed -n 's/.*): \/src\/\(f[0-9]*\)$/\1/p' | sort | tr '\n' ' ')
rm -rf "$T/r"; "$VG" restore --vault "$T/v/d0" latest "$T/r" >/dev/null 2>&1
broken=$(for i in $(seq 0 19); do cmp -s "$T/src/f$i" "$T/r/src/f$i" || echo "f$i"; done | sort | tr '\n' ' ')
[ -n "$listed" ] && [ "$listed" = "$broken" ] && ok "status -v lists exactly the files that do not restore ($listed)" || not_ok "listed = broken" "listed '$listed' broken '$broken'"
[ "$("$VG" status --json --vault "$T/v/d0" | field "d['health']['level'], len(d['damaged'])")" = "CRIT $(echo $broken | wc -w)" ] && ok "status --json: critical, damaged list" || not_ok "status --json: critical"
done_testing
