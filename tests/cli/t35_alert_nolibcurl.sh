#!/usr/bin/env bash
# t35_alert_nolibcurl.sh - libcurl is loaded only when an alert goes out
# over HTTP or SMTP.  With an unusable libcurl.so.4 (a damaged file found
# first through LD_LIBRARY_PATH) 'vigil alert test' names the library and
# the Debian package, an alert is spooled like any failed delivery, the exec
# channel still delivers, and the next run with a good libcurl sends the
# spooled alert.  Commands that send nothing never load libcurl.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/alert_lib.sh"
export VIGIL_STATE_DIR="$T/state" VIGIL_NOW=1714557600
unset VIGIL_CONFIG

start_sink web
CONF="$T/vigil.conf"
cat > "$CONF" <<CONF
[alert]
timeout = 4s
host = nas1

[alert "hook"]
type = webhook
url = http://127.0.0.1:$web_PORT/hook

[alert "mail"]
type = email
to = ops@example.org
url = smtp://127.0.0.1:$web_PORT

[alert "script"]
type = exec
command = cat > "$T/exec.json"
CONF
R="$T/web/requests.jsonl"
mkdir "$T/lib"
printf 'not a shared object\n' > "$T/lib/libcurl.so.4"
spooled() { ls "$T/state/alert/spool" 2>/dev/null | grep -c '\.json$'; }
broken() { LD_LIBRARY_PATH="$T/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$@"; }

vg() { OUT=$(broken "$VG" "$@" 2>&1); RC=$?; }
vg alert test hook --config "$CONF"
eq test-exit "$RC" 2
contains test-names-library "$OUT" "failed     'hook' (webhook): test: nas1: vigil alert test through 'hook' (webhook): cannot load libcurl.so.4 ($T/lib/libcurl.so.4: "
contains test-names-package "$OUT" "): reinstall the Debian package libcurl4"
eq test-one-line "$(printf '%s\n' "$OUT" | wc -l)" 1
vg alert test mail --config "$CONF"
eq smtp-exit "$RC" 2
contains smtp-names-package "$OUT" "(email): cannot load libcurl.so.4 ("
eq nothing-reached-the-receiver "$(q "$R" 'len(r)')" 0

vg alert send --config "$CONF" --level critical --kind backup-failed \
	--title "backup of /srv failed: vault unreachable" --key backup:/srv
eq send-exit "$RC" 1
contains send-spooled "$OUT" "spooled    'hook' (webhook)"
contains send-reason "$OUT" "reinstall the Debian package libcurl4"
contains send-exec-delivered "$OUT" "delivered  'script' (exec)"
eq send-exec-got-it "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["title"])' "$T/exec.json")" \
	"backup of /srv failed: vault unreachable"
eq send-two-spooled "$(spooled)" 2   # hook and mail

# Whether a run maps libcurl, as the dynamic loader tells (LD_DEBUG):
# not for a command that sends nothing, yes once an alert goes out.
loads_curl() { # args...
	rm -f "$T"/ld.*
	LD_DEBUG=files LD_DEBUG_OUTPUT="$T/ld" "$VG" "$@" >/dev/null 2>&1
	if grep -q 'file=libcurl\.so\.4 ' "$T"/ld.*; then echo yes; else echo no; fi
}
eq version-no-libcurl "$(loads_curl --version)" no
eq status-no-libcurl "$(loads_curl alert status --config "$CONF")" no
eq exec-test-no-libcurl "$(loads_curl alert test script --config "$CONF")" no

# With a usable libcurl the retry delivers the spooled webhook alert.
OUT=$("$VG" alert flush --config "$CONF" 2>&1); RC=$?
contains flush-delivered "$OUT" "delivered  'hook' (webhook): (retry) CRITICAL: nas1: backup of /srv failed: vault unreachable"
eq flush-received "$(q "$R" '[(x["path"], body(x)["title"]) for x in r]')" \
	"[('/hook', 'backup of /srv failed: vault unreachable')]"
eq http-test-loads-libcurl "$(loads_curl alert test hook --config "$CONF")" yes
done_testing
