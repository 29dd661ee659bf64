#!/usr/bin/env bash
# Encryption (repokey, the default): no plaintext fragment of a file
# reaches any device file (and does without encryption, so the probe
# works); a wrong or missing passphrase is exit 2 with one clear line;
# scrub needs no passphrase; key change; VIGIL_PASSWORD_FILE.
. "$(dirname "$0")/lib.sh"

marker=$(printf 'vigil-marker-%051d' 7) # 64 bytes
src=$T/src
mkdir -p "$src/d"
{ for i in $(seq 1 300); do echo "$marker line $i"; done; } > "$src/d/text.txt"
printf '%s' "$marker" > "$src/tiny"
head -c 300000 /dev/urandom > "$src/d/random.bin"
printf '%s' "$marker" >> "$src/d/random.bin"
found() { grep -rlF "$marker" "$@" 2>/dev/null | head -1; }

D=("$T/v/a" "$T/v/b" "$T/v/c")
mkdir -p "$T/v"
check "init (repokey by default)" "$VG" init --layout raidz1 "${D[@]}"
contains "init says encrypted" "$("$VG" init --layout single --json "$T/v/j")" '"encryption": "repokey"'
check "backup" "$VG" backup --vault "${D[0]}" "$src"
[ -z "$(found "$T/v/a" "$T/v/b" "$T/v/c")" ] && ok "no plaintext marker in any device file" \
	|| not_ok "no plaintext marker in any device file" "$(found "$T/v")"
mkdir -p "$T/plain"
"$VG" init --layout single --encryption none "$T/plain/a" >/dev/null && "$VG" backup --vault "$T/plain/a" "$src" >/dev/null
[ -n "$(found "$T/plain/a")" ] && ok "the probe finds the marker in an unencrypted vault" \
	|| not_ok "the probe finds the marker in an unencrypted vault"

expect_exit 2 "wrong passphrase: exit 2" env VIGIL_PASSWORD=nope "$VG" snapshots --vault "${D[0]}"
contains "wrong passphrase: said so" "$OUT" "wrong passphrase"
[ "$(echo "$OUT" | wc -l)" = 1 ] && ok "wrong passphrase: one line" || not_ok "wrong passphrase: one line" "$OUT"
expect_exit 2 "wrong passphrase: restore refused" env VIGIL_PASSWORD=nope "$VG" restore --vault "${D[0]}" latest "$T/r0"
[ ! -e "$T/r0" ] && ok "wrong passphrase: nothing restored" || not_ok "wrong passphrase: nothing restored"
expect_exit 2 "no passphrase and no terminal: exit 2" env -u VIGIL_PASSWORD setsid -w "$VG" backup --vault "${D[0]}" "$src"
contains "no passphrase: says how to give it" "$OUT" "VIGIL_PASSWORD"

# maintenance needs no secrets: damage one device, scrub repairs it without the key
seg=$(ls "${D[1]}"/seg-* | head -1)
printf 'XXXXXXXX' | dd of="$seg" bs=1 seek=20000 conv=notrunc 2>/dev/null
expect_exit 1 "scrub without the passphrase (exit 1: it repaired)" env -u VIGIL_PASSWORD setsid -w "$VG" scrub --vault "${D[0]}"
contains "scrub repaired the damage without the key" "$OUT" "repaired"
expect_exit 1 "status without the passphrase" env -u VIGIL_PASSWORD setsid -w "$VG" status --vault "${D[0]}"
contains "status shows the repaired device's counter" "$OUT" "ONLINE"

check "restore" "$VG" restore --vault "${D[2]}" latest "$T/r1"
cmp -s "$src/d/random.bin" "$T/r1/src/d/random.bin" && cmp -s "$src/d/text.txt" "$T/r1/src/d/text.txt" \
	&& ok "restore gives the content back" || not_ok "restore gives the content back"

check "key change" env VIGIL_NEW_PASSWORD=second "$VG" key change --vault "${D[0]}"
expect_exit 2 "old passphrase refused after key change" "$VG" snapshots --vault "${D[0]}"
printf 'second\n' > "$T/pwfile"
check "new passphrase from VIGIL_PASSWORD_FILE" env -u VIGIL_PASSWORD VIGIL_PASSWORD_FILE="$T/pwfile" \
	"$VG" restore --vault "${D[0]}" latest:src/tiny "$T/r2"
cmp -s "$src/tiny" "$T/r2/tiny" && ok "restore after key change" || not_ok "restore after key change"
expect_exit 65 "key change on an unencrypted vault" "$VG" key change --vault "$T/plain/a"
expect_exit 64 "key: unknown subcommand" "$VG" key show --vault "${D[0]}"
done_testing
