#!/usr/bin/env bash
# Maintenance: scrub finds and repairs silent damage (parity included) and
# a second scrub finds nothing; scrub needs no key and records its result
# for status; --pause/--stop and resume; replace rebuilds a lost device so
# the vault is ONLINE and survives losing another; clear resets counters.
. "$(dirname "$0")/lib.sh"

src=$T/src
mkdir -p "$src/d"
for i in 1 2 3 4 5 6; do head -c $((1500000 + i * 4096)) /dev/urandom > "$src/d/f$i"; done
for i in $(seq 1 30); do echo "small $i" > "$src/s$i"; done

corrupt() { # DEV SEED: 16 bytes in every 64 KiB of each segment file
	python3 - "$1" "$2" <<'PY'
import os, random, sys, glob
random.seed(sys.argv[2])
for f in glob.glob(sys.argv[1] + "/seg-*"):
    size = os.path.getsize(f)
    with open(f, "r+b") as fh:
        for base in range(0, size, 65536):
            fh.seek(base + random.randrange(0, min(65536, size - base)))
            fh.write(os.urandom(16))
PY
}
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
same() { rm -rf "$2"; "$VG" restore --vault "$1" latest "$2" >/dev/null 2>&1 && diff -r "$src" "$2/src" >/dev/null; }

for spec in "raidz1 4 1" "raidz2 6 2" "mirror 2 1"; do
	set -- $spec
	L=$1; N=$2; BAD=$3
	D=(); for i in $(seq 1 "$N"); do D+=("$T/$L/dev$i"); done
	mkdir -p "$T/$L"
	"$VG" init --layout "$L" "${D[@]}" >/dev/null && "$VG" backup --vault "${D[0]}" "$src" >/dev/null || { not_ok "$L: setup"; continue; }
	expect_exit 0 "$L: clean scrub exits 0" "$VG" scrub --vault "${D[0]}"
	for i in $(seq 1 "$BAD"); do corrupt "${D[$i]}" "$L$i"; done
	expect_exit 1 "$L: scrub of damaged vault exits 1" "$VG" scrub --json --vault "${D[0]}"
	rep=$(echo "$OUT" | field "d['repaired_bytes'] > 0 and d['unrecoverable'] == 0")
	[ "$rep" = True ] && ok "$L: scrub repaired everything" || not_ok "$L: scrub repaired everything" "$OUT"
	expect_exit 0 "$L: second scrub finds nothing" "$VG" scrub --vault "${D[0]}"
	st=$("$VG" status --json --vault "${D[0]}")
	[ "$(echo "$st" | field "d['scrub']['state']")" = finished ] && ok "$L: status records the scrub" || not_ok "$L: status records the scrub" "$st"
	blamed=$(echo "$st" | field "sum(1 for i,x in enumerate(d['devices']) if x['checksum_errors'] > 0 and not (1 <= i <= $BAD))")
	[ "$blamed" = 0 ] && ok "$L: only damaged devices blamed" || not_ok "$L: only damaged devices blamed" "$st"
	same "${D[0]}" "$T/r-$L" && ok "$L: restore identical" || not_ok "$L: restore identical"
	expect_exit 0 "$L: clear" "$VG" clear --vault "${D[0]}"
	expect_exit 0 "$L: status clean after clear" "$VG" status --vault "${D[0]}"
done

# replace a lost raidz1 device; then the vault survives losing another
D=(); for i in 1 2 3 4; do D+=("$T/rep/dev$i"); done
mkdir -p "$T/rep"
"$VG" init --layout raidz1 "${D[@]}" >/dev/null && "$VG" backup --vault "${D[0]}" "$src" >/dev/null
rm -rf "${D[2]}"
expect_exit 0 "replace: exits 0" "$VG" replace --vault "${D[0]}" "${D[2]}" "$T/rep/new3"
contains "replace: says ONLINE" "$OUT" "vault ONLINE"
expect_exit 0 "replace: status ONLINE, no errors" "$VG" status --vault "${D[0]}"
contains "replace: status lists the new device" "$OUT" "$T/rep/new3"
expect_exit 0 "replace: scrub finds nothing" "$VG" scrub --vault "$T/rep/new3"
rm -rf "${D[1]}"
same "${D[0]}" "$T/r-rep" && ok "replace: restore identical after losing another" || not_ok "replace: restore identical after losing another"
expect_exit 66 "replace: unknown device" "$VG" replace --vault "${D[0]}" "$T/nope" "$T/rep/new9"
contains "replace: unknown device named" "$OUT" "nope"

# pause / stop with no scrub running, then resume
D=(); for i in 1 2 3; do D+=("$T/pz/dev$i"); done
mkdir -p "$T/pz"
"$VG" init --layout raidz1 "${D[@]}" >/dev/null && "$VG" backup --vault "${D[0]}" "$src" >/dev/null
expect_exit 66 "pause: nothing to pause" "$VG" scrub --pause --vault "${D[0]}"
# a scrub asked to pause by a request file stops at its first checkpoint
echo pause > "${D[1]}/scrub.request"
expect_exit 0 "stale request does not stop a new scrub" "$VG" scrub --vault "${D[0]}"
[ ! -e "${D[1]}/scrub.request" ] && ok "stale request consumed" || not_ok "stale request consumed"
# offline / online: writes made while a device is offline are rebuilt onto
# it by the next scrub, without counting errors against it
D=(); for i in 1 2 3; do D+=("$T/off/dev$i"); done
mkdir -p "$T/off"
"$VG" init --layout raidz1 "${D[@]}" >/dev/null && "$VG" backup --vault "${D[0]}" "$src" >/dev/null
expect_exit 1 "offline: degraded" "$VG" offline --vault "${D[0]}" "${D[1]}"
expect_exit 2 "offline: refused beyond redundancy" "$VG" offline --vault "${D[0]}" "${D[2]}"
contains "offline: refusal explains" "$OUT" "redundancy"
echo "written while offline" > "$src/late"
"$VG" backup --vault "${D[0]}" "$src" >/dev/null
expect_exit 1 "offline: state persists" "$VG" status --vault "${D[0]}"
contains "offline: status says OFFLINE" "$OUT" "OFFLINE"
expect_exit 0 "online: back" "$VG" online --vault "${D[0]}" "${D[1]}"
expect_exit 0 "online: scrub rebuilds without errors" "$VG" scrub --json --vault "${D[0]}"
[ "$(echo "$OUT" | field "d['errors'] == 0 and d['rebuilt_bytes'] > 0")" = True ] && ok "online: rebuilt, not errors" || not_ok "online: rebuilt, not errors" "$OUT"
rm -rf "${D[2]}"
same "${D[0]}" "$T/r-off" && ok "online: whole again (survives losing another)" || not_ok "online: whole again (survives losing another)"
rm -f "$src/late"
done_testing
