#!/usr/bin/env bash
# t33_alert_failures.sh - never lost, never blocking: a receiver that
# refuses connections, one that hangs and one that answers 500 each leave
# the alert in the spool, the run ends within the configured bound, and
# the next run (or 'vigil alert flush') delivers it, in order.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/alert_lib.sh"
export VIGIL_STATE_DIR="$T/state" VIGIL_NOW=1714557600
unset VIGIL_CONFIG
BOUND=3     # [alert] timeout, seconds
SLACK=2     # process start, ASan, python: generous but far below a hang

conf() { # port
	cat > "$T/vigil.conf" <<CONF
[alert]
host = nas1
timeout = ${BOUND}s
[alert "hook"]
type = webhook
url = http://127.0.0.1:$1/hook
CONF
}
spooled() { ls "$T/state/alert/spool" 2>/dev/null | grep -c '\.json$'; }
timed_send() { # title [key]
	local t0=$(date +%s%N)
	vg alert send --config "$T/vigil.conf" --level critical --kind backup-failed --title "$1" ${2:+--key $2}
	ELAPSED_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
}
within_bound() { # name
	if [ "$ELAPSED_MS" -le $(( (BOUND + SLACK) * 1000 )) ]; then ok "$1"
	else not_ok "$1" "took $ELAPSED_MS ms, bound ${BOUND}s"; fi
}

# 1. refused: spooled; the next run delivers it before its own alert
refused_port web
conf "$web_PORT"
timed_send "backup of /srv failed: vault unreachable" backup:/srv
eq refused-exit "$RC" 1
contains refused-spooled "$OUT" "spooled    'hook' (webhook)"
contains refused-reason "$OUT" "Couldn't connect"
within_bound refused-bounded
eq refused-one-file "$(spooled)" 1
# while it is down, the resolve queues behind the trigger
vg alert send --config "$T/vigil.conf" --resolve --key backup:/srv
eq refused-resolve-queued "$(spooled)" 2
start_sink web ok "$web_PORT"
timed_send "second alert after the outage"
eq next-run-exit "$RC" 0
R="$T/web/requests.jsonl"
eq next-run-delivers-in-order "$(q "$R" '[(body(x)["state"], body(x)["title"]) for x in r]')" \
	"[('firing', 'backup of /srv failed: vault unreachable'), ('resolved', 'backup of /srv failed: vault unreachable'), ('firing', 'second alert after the outage')]"
eq next-run-keeps-time "$(q "$R" 'body(r[0])["time"]')" "2024-05-01T10:00:00Z"
eq spool-empty-after "$(spooled)" 0
stop_sinks

# 2. hangs: the run still ends within the bound
start_sink slow hang
conf "$slow_PORT"
timed_send "backup of /home failed: disk full"
eq hang-exit "$RC" 1
contains hang-reason "$OUT" "did not answer within"
within_bound hang-bounded
eq hang-spooled "$(spooled)" 1
echo ok > "$T/slow/mode"
vg alert flush --config "$T/vigil.conf"
eq hang-flush-exit "$RC" 0
contains hang-flush-delivered "$OUT" "delivered  'hook' (webhook): (retry) CRITICAL: nas1: backup of /home failed: disk full"
eq hang-spool-empty "$(spooled)" 0
stop_sinks

# 3. answers 500: retried with backoff within the bound, then spooled
start_sink err "status 500"
conf "$err_PORT"
timed_send "backup of /var failed"
eq http500-exit "$RC" 1
contains http500-reason "$OUT" "answered HTTP 500"
within_bound http500-bounded
if [ "$(q "$T/err/requests.jsonl" 'len(r)')" -ge 2 ]; then ok http500-retried; else not_ok http500-retried; fi
eq http500-spooled "$(spooled)" 1
vg alert flush --config "$T/vigil.conf"
eq flush-while-down-exit "$RC" 1
contains flush-while-down-says "$OUT" "1 message(s) wait in the spool"
grep -q '"attempts": [3-9]' "$T/state/alert/spool/"*.json && ok spool-counts-attempts || not_ok spool-counts-attempts
echo ok > "$T/err/mode"
vg alert flush --config "$T/vigil.conf"
eq http500-flush-exit "$RC" 0
eq http500-spool-empty "$(spooled)" 0

# 4. a damaged spool file is moved aside, not retried forever
echo '{"version": 1, "chan' > "$T/state/alert/spool/0000000000000000001-x.json"
vg alert flush --config "$T/vigil.conf"
contains damaged-spool-warns "$OUT" "is damaged"
[ -f "$T/state/alert/spool/0000000000000000001-x.json.damaged" ] && ok damaged-spool-aside || not_ok damaged-spool-aside
done_testing
