#!/usr/bin/env bash
# t30_alert_basic.sh - webhook, ntfy and exec channels against a loopback
# receiver: the exact method, path, headers and body each one sends;
# 'vigil alert test' reports success and the exact error; no secret from
# the config shows up in any output.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/alert_lib.sh"
export VIGIL_STATE_DIR="$T/state" VIGIL_NOW=1714557600
unset VIGIL_CONFIG

start_sink web
refused_port dead
CONF="$T/vigil.conf"
cat > "$CONF" <<CONF
[alert]
timeout = 4s
host = nas1

[alert "hook"]
type = webhook
url = http://127.0.0.1:$web_PORT/hooks/vigil
header = Authorization: Bearer hook-secret-4711
header = X-Team: storage

[alert "phone"]
type = ntfy
url = http://127.0.0.1:$web_PORT/nas-alerts
token = tk_ntfy_secret_0815
tags = nas1

[alert "script"]
type = exec
command = cat > "$T/exec.json"; env | grep '^VIGIL_ALERT_' | sort > "$T/exec.env"

[alert "broken"]
type = webhook
url = http://127.0.0.1:$dead_PORT/x
levels = critical
CONF
chmod 600 "$CONF"
R="$T/web/requests.jsonl"

vg alert test phone --config "$CONF"
eq test-one-channel-exit "$RC" 0
contains test-one-channel-says-delivered "$OUT" "delivered  'phone' (ntfy): test: nas1:"
eq test-ntfy-path "$(q "$R" 'r[-1]["method"] + " " + r[-1]["path"]')" "POST /nas-alerts"
eq test-ntfy-priority "$(q "$R" 'hdr(r[-1], "X-Priority")')" "['3']"

vg alert test broken --config "$CONF"
eq test-broken-exit "$RC" 2
contains test-broken-names-error "$OUT" "failed     'broken' (webhook): test: nas1: vigil alert test through 'broken' (webhook): cannot reach http://127.0.0.1:$dead_PORT:"
contains test-broken-says-refused "$OUT" "Couldn't connect to server"

vg alert test nosuch --config "$CONF"
eq test-unknown-channel-exit "$RC" 66
contains test-unknown-channel-message "$OUT" "no alert channel named 'nosuch'"

: > "$R"
vg alert send --config "$CONF" --level warning --kind checksum-errors \
	--title "pool tank: 3 checksum errors on sdb" \
	--body "ZFS counted 3 checksum errors on sdb. Run 'zpool status -v tank'." \
	--key gate:zfs:tank:sdb --subject tank/sdb --figure cksum_errors=3 --figure pool=tank
eq send-exit "$RC" 0
eq send-two-http-requests "$(q "$R" 'len(r)')" 2

# webhook: POST, JSON, the custom headers, the documented document
eq webhook-method-path "$(q "$R" 'r[0]["method"] + " " + r[0]["path"]')" "POST /hooks/vigil"
eq webhook-content-type "$(q "$R" 'hdr(r[0], "Content-Type")')" "['application/json']"
eq webhook-auth-header "$(q "$R" 'hdr(r[0], "Authorization")')" "['Bearer hook-secret-4711']"
eq webhook-custom-header "$(q "$R" 'hdr(r[0], "X-Team")')" "['storage']"
eq webhook-body "$(q "$R" '[body(r[0])[k] for k in ("version","state","level","kind","key","host","subject","title","time","source","channel")]')" \
	"[1, 'firing', 'warning', 'checksum-errors', 'gate:zfs:tank:sdb', 'nas1', 'tank/sdb', 'pool tank: 3 checksum errors on sdb', '2024-05-01T10:00:00Z', 'vigil', 'hook']"
eq webhook-figures "$(q "$R" 'body(r[0])["figures"]')" "{'cksum_errors': '3', 'pool': 'tank'}"
eq webhook-headline "$(q "$R" 'body(r[0])["headline"]')" "WARNING: nas1: pool tank: 3 checksum errors on sdb"

# ntfy: POST to the topic URL, X-Title / X-Priority / X-Tags, bearer token, text body
eq ntfy-method-path "$(q "$R" 'r[1]["method"] + " " + r[1]["path"]')" "POST /nas-alerts"
eq ntfy-title "$(q "$R" 'hdr(r[1], "X-Title")')" "['WARNING: nas1: pool tank: 3 checksum errors on sdb']"
eq ntfy-priority-warning "$(q "$R" 'hdr(r[1], "X-Priority")')" "['4']"
eq ntfy-tags "$(q "$R" 'hdr(r[1], "X-Tags")')" "['warning,vigil,checksum-errors,nas1']"
eq ntfy-auth "$(q "$R" 'hdr(r[1], "Authorization")')" "['Bearer tk_ntfy_secret_0815']"
contains ntfy-body-has-action "$(q "$R" 'r[1]["body"]')" "Run 'zpool status -v tank'."
contains ntfy-body-has-figure "$(q "$R" 'r[1]["body"]')" "cksum_errors: 3"

# exec: environment and JSON on stdin
contains exec-env-level "$(cat "$T/exec.env")" "VIGIL_ALERT_LEVEL=warning"
contains exec-env-key "$(cat "$T/exec.env")" "VIGIL_ALERT_KEY=gate:zfs:tank:sdb"
contains exec-env-figure "$(cat "$T/exec.env")" "VIGIL_ALERT_FIGURE_CKSUM_ERRORS=3"
contains exec-env-title "$(cat "$T/exec.env")" "VIGIL_ALERT_TITLE=pool tank: 3 checksum errors on sdb"
eq exec-stdin-json "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["state"], d["kind"], d["subject"])' "$T/exec.json")" "firing checksum-errors tank/sdb"

# critical reaches the critical-only channel too (and fails there: spooled)
vg alert send --config "$CONF" --level critical --kind vault-degraded --title "vault v1 degraded" --key vault:v1
eq critical-spooled-exit "$RC" 1
contains critical-spooled-line "$OUT" "spooled    'broken' (webhook): CRITICAL: nas1: vault v1 degraded: cannot reach"
eq ntfy-priority-critical "$(q "$R" 'hdr(r[-1], "X-Priority")')" "['5']"

# info is not routed by default
vg alert send --config "$CONF" --level info --kind backup-succeeded --title "backup done"
contains info-unrouted "$OUT" "unrouted"

# --json
vg alert send --config "$CONF" --json --level warning --kind pruned --title "pruned 3 snapshots"
eq json-outcomes "$(printf '%s' "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(sorted(x["outcome"] for x in d["deliveries"] if x["what"] == "firing"))')" \
	"['delivered', 'delivered', 'delivered']"

# bad config: the error names file, line and key
printf '[alert "x"]\ntype = ntfy\nurl = http://127.0.0.1:1/t\nlevel = critical\n' > "$T/bad.conf"
vg alert test --config "$T/bad.conf"
eq bad-config-exit "$RC" 65
contains bad-config-names-line "$OUT" "bad.conf:4: [alert \"x\"] level: unknown key"

# world-readable config with secrets: a warning
cp "$CONF" "$T/open.conf"; chmod 644 "$T/open.conf"
vg alert test script --config "$T/open.conf"
contains open-config-warns "$OUT" "holds secrets but anyone on this host can read it"

# no secret in any output, state or spool file
for s in hook-secret-4711 tk_ntfy_secret_0815; do
	if grep -rq -- "$s" "$T/all-output" "$T/state"; then not_ok "no-secret-$s" "found in output or state"; else ok "no-secret-$s"; fi
done
done_testing
