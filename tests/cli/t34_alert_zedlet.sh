#!/usr/bin/env bash
# t34_alert_zedlet.sh - contrib/zed/vigil-notify.sh run the way zed runs it
# (a scrubbed environment with the ZEVENT_* variables of a recorded
# checksum event, zed.rc in the zedlet directory) produces the expected
# vigil alert, deduplicates repeats, escalates and resolves device states.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/alert_lib.sh"
ZEDLET="$ROOT/contrib/zed/vigil-notify.sh"
FIX="$ROOT/tests/fixtures/zed"

start_sink web
mkdir -p "$T/zed.d" "$T/bin"
cat > "$T/vigil.conf" <<CONF
[alert]
host = nas1
timeout = 5s
[alert "hook"]
type = webhook
url = http://127.0.0.1:$web_PORT/zed
levels = info, warning, critical
CONF
cat > "$T/zed.d/zed.rc" <<RC
ZED_VIGIL=$VG
ZED_VIGIL_CONFIG=$T/vigil.conf
ZED_VIGIL_STATE_DIR=$T/state
RC
R="$T/web/requests.jsonl"
# zed gives zedlets a locked-down environment: only what it sets.
zed_run() { # env-file [VAR=value ...]
	local f=$1; shift
	local -a envs=()
	while IFS= read -r line; do [ -n "$line" ] && envs+=("$line"); done < "$f"
	env -i PATH=/usr/bin:/bin:/usr/sbin:/sbin ZED_ZEDLET_DIR="$T/zed.d" \
		VIGIL_NOW=1714557600 ZPOOL="$T/bin/zpool" "${envs[@]}" "$@" \
		sh "$ZEDLET" >> "$T/all-output" 2>&1
	ZRC=$?
}

zed_run "$FIX/checksum.env"
eq checksum-exit "$ZRC" 0
eq checksum-one-alert "$(q "$R" 'len(r)')" 1
eq checksum-alert "$(q "$R" '[body(r[0])[k] for k in ("state", "level", "kind", "key", "subject", "title")]')" \
	"['firing', 'warning', 'checksum-errors', 'zed:tank:wwn-0x5002538c402d54bf-part1:checksum', 'tank/wwn-0x5002538c402d54bf-part1', 'pool tank: checksum errors on wwn-0x5002538c402d54bf-part1 (1 counted)']"
eq checksum-figures "$(q "$R" 'body(r[0])["figures"]')" \
	"{'pool': 'tank', 'eid': '8', 'zevent': 'ereport.fs.zfs.checksum', 'vdev': '/dev/disk/by-id/wwn-0x5002538c402d54bf-part1', 'read_errors': '0', 'write_errors': '0', 'cksum_errors': '1'}"
B=$(q "$R" 'body(r[0])["body"]')
contains checksum-body-when "$B" "in pool tank at 2019-04-20 20:07:48+0100"
contains checksum-body-counters "$B" "read 0, write 0, checksum 1"
contains checksum-body-redundancy "$B" "repaired the data from redundancy (mirror)"
contains checksum-body-action "$B" "zpool replace tank wwn-0x5002538c402d54bf-part1 NEW-DEVICE"

# zed fires one event per bad block: repeats are suppressed
zed_run "$FIX/checksum.env" ZEVENT_EID=9 ZEVENT_VDEV_CKSUM_ERRORS=2
eq checksum-repeat-exit "$ZRC" 0
eq checksum-repeat-suppressed "$(q "$R" 'len(r)')" 1

# the same error on a device without redundancy: critical, "go cold"
zed_run "$FIX/checksum.env" ZEVENT_PARENT_TYPE=root ZEVENT_POOL=scratch
eq nonredundant-level "$(q "$R" 'body(r[-1])["level"]')" "critical"
contains nonredundant-go-cold "$(q "$R" 'body(r[-1])["body"]')" "Go cold: stop writing to pool scratch"

# device state: FAULTED pages, ONLINE resolves
zed_run "$FIX/checksum.env" ZEVENT_CLASS=resource.fs.zfs.statechange ZEVENT_SUBCLASS=statechange \
	ZEVENT_VDEV_STATE_STR=FAULTED ZEVENT_VDEV_LASTSTATE_STR=ONLINE
eq faulted "$(q "$R" '[body(r[-1])[k] for k in ("level", "kind", "title")]')" \
	"['critical', 'device-state', 'pool tank: wwn-0x5002538c402d54bf-part1 is FAULTED']"
zed_run "$FIX/checksum.env" ZEVENT_CLASS=resource.fs.zfs.statechange ZEVENT_SUBCLASS=statechange \
	ZEVENT_VDEV_STATE_STR=ONLINE
eq online-resolves "$(q "$R" '[body(r[-1])["state"], body(r[-1])["key"]]')" \
	"['resolved', 'zed:tank:wwn-0x5002538c402d54bf-part1:state']"

# zpool clear resolves the device's error alert
zed_run "$FIX/checksum.env" ZEVENT_CLASS=sysevent.fs.zfs.vdev_clear ZEVENT_SUBCLASS=vdev_clear
eq clear-resolves "$(q "$R" '[body(r[-1])["state"], body(r[-1])["key"]]')" \
	"['resolved', 'zed:tank:wwn-0x5002538c402d54bf-part1:checksum']"

# scrub finished: the pool's status decides the level
printf '#!/bin/sh\necho "pool '"'"'tank'"'"' is healthy"\n' > "$T/bin/zpool"; chmod +x "$T/bin/zpool"
zed_run "$FIX/checksum.env" ZEVENT_CLASS=sysevent.fs.zfs.scrub_finish ZEVENT_SUBCLASS=scrub_finish
eq scrub-healthy "$(q "$R" '[body(r[-1])[k] for k in ("level", "kind", "title")]')" \
	"['info', 'scrub-result', 'pool tank: scrub finished, healthy']"
cp "$ROOT/tests/fixtures/zed/zpool-status-x-cksum.txt" "$T/status.txt"
printf '#!/bin/sh\ncat "%s"\n' "$T/status.txt" > "$T/bin/zpool"
zed_run "$FIX/checksum.env" ZEVENT_CLASS=sysevent.fs.zfs.scrub_finish ZEVENT_SUBCLASS=scrub_finish
eq scrub-unhealthy "$(q "$R" '[body(r[-1])[k] for k in ("level", "key")]')" "['warning', 'zed:tank:scrub']"
contains scrub-unhealthy-status "$(q "$R" 'body(r[-1])["body"]')" "action: Determine if the device needs to be replaced"

# irrelevant events and a missing vigil
zed_run "$FIX/checksum.env" ZEVENT_CLASS=sysevent.fs.zfs.history_event ZEVENT_SUBCLASS=history_event
eq irrelevant-exit "$ZRC" 3
echo "ZED_VIGIL=$T/no-such-vigil" > "$T/zed.d/zed.rc"
zed_run "$FIX/checksum.env"
eq unconfigured-exit "$ZRC" 2
done_testing
