#!/usr/bin/env bash
# t32_alert_dedup.sh - loud, specific, once: the same failing condition in
# five runs gives one alert plus reminders per the interval, a worse level
# alerts again, clearing sends one resolve; concurrent senders (zedlets)
# agree on one alert; a damaged state file is a warning, not a failure.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/alert_lib.sh"
export VIGIL_STATE_DIR="$T/state"
unset VIGIL_CONFIG VIGIL_NOW

start_sink web
CONF="$T/vigil.conf"
cat > "$CONF" <<CONF
[alert]
host = nas1
remind = 12h
timeout = 5s

[alert "hook"]
type = webhook
url = http://127.0.0.1:$web_PORT/hook
CONF
R="$T/web/requests.jsonl"
T0=1714557600
send() { # hours-after-T0 level
	VIGIL_NOW=$((T0 + $1 * 3600)) vg alert send --config "$CONF" --level "$2" \
		--kind gate-finding --title "source /srv: pool tank DEGRADED, sdb FAULTED" \
		--body "Replace sdb, then 'zpool replace tank sdb NEW'." --key gate:zfs:tank:sdb
}
states() { q "$R" '[body(x)["state"] for x in r]'; }

for h in 0 5 10 15 20; do send $h warning; done
eq five-runs-one-alert-one-reminder "$(states)" "['firing', 'reminder']"
eq reminder-at-15h "$(q "$R" 'body(r[1])["time"]')" "2024-05-02T01:00:00Z"
eq reminder-keeps-first-seen "$(q "$R" 'body(r[1])["first_seen"]')" "$T0"
send 21 warning
contains repeat-says-suppressed "$OUT" "suppressed (repeat of an ongoing condition)"

send 22 critical
eq worse-alerts-again "$(states)" "['firing', 'reminder', 'escalated']"
eq escalated-level "$(q "$R" '[body(r[-1])["level"], body(r[-1])["previous_level"]]')" "['critical', 'warning']"
send 23 critical
eq same-level-quiet "$(q "$R" 'len(r)')" 3

# `alert status` tells what is open, without sending anything
vg alert status --config "$CONF"
eq status-open-exit "$RC" 1
contains status-names-it "$OUT" "CRITICAL nas1: source /srv: pool tank DEGRADED, sdb FAULTED"
contains status-since "$OUT" "since 2024-05-01 10:00 UTC"
contains status-key "$OUT" "seen 8 times; key gate:zfs:tank:sdb (gate-finding)"
vg alert status --json --config "$CONF"
eq status-json "$(echo "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); c=d["conditions"][0]; print([len(d["conditions"]), c["key"], c["level"], d["spooled"]])')" \
	"[1, 'gate:zfs:tank:sdb', 'critical', 0]"
eq status-sends-nothing "$(states)" "['firing', 'reminder', 'escalated']"
VIGIL_NOW=$((T0 + 30 * 3600)) vg alert send --config "$CONF" --resolve --key gate:zfs:tank:sdb
vg alert status --config "$CONF"
eq status-clear-exit "$RC" 0
contains status-clear "$OUT" "no condition alerted on"
eq clear-sends-one-resolve "$(states)" "['firing', 'reminder', 'escalated', 'resolved']"
eq resolve-says-how-long "$(q "$R" '"It was first seen 2024-05-01T10:00:00Z and lasted 30 h." in body(r[-1])["text"]')" "True"
VIGIL_NOW=$((T0 + 31 * 3600)) vg alert send --config "$CONF" --resolve --key gate:zfs:tank:sdb
eq second-clear-silent "$(q "$R" 'len(r)')" 4
send 32 warning
eq comes-back-new "$(q "$R" 'body(r[-1])["state"]')" "firing"

# remind = 0 turns reminders off
sed -i 's/^remind = 12h$/remind = 0/' "$CONF"
send 100 warning
eq remind-off "$(q "$R" 'len(r)')" 5

# Concurrent senders of one new condition: exactly one alert
: > "$R"
pids=""
for i in 1 2 3 4 5; do
	VIGIL_NOW=$T0 "$VG" alert send --config "$CONF" --level warning --kind checksum-errors \
		--title "sdc: checksum errors" --key zed:tank:sdc >> "$T/all-output" 2>&1 &
	pids="$pids $!"
done
wait $pids  # not the receiver, which runs in the background too
eq concurrent-one-alert "$(q "$R" 'len(r)')" 1

# A damaged state file: a warning, and ongoing conditions alert once more
echo '{"version": 1, "conditions": {"x": 12' > "$T/state/alert/state.json"
send 200 warning
contains damaged-state-warns "$OUT" "alert state file"
contains damaged-state-afresh "$OUT" "started afresh"
eq damaged-state-realerts "$(q "$R" 'body(r[-1])["state"]')" "firing"
[ -f "$T/state/alert/state.json.damaged" ] && ok damaged-state-kept-aside || not_ok damaged-state-kept-aside
done_testing
