#!/usr/bin/env bash
# A vault survives what its layout promises, and says clearly when it cannot:
# lost devices (DEGRADED, named, restore identical), silent corruption
# (healed, the right device's CKSUM counter rises, the second restore is
# clean), corruption on `single` (an error naming the file, never bad data),
# and too many lost devices (exit 2, nothing on the survivors changed).
. "$(dirname "$0")/lib.sh"

# A source tree with enough data to spread over every device.
src=$T/src
mkdir -p "$src/d1/d2"
head -c 3000000 /dev/urandom > "$src/big.bin"
head -c 700000 /dev/urandom > "$src/d1/mid.bin"
# several blocks at different rows, so every device holds data columns
for i in 1 2 3 4 5 6; do head -c $((900000 + i * 4096)) /dev/urandom > "$src/d1/part$i.bin"; done
for i in $(seq 1 50); do echo "small file $i" > "$src/d1/d2/f$i.txt"; done
ln -s big.bin "$src/link"

# make_vault NAME LAYOUT NDEV: init + backup, sets DEVS (array) and SNAP
make_vault() {
	local name=$1 layout=$2 n=$3 i
	DEVS=()
	for i in $(seq 1 "$n"); do DEVS+=("$T/$name/dev$i"); done
	mkdir -p "$T/$name"
	"$VG" init --layout "$layout" "${DEVS[@]}" >/dev/null || return 1
	SNAP=$("$VG" backup --vault "${DEVS[0]}" "$src" | tail -1) || return 1
}

restore_same() { # vault-dev target
	rm -rf "$2"
	"$VG" restore --vault "$1" latest "$2" >/dev/null 2>"$T/restore.err" || return 1
	local got=$2
	[ -d "$2/$(basename "$src")" ] && got=$2/$(basename "$src")
	diff -r "$src" "$got" >/dev/null
}

# corrupt DEV: overwrite 16 bytes at a random place in every 64 KiB of each
# segment file, so every column stored there is hit
corrupt() {
	python3 - "$1" <<'PY'
import os, random, sys, glob
random.seed(sys.argv[1])
for f in glob.glob(sys.argv[1] + "/seg-*"):
    size = os.path.getsize(f)
    with open(f, "r+b") as fh:
        for base in range(0, size, 65536):
            fh.seek(base + random.randrange(0, min(65536, size - base)))
            fh.write(os.urandom(16))
PY
}

cksum_of() { # vault dev-index -> CKSUM counter
	"$VG" status --json --vault "$1" | python3 -c "import json,sys; print(json.load(sys.stdin)['devices'][$2]['checksum_errors'])"
}

# --- lost devices, within redundancy ---
for spec in "raidz1 4 1" "raidz2 6 2" "mirror 3 2"; do
	set -- $spec
	make_vault "lost-$1" "$1" "$2" || { not_ok "lost-$1-setup"; continue; }
	for i in $(seq 1 "$3"); do rm -rf "${DEVS[$i]}"; done
	expect_exit 1 "lost-$1: status exits 1" "$VG" status --vault "${DEVS[0]}"
	contains "lost-$1: status says DEGRADED" "$OUT" "state: DEGRADED"
	contains "lost-$1: status names the missing device" "$OUT" "${DEVS[1]}"
	if restore_same "${DEVS[0]}" "$T/r-lost-$1"; then ok "lost-$1: restore identical"; else not_ok "lost-$1: restore identical" "$(cat "$T/restore.err")"; fi
done

# --- silent corruption within redundancy ---
for spec in "raidz1 4 1" "mirror 2 1" "raidz2 5 2"; do
	set -- $spec
	make_vault "rot-$1" "$1" "$2" || { not_ok "rot-$1-setup"; continue; }
	for i in $(seq 1 "$3"); do corrupt "${DEVS[$i]}"; done
	if restore_same "${DEVS[0]}" "$T/r-rot-$1"; then ok "rot-$1: restore identical"; else not_ok "rot-$1: restore identical" "$(cat "$T/restore.err")"; fi
	# a restore reads data columns only: it may not meet damage that sits in
	# parity, but it must never blame an undamaged device
	quiet=1
	for i in 0 $(seq $(( $3 + 1 )) $(( $2 - 1 ))); do [ "$(cksum_of "${DEVS[0]}" "$i")" -eq 0 ] || quiet=0; done
	[ "$quiet" -eq 1 ] && ok "rot-$1: no undamaged device blamed" || not_ok "rot-$1: no undamaged device blamed" "$("$VG" status --vault "${DEVS[0]}")"
	"$VG" scrub --vault "${DEVS[0]}" >/dev/null
	rising=0
	for i in $(seq 1 "$3"); do [ "$(cksum_of "${DEVS[0]}" "$i")" -gt 0 ] && rising=$((rising+1)); done
	[ "$rising" -eq "$3" ] && ok "rot-$1: every damaged device's CKSUM rose" || not_ok "rot-$1: every damaged device's CKSUM rose" "$("$VG" status --vault "${DEVS[0]}")"
	before=$("$VG" status --json --vault "${DEVS[0]}")
	if restore_same "${DEVS[0]}" "$T/r-rot2-$1"; then ok "rot-$1: second restore identical"; else not_ok "rot-$1: second restore identical"; fi
	after=$("$VG" status --json --vault "${DEVS[0]}")
	[ "$before" = "$after" ] && ok "rot-$1: second restore met no new errors" || not_ok "rot-$1: second restore met no new errors" "$after"
done

# --- corruption on single: an error naming the file, never bad data ---
make_vault single single 1
corrupt "${DEVS[0]}"
rm -rf "$T/r-single"
expect_exit 2 "single: corrupt restore exits 2" "$VG" restore --vault "${DEVS[0]}" latest "$T/r-single"
contains "single: error names a damaged file" "$OUT" "big.bin"
bad=0
while IFS= read -r -d '' f; do
	rel=${f#"$T/r-single/"}; rel=${rel#"$(basename "$src")/"}
	[ -f "$src/$rel" ] && ! cmp -s "$f" "$src/$rel" && bad=1
done < <(find "$T/r-single" -type f -print0 2>/dev/null)
[ "$bad" = 0 ] && ok "single: no restored file has wrong content" || not_ok "single: no restored file has wrong content"

# --- beyond redundancy ---
make_vault faulted raidz1 4
rm -rf "${DEVS[1]}" "${DEVS[2]}"
sums() { (cd "$T/faulted" && find . -type f -print0 | sort -z | xargs -0 sha256sum; find . -printf '%p %s %T@\n' | sort); }
s1=$(sums)
expect_exit 2 "faulted: restore exits 2" "$VG" restore --vault "${DEVS[0]}" latest "$T/r-faulted"
contains "faulted: message says FAULTED" "$OUT" "FAULTED"
contains "faulted: message names a missing device" "$OUT" "${DEVS[1]}"
expect_exit 2 "faulted: backup exits 2" "$VG" backup --vault "${DEVS[0]}" "$src"
expect_exit 2 "faulted: status exits 2" "$VG" status --vault "${DEVS[3]}"
[ "$s1" = "$(sums)" ] && ok "faulted: nothing changed on the remaining devices" || not_ok "faulted: nothing changed on the remaining devices"

# --- bad input: one clear line, non-zero exit ---
expect_exit 66 "bad: missing vault path" "$VG" status --vault "$T/no/such/dir"
contains "bad: missing path is named" "$OUT" "$T/no/such/dir"
[ "$(echo "$OUT" | wc -l)" -eq 1 ] && ok "bad: one line" || not_ok "bad: one line" "$OUT"
mkdir -p "$T/ro" && chmod 555 "$T/ro"
if [ "$(id -u)" != 0 ]; then
	expect_exit 73 "bad: unwritable device" "$VG" init --layout single "$T/ro/dev"
fi
expect_exit 64 "bad: unknown layout" "$VG" init --layout raid5 "$T/u1" "$T/u2" "$T/u3"
contains "bad: unknown layout is named" "$OUT" "raid5"
make_vault other single 1
other=${DEVS[0]}
make_vault mine mirror 2
rm -rf "${DEVS[1]}" && cp -r "$other" "${DEVS[1]}"
expect_exit 1 "bad: foreign device makes the vault degraded" "$VG" status --vault "${DEVS[0]}"
contains "bad: foreign device is explained" "$OUT" "another vault"
expect_exit 66 "bad: a foreign directory is not a vault" "$VG" status --vault "$T/src"
make_vault trunc single 1
truncate -s 100 "${DEVS[0]}/label"
expect_exit 2 "bad: truncated label" "$VG" status --vault "${DEVS[0]}"
contains "bad: truncated label is named" "$OUT" "label of '${DEVS[0]}'"
if grep -q 'Sanitizer' "$T"/*.err 2>/dev/null; then not_ok "no sanitizer reports"; else ok "no sanitizer reports"; fi
done_testing
