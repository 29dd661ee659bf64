#!/usr/bin/env bash
# A scrub killed with SIGKILL at 20 random points resumes each time from its
# last checkpoint, finishes, and leaves a vault that verifies and restores
# identically; its damage is all repaired.
. "$(dirname "$0")/lib.sh"
src=$T/src
mkdir -p "$src"
for i in $(seq 1 12); do head -c 1000000 /dev/urandom > "$src/f$i"; done
D=("$T/v/d1" "$T/v/d2" "$T/v/d3")
mkdir -p "$T/v"
"$VG" init --layout raidz1 "${D[@]}" >/dev/null && "$VG" backup --vault "${D[0]}" "$src" >/dev/null || { not_ok setup; exit 1; }
python3 - "${D[1]}" <<'PY'
import os, random, sys, glob
random.seed(11)
for f in glob.glob(sys.argv[1] + "/seg-*"):
    n = os.path.getsize(f)
    with open(f, "r+b") as h:
        for b in range(0, n, 65536):
            h.seek(b + random.randrange(0, min(65536, n - b))); h.write(os.urandom(16))
PY
export VIGIL_SCRUB_CHECKPOINT=0.05
resumed=0
for k in $(seq 1 20); do
	"$VG" scrub --rate 1 --vault "${D[0]}" >"$T/out.$k" 2>&1 &
	pid=$!
	sleep "0.$(( RANDOM % 4 + 1 ))$(( RANDOM % 10 ))"  # at 1 MB/s, 20 runs cannot finish the 11 MB
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	st=$("$VG" status --json --vault "${D[0]}" | python3 -c "import json,sys; d=json.load(sys.stdin)['scrub']; print(d['state'], d['bytes_done'])")
	case "$st" in running*) resumed=$((resumed+1)) ;; esac
done
[ "$resumed" -ge 10 ] && ok "killed scrubs left resumable checkpoints ($resumed of 20)" || not_ok "killed scrubs left resumable checkpoints" "$resumed"
expect_exit 1 "the final run resumes and finishes" "$VG" scrub --vault "${D[0]}"
contains "the final run says it resumed" "$OUT" "resumed"
expect_exit 0 "a second scrub finds nothing" "$VG" scrub --vault "${D[0]}"
rm -rf "$T/r"
"$VG" restore --vault "${D[0]}" latest "$T/r" >/dev/null 2>&1 && diff -r "$src" "$T/r/src" >/dev/null && ok "restore identical" || not_ok "restore identical"
done_testing
