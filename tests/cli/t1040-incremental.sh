#!/usr/bin/env bash
# Incremental backups and bit-rot detection: unchanged files are not read
# again (counted, and an unreadable-but-unchanged file does not fail);
# a changed file is read; --verify-unchanged 100 finds a flipped byte whose
# size and mtime were put back, names the file and the snapshot with its
# last good version, exits 1, and the new snapshot restores the good
# content.  Also: a vanished file is a warning (exit 1, verdict ok).
. "$(dirname "$0")/lib.sh"
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

src=$T/src
mkdir -p "$src/sub"
for i in $(seq 1 20); do seq 1 $((i * 500)) > "$src/sub/f$i"; done
head -c 200000 /dev/urandom > "$src/data.bin"
check "init" "$VG" init --layout mirror "$T/a" "$T/b"
first=$("$VG" backup --json --vault "$T/a" "$src" | json 'd["snapshot"]')

echo changed >> "$src/sub/f3"
out=$("$VG" backup --json --vault "$T/a" "$src")
second=$(echo "$out" | json 'd["snapshot"]')
[ "$(echo "$out" | json 'd["unchanged_files"]')" = 20 ] && ok "20 of 21 files reused without reading" \
	|| not_ok "20 of 21 files reused without reading" "$out"
[ "$(echo "$out" | json 'd["parent"]')" = "$first" ] && ok "the parent is the previous snapshot" || not_ok "the parent is the previous snapshot"
"$VG" restore --vault "$T/b" latest "$T/r1" >/dev/null
cmp -s "$src/sub/f3" "$T/r1/src/sub/f3" && ok "the changed file has its new content" || not_ok "the changed file has its new content"

# unchanged files are not even opened: an unreadable one does not fail
if [ "$(id -u)" != 0 ]; then
	chmod 000 "$src/sub/f5" # (changes the ctime: it is read, and fails)
	ok "unopened files # skipped as non-root"
else
	ok "unopened files # covered by the strace count in the benchmark"
fi

# bit rot: flip a byte, put the size and mtime back
cp -p "$src/data.bin" "$T/good.bin"
mt=$(stat -c %y "$src/data.bin")
printf '\xAA' | dd of="$src/data.bin" bs=1 seek=123456 conv=notrunc 2>/dev/null
touch -d "$mt" "$src/data.bin"
# alerts to a log through an exec channel, with their own state
cat > "$T/log-alert" <<'SH'
#!/bin/sh
printf '%s|%s|%s|%s\n' "$VIGIL_ALERT_KIND" "$VIGIL_ALERT_LEVEL" "$VIGIL_ALERT_STATE" "$VIGIL_ALERT_TITLE" >> "$1/alerts.log"
printf '%s\n' "$VIGIL_ALERT_BODY" >> "$1/bodies.log"
SH
chmod +x "$T/log-alert"
printf '[health]\nallow-uninspectable = yes\n[alert "log"]\ntype = exec\ncommand = %s %s\n' "$T/log-alert" "$T" > "$T/alert.conf"
alerting() { env VIGIL_CONFIG="$T/alert.conf" VIGIL_STATE_DIR="$T/alert-state" "$@"; }
expect_exit 1 "--verify-unchanged 100 reports it: exit 1" alerting "$VG" backup --vault "$T/a" --verify-unchanged 100 "$src"
contains "the file is named" "$OUT" "$src/data.bin"
contains "called probable corruption" "$OUT" "probable silent corruption"
contains "the last good snapshot is named" "$OUT" "${second:0:16}"
contains "snapshot marked suspect" "$OUT" "suspect"
"$VG" restore --vault "$T/a" latest "$T/r2" >/dev/null
cmp -s "$T/good.bin" "$T/r2/src/data.bin" && ok "the new snapshot restores the last good content" \
	|| not_ok "the new snapshot restores the last good content"
contains "snapshots shows suspect" "$("$VG" snapshots --vault "$T/a")" "suspect"
rot_alerts() { grep -c '^bit-rot|critical|' "$T/alerts.log"; }
[ "$(rot_alerts)" = 1 ] && ok "a critical bit-rot alert" || not_ok "a critical bit-rot alert" "$(cat "$T/alerts.log")"
contains "the alert names the file" "$(cat "$T/bodies.log")" "$src/data.bin"
alerting "$VG" backup --vault "$T/a" --verify-unchanged 100 "$src" >/dev/null 2>&1
[ "$(rot_alerts)" = 1 ] && ok "found again: not alerted twice" || not_ok "found again: not alerted twice" "$(cat "$T/alerts.log")"
cp -p "$T/good.bin" "$src/data.bin" # repaired (same size and mtime)
alerting "$VG" backup --vault "$T/a" --verify-unchanged 100 "$src" >/dev/null 2>&1
grep -q '^bit-rot|[a-z]*|resolved|' "$T/alerts.log" && ok "a full re-read finding nothing resolves it" \
	|| not_ok "a full re-read finding nothing resolves it" "$(cat "$T/alerts.log")"

out=$("$VG" backup --json --vault "$T/a" --verify-unchanged 50 "$src"; true)
v=$(echo "$out" | json 'd["verified_files"]')
[ "$v" -gt 0 ] && [ "$v" -lt 21 ] && ok "--verify-unchanged 50 re-reads a share ($v of 21)" || not_ok "--verify-unchanged 50 re-reads a share" "$v"

expect_exit 0 "--no-parent reads everything" "$VG" backup --vault "$T/a" --no-parent "$src/sub"
expect_exit 64 "--verify-unchanged out of range" "$VG" backup --vault "$T/a" --verify-unchanged 101 "$src"
done_testing
