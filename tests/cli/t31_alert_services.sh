#!/usr/bin/env bash
# t31_alert_services.sh - Gotify, Pushover, PagerDuty and e-mail (sendmail
# and SMTP) against loopback receivers: the method, path, headers and body
# each service documents; Pushover emergency retry/expire; PagerDuty
# trigger then resolve with the same dedup_key; no secret in any output.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/alert_lib.sh"
export VIGIL_STATE_DIR="$T/state" VIGIL_NOW=1714557600
unset VIGIL_CONFIG

start_sink web
start_sink pd "status 202"
start_smtp smtp
mkdir -p "$T/bin"
cat > "$T/bin/fake-sendmail" <<SH
#!/bin/sh
printf '%s\n' "\$@" > "$T/sendmail.args"
cat > "$T/sendmail.msg"
SH
chmod +x "$T/bin/fake-sendmail"
CONF="$T/vigil.conf"
cat > "$CONF" <<CONF
[alert]
timeout = 4s
host = nas1

[alert "gotify"]
type = gotify
url = http://127.0.0.1:$web_PORT/gotify/
token = AbCgotifyTOKEN1
kinds = checksum-errors

[alert "pushover"]
type = pushover
url = http://127.0.0.1:$web_PORT/1/messages.json
token = azGDORePK8gMaC0QOYAMyEEuzJnyUi
user = uQiRzpo4DXghDmr9QzzfQu27cmVRsG
retry = 90s
expire = 2h
kinds = checksum-errors

[alert "pager"]
type = pagerduty
url = http://127.0.0.1:$pd_PORT/v2/enqueue
routing-key = R0UTINGKEYr0utingkey0123456789ab
levels = critical

[alert "mail"]
type = email
to = ops@example.org, oncall@example.org
from = vigil@nas1.example.org
sendmail = $T/bin/fake-sendmail
kinds = checksum-errors

[alert "smtp"]
type = email
url = smtp://127.0.0.1:$smtp_PORT
to = ops@example.org
user = vigil-mailer
password = SmtpPassw0rd!x
tls = off
kinds = checksum-errors
CONF
chmod 600 "$CONF"
W="$T/web/requests.jsonl" P="$T/pd/requests.jsonl" M="$T/smtp/mail.jsonl"

vg alert send --config "$CONF" --level warning --kind checksum-errors \
	--title "pool tank: 3 checksum errors on sdb" --body "Run 'zpool status -v tank'." \
	--key gate:zfs:tank:sdb --subject tank/sdb
eq warning-exit "$RC" 0

# Gotify: POST <url>/message, token in X-Gotify-Key, JSON title/message/priority
eq gotify-path "$(q "$W" 'r[0]["method"] + " " + r[0]["path"]')" "POST /gotify/message"
eq gotify-key "$(q "$W" 'hdr(r[0], "X-Gotify-Key")')" "['AbCgotifyTOKEN1']"
eq gotify-type "$(q "$W" 'hdr(r[0], "Content-Type")')" "['application/json']"
eq gotify-fields "$(q "$W" '[body(r[0])[k] for k in ("title", "priority")]')" \
	"['WARNING: nas1: pool tank: 3 checksum errors on sdb', 5]"
contains gotify-message "$(q "$W" 'body(r[0])["message"]')" "Run 'zpool status -v tank'."
eq gotify-no-token-in-url "$(q "$W" '"AbC" in r[0]["path"]')" "False"

# Pushover: form fields, warning = priority 0 without retry/expire
eq pushover-path "$(q "$W" 'r[1]["method"] + " " + r[1]["path"]')" "POST /1/messages.json"
eq pushover-type "$(q "$W" 'hdr(r[1], "Content-Type")')" "['application/x-www-form-urlencoded']"
PF='__import__("urllib.parse").parse.parse_qs(r[%d]["body"])'
eq pushover-normal "$(q "$W" "(lambda f: [f['token'][0], f['user'][0], f['priority'][0], f['title'][0], f['timestamp'][0], 'retry' in f])($(printf "$PF" 1))")" \
	"['azGDORePK8gMaC0QOYAMyEEuzJnyUi', 'uQiRzpo4DXghDmr9QzzfQu27cmVRsG', '0', 'WARNING: nas1: pool tank: 3 checksum errors on sdb', '1714557600', False]"

# sendmail: -i -- recipients, headers and body on stdin
eq sendmail-args "$(tr '\n' ' ' < "$T/sendmail.args")" "-i -- ops@example.org oncall@example.org "
MSG=$(cat "$T/sendmail.msg")
contains sendmail-from "$MSG" "From: vigil <vigil@nas1.example.org>"
contains sendmail-to "$MSG" "To: ops@example.org, oncall@example.org"
contains sendmail-subject "$MSG" "Subject: WARNING: nas1: pool tank: 3 checksum errors on sdb"
contains sendmail-date "$MSG" "Date: Wed, 01 May 2024 10:00:00 +0000"
contains sendmail-charset "$MSG" "Content-Type: text/plain; charset=utf-8"
contains sendmail-body "$MSG" "Run 'zpool status -v tank'."

# SMTP through libcurl: envelope, AUTH user, the same message with CRLF
eq smtp-envelope "$(q "$M" '[r[0]["from"], r[0]["rcpt"], r[0]["auth"]]')" \
	"['<vigil@nas1>', ['<ops@example.org>'], 'vigil-mailer']"
contains smtp-subject "$(q "$M" 'r[0]["data"]')" "Subject: WARNING: nas1: pool tank: 3 checksum errors on sdb"
eq smtp-crlf "$(q "$M" '"\r\n" in r[0]["data"]')" "True"

# Warning is not for the pager
eq pager-quiet-on-warning "$(q "$P" 'len(r)')" 0

# Critical: the pager triggers, Pushover goes emergency with retry/expire
vg alert send --config "$CONF" --level critical --kind checksum-errors \
	--title "pool tank: 40 checksum errors on sdb" --body "Replace sdb." \
	--key gate:zfs:tank:sdb --subject tank/sdb --figure cksum_errors=40
eq critical-exit "$RC" 0
contains critical-escalated "$OUT" "CRITICAL (was WARNING): nas1: pool tank: 40 checksum errors on sdb"
eq pd-trigger-path "$(q "$P" 'r[0]["method"] + " " + r[0]["path"]')" "POST /v2/enqueue"
eq pd-trigger-type "$(q "$P" 'hdr(r[0], "Content-Type")')" "['application/json']"
eq pd-trigger "$(q "$P" '(lambda b: [b["routing_key"], b["event_action"], b["dedup_key"], b["payload"]["severity"], b["payload"]["source"], b["payload"]["component"], b["payload"]["class"], b["payload"]["timestamp"]])(body(r[0]))')" \
	"['R0UTINGKEYr0utingkey0123456789ab', 'trigger', 'vigil/nas1/gate:zfs:tank:sdb', 'critical', 'nas1', 'tank/sdb', 'checksum-errors', '2024-05-01T10:00:00Z']"
eq pd-summary "$(q "$P" 'body(r[0])["payload"]["summary"]')" "CRITICAL (was WARNING): nas1: pool tank: 40 checksum errors on sdb"
eq pd-details "$(q "$P" '[body(r[0])["payload"]["custom_details"][k] for k in ("cksum_errors", "condition")]')" "['40', 'gate:zfs:tank:sdb']"
N=$(q "$W" 'len(r)')
eq pushover-emergency "$(q "$W" "(lambda f: [f['priority'][0], f['retry'][0], f['expire'][0]])($(printf "$PF" $((N-1))))")" "['2', '90', '7200']"
TAG=$(q "$W" "$(printf "$PF" $((N-1)))['tags'][0]")
eq pushover-emergency-tag "$(echo "$TAG" | grep -c '^vigil[0-9a-f]\{16\}$')" 1

# Cleared: PagerDuty resolve with the same dedup_key; "resolved" elsewhere
vg alert send --config "$CONF" --resolve --key gate:zfs:tank:sdb
eq resolve-exit "$RC" 0
eq pd-resolve "$(q "$P" '(lambda b: sorted(b.items()))(body(r[1]))')" \
	"[('dedup_key', 'vigil/nas1/gate:zfs:tank:sdb'), ('event_action', 'resolve'), ('routing_key', 'R0UTINGKEYr0utingkey0123456789ab')]"
eq pd-two-events "$(q "$P" 'len(r)')" 2
N=$(q "$W" 'len(r)')
eq pushover-resolved "$(q "$W" "(lambda f: [f['priority'][0], f['title'][0]])($(printf "$PF" $((N-1))))")" \
	"['0', 'resolved: nas1: pool tank: 40 checksum errors on sdb']"
# ... after the emergency's retries were cancelled by its tag
eq pushover-cancel-path "$(q "$W" "r[$((N-2))]['method'] + ' ' + r[$((N-2))]['path']")" \
	"POST /1/receipts/cancel_by_tag/$TAG.json"
eq pushover-cancel-form "$(q "$W" "sorted($(printf "$PF" $((N-2))).items())")" \
	"[('token', ['azGDORePK8gMaC0QOYAMyEEuzJnyUi'])]"
contains mail-resolved "$(cat "$T/sendmail.msg")" "Subject: resolved: nas1: pool tank: 40 checksum errors on sdb"

# A test through PagerDuty triggers and resolves at once
vg alert test pager --config "$CONF"
eq pd-test-exit "$RC" 0
eq pd-test-pair "$(q "$P" '[(body(x)["event_action"], body(x)["dedup_key"]) for x in r[2:]]')" \
	"[('trigger', 'vigil/nas1/test/pager'), ('resolve', 'vigil/nas1/test/pager')]"

# A receiver that refuses the request: the exact error
echo "status 400" > "$T/pd/mode"
vg alert test pager --config "$CONF"
eq pd-400-exit "$RC" 2
contains pd-400-error "$OUT" "answered HTTP 400: {\"error\":\"sink says no\"}"

# SMTP with tls = required against a server without STARTTLS: refused
sed -i 's/^tls = off$/tls = required/' "$CONF"
vg alert test smtp --config "$CONF"
eq smtp-tls-required-exit "$RC" 2
contains smtp-tls-required-error "$OUT" "STARTTLS not supported"

for s in AbCgotifyTOKEN1 azGDORePK8gMaC0QOYAMyEEuzJnyUi uQiRzpo4DXghDmr9QzzfQu27cmVRsG \
	R0UTINGKEYr0utingkey0123456789ab SmtpPassw0rd vigil-mailer; do
	if grep -rq -- "$s" "$T/all-output" "$T/state"; then not_ok "no-secret-$s"; else ok "no-secret-$s"; fi
done
done_testing
