#!/usr/bin/env bash
# The health gate and alerts around `vigil backup`: a CRIT finding on the
# source's pool refuses the backup (exit 2, the vault untouched, the
# message names pool, device and counters); --force backs up with the
# snapshot marked suspect; alerts reach a webhook once, and the dead-man's
# switch pings start and end.  The pool is a fake zpool printing a recorded
# status of a single-disk pool with checksum errors.
. "$(dirname "$0")/lib.sh"
FX="$ROOT/tests/fixtures/health"
mkdir -p "$T/bin" "$T/src"
echo data > "$T/src/file"
cat > "$T/bin/zpool" <<'Z'
#!/bin/sh
case "$*" in *-j*) echo "invalid option 'j'" >&2; exit 2 ;; esac
exec cat "$ZPOOL_OUT"
Z
chmod +x "$T/bin/zpool"
export PATH="$T/bin:$PATH"

# a receiver for alerts and pings (tests/lib/http_sink.py)
mkdir -p "$T/sink" && echo ok > "$T/sink/mode"
python3 "$ROOT/tests/lib/http_sink.py" --dir "$T/sink" --lifetime 120 >/dev/null 2>&1 &
sink=$!
for i in $(seq 1 50); do [ -s "$T/sink/port" ] && break; sleep 0.1; done
port=$(cat "$T/sink/port")
cat > "$T/vigil.conf" <<C
[health]
smart = no
[source "data"]
path = $T/src
zfs-pool = backup
[alert "hook"]
type = webhook
url = http://127.0.0.1:$port/hook
levels = critical, warning, info
[alert "deadman"]
type = healthchecks
url = http://127.0.0.1:$port/ping/abc
C
export VIGIL_CONFIG="$T/vigil.conf"
export VIGIL_NOW=1700000000 # 2023-11-14, two days after the recorded scrubs
"$VG" init --layout single "$T/v" >/dev/null
sums() { find "$T/v" -type f -print0 | sort -z | xargs -0 sha256sum; }
before=$(sums)

export ZPOOL_OUT="$FX/zpool-status-single-disk-cksum.txt"
expect_exit 2 "CRIT source: backup refused with exit 2" "$VG" backup --vault "$T/v" "$T/src"
contains "refusal names the pool" "$OUT" "backup"
contains "refusal names the device" "$OUT" "nvme-Samsung_SSD_980_500GB_S64DNL0T824602E-part1"
contains "refusal names the counters" "$OUT" "3"
contains "refusal says how to force" "$OUT" "--force"
[ "$before" = "$(sums)" ] && ok "refused: nothing written to the vault" || not_ok "refused: nothing written to the vault"

expect_exit 1 "--force backs up, exit 1" "$VG" backup --force --vault "$T/v" "$T/src"
snaps=$("$VG" snapshots --json --vault "$T/v")
v=$(echo "$snaps" | python3 -c 'import json,sys; s=json.load(sys.stdin); print(len(s), s[-1]["verdict"])')
[ "$v" = "1 suspect" ] && ok "forced snapshot is suspect" || not_ok "forced snapshot is suspect" "$v"

export ZPOOL_OUT="$FX/zpool-status-p-healthy-two-pools-scrub-finished.txt"
sed 's/pool0/backup/g' "$ZPOOL_OUT" > "$T/healthy.txt"
export ZPOOL_OUT="$T/healthy.txt"
expect_exit 0 "healthy source: backup ok" "$VG" backup --vault "$T/v" "$T/src"
sleep 0.3
# a degraded vault and a scrub result reach the same channels
"$VG" init --layout mirror "$T/m1" "$T/m2" >/dev/null
rm -rf "$T/m2"
expect_exit 0 "backup into a degraded vault" "$VG" backup --vault "$T/m1" "$T/src"
expect_exit 1 "scrub of the degraded vault" "$VG" scrub --vault "$T/m1"
sleep 0.3

# one line per request: METHOD PATH STATE KIND
hits=$(python3 - "$T/sink/requests.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    b = {}
    if r["path"].startswith("/hook"):
        b = json.loads(r["body"])
    print(r["method"], r["path"].split("?")[0], b.get("state", "-"), b.get("kind", "-"))
PY
)
n=$(echo "$hits" | grep -c "/hook firing gate-finding" || true)
[ "$n" -eq 2 ] && ok "gate findings alerted once each (pool and device)" || not_ok "gate findings alerted once each" "$hits"
n=$(echo "$hits" | grep -c "/hook resolved gate-finding" || true)
[ "$n" -eq 2 ] && ok "cleared findings resolved" || not_ok "cleared findings resolved" "$hits"
echo "$hits" | grep -q "/hook firing backup-failed" && ok "refused backup alerted" || not_ok "refused backup alerted" "$hits"
echo "$hits" | grep -q "/hook firing snapshot-suspect" && ok "suspect snapshot alerted" || not_ok "suspect snapshot alerted" "$hits"
echo "$hits" | grep -q "/hook firing vault-degraded" && ok "degraded vault alerted" || not_ok "degraded vault alerted" "$hits"
[ "$(echo "$hits" | grep -c "/hook firing vault-degraded")" -eq 1 ] && ok "degraded vault alerted once" || not_ok "degraded vault alerted once" "$hits"
echo "$hits" | grep -q "/hook firing scrub-result" && ok "scrub result alerted" || not_ok "scrub result alerted" "$hits"
[ "$(echo "$hits" | grep -c "/ping/abc/start ")" -eq 4 ] && ok "dead-man start ping on every run" || not_ok "dead-man start ping on every run" "$hits"
echo "$hits" | grep -q "^POST /ping/abc/2 " && ok "refused run pinged exit 2" || not_ok "refused run pinged exit 2" "$hits"
echo "$hits" | grep -q "^POST /ping/abc/1 " && ok "forced run pinged exit 1" || not_ok "forced run pinged exit 1" "$hits"
echo "$hits" | grep -q "^POST /ping/abc - -$" && ok "healthy run pinged success" || not_ok "healthy run pinged success" "$hits"
[ -n "${KEEP_HITS:-}" ] && cp "$T/sink/requests.jsonl" "$KEEP_HITS"
kill "$sink" 2>/dev/null
done_testing
