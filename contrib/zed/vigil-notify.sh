#!/bin/sh
# vigil-notify.sh - a ZFS Event Daemon (zed) zedlet that forwards ZFS's own
# events to 'vigil alert send', so they reach vigil's channels with vigil's
# routing, dedup and resolve.  See docs/ALERTS.md ("ZFS events").
#
# Install (zed runs every executable in its zedlet directory whose name
# starts with the event's class or subclass, or "all"):
#   install -m 0755 vigil-notify.sh /etc/zfs/zed.d/all-vigil.sh
# Settings, all optional, in /etc/zfs/zed.d/zed.rc:
#   ZED_VIGIL=/usr/local/bin/vigil       the vigil binary
#   ZED_VIGIL_CONFIG=/etc/vigil/vigil.conf
#   ZED_VIGIL_STATE_DIR=/var/lib/vigil
#
# Events handled (ZEVENT_SUBCLASS) and what they become:
#   checksum, io     checksum-errors / io-errors on a device: warning, or
#                    critical when the device has no redundancy
#   data             unrecoverable data error in a pool: critical
#   statechange      FAULTED/UNAVAIL/REMOVED: critical, DEGRADED: warning,
#                    back ONLINE: resolves the device's alert
#   vdev_clear       'zpool clear': resolves the device's error alerts
#   scrub_finish,    scrub-result: warning if 'zpool status -x' is not
#   resilver_finish  healthy, else info (and resolves the pool's scrub alert)
# Exit status (zed's convention): 0 sent, 1 failed, 2 not configured,
# 3 not relevant.  An alert vigil could not deliver now is spooled by vigil
# and counts as sent.

[ -n "${ZED_ZEDLET_DIR}" ] && [ -r "${ZED_ZEDLET_DIR}/zed.rc" ] && . "${ZED_ZEDLET_DIR}/zed.rc"

vigil="${ZED_VIGIL:-}"
if [ -z "${vigil}" ]; then
	vigil=$(command -v vigil 2>/dev/null)
	[ -z "${vigil}" ] && [ -x /usr/local/bin/vigil ] && vigil=/usr/local/bin/vigil
fi
[ -n "${vigil}" ] && [ -x "${vigil}" ] || exit 2
[ -n "${ZED_VIGIL_STATE_DIR:-}" ] && export VIGIL_STATE_DIR="${ZED_VIGIL_STATE_DIR}"
[ -n "${ZEVENT_SUBCLASS:-}" ] || exit 3

pool="${ZEVENT_POOL:-${ZEVENT_POOL_GUID:-unknown-pool}}"
if [ -n "${ZEVENT_VDEV_PATH:-}" ]; then
	dev="${ZEVENT_VDEV_PATH##*/}"
else
	dev="${ZEVENT_VDEV_GUID:-}"
fi
when="${ZEVENT_TIME_STRING:-unknown time}"
zpool="${ZPOOL:-zpool}"

# send LEVEL KIND KEY TITLE BODY [--figure N=V ...]
send() {
	level=$1 kind=$2 key=$3 title=$4 body=$5
	shift 5
	set -- "${vigil}" alert send ${ZED_VIGIL_CONFIG:+--config "${ZED_VIGIL_CONFIG}"} \
		--level "${level}" --kind "${kind}" --title "${title}" --body "${body}" \
		--subject "${pool}${dev:+/${dev}}" --figure "pool=${pool}" \
		--figure "eid=${ZEVENT_EID:-?}" --figure "zevent=${ZEVENT_CLASS:-?}" "$@"
	[ -n "${key}" ] && set -- "$@" --key "${key}"
	"$@"
	rc=$?
	[ "${rc}" -le 1 ] && exit 0 # 1: spooled for a later run, not lost
	exit 1
}

resolve() { # KEY...
	rc=0
	for k in "$@"; do
		"${vigil}" alert send ${ZED_VIGIL_CONFIG:+--config "${ZED_VIGIL_CONFIG}"} --resolve --key "${k}" || rc=$?
	done
	[ "${rc}" -le 1 ] && exit 0
	exit 1
}

counters() {
	echo "Error counters of ${dev} now: read ${ZEVENT_VDEV_READ_ERRORS:-?}, write ${ZEVENT_VDEV_WRITE_ERRORS:-?}, checksum ${ZEVENT_VDEV_CKSUM_ERRORS:-?}."
}

# A device whose parent is the pool's root vdev has no redundancy.
redundant() { [ -n "${ZEVENT_PARENT_TYPE:-}" ] && [ "${ZEVENT_PARENT_TYPE}" != "root" ]; }

go_cold="This device has no redundancy: ZFS cannot repair what it reads wrong. Go cold: stop writing to pool ${pool}, make sure a healthy backup exists (vigil snapshots), copy off what you still need, then replace the disk."

device_error() { # key-part words kind counter-var
	part=$1 what=$2 kind=$3 n="?"
	eval "n=\${$4:-?}"
	if redundant; then
		level=warning
		advice="ZFS repaired the data from redundancy (${ZEVENT_PARENT_TYPE}). Run 'zpool status -v ${pool}'. If the count keeps growing, check the cable and SMART ('smartctl -a ${ZEVENT_VDEV_PATH:-/dev/${dev}}') and replace the disk: 'zpool replace ${pool} ${dev} NEW-DEVICE'."
	else
		level=critical
		advice="${go_cold}"
	fi
	send "${level}" "${kind}" "zed:${pool}:${dev}:${part}" \
		"pool ${pool}: ${what} errors on ${dev} (${n} counted)" \
		"ZFS reported ${what} errors on ${dev} in pool ${pool} at ${when}. $(counters)
${advice}" \
		--figure "vdev=${ZEVENT_VDEV_PATH:-${dev}}" \
		--figure "read_errors=${ZEVENT_VDEV_READ_ERRORS:-?}" \
		--figure "write_errors=${ZEVENT_VDEV_WRITE_ERRORS:-?}" \
		--figure "cksum_errors=${ZEVENT_VDEV_CKSUM_ERRORS:-?}"
}

case "${ZEVENT_SUBCLASS}" in
checksum)
	device_error checksum checksum checksum-errors ZEVENT_VDEV_CKSUM_ERRORS
	;;
io)
	device_error io I/O io-errors ZEVENT_VDEV_READ_ERRORS
	;;
data)
	dev=""
	send critical checksum-errors "zed:${pool}:data" \
		"pool ${pool}: unrecoverable data error" \
		"ZFS could not repair data in pool ${pool} at ${when}: some file contents are lost on this pool. Run 'zpool status -v ${pool}' to list the affected files and restore them from a healthy backup (vigil restore). Do not let backups of this pool replace older good copies."
	;;
statechange)
	state="${ZEVENT_VDEV_STATE_STR:-UNKNOWN}"
	case "${state}" in
	FAULTED | UNAVAIL | REMOVED)
		send critical device-state "zed:${pool}:${dev}:state" \
			"pool ${pool}: ${dev} is ${state}" \
			"Device ${dev} in pool ${pool} went ${state} (was ${ZEVENT_VDEV_LASTSTATE_STR:-?}) at ${when}; the pool lost redundancy. Run 'zpool status ${pool}', check the disk and its cable, and replace it: 'zpool replace ${pool} ${dev} NEW-DEVICE'." \
			--figure "state=${state}"
		;;
	DEGRADED)
		send warning device-state "zed:${pool}:${dev}:state" \
			"pool ${pool}: ${dev} is DEGRADED" \
			"Device ${dev} in pool ${pool} is DEGRADED (too many errors) since ${when}. Run 'zpool status -v ${pool}' and plan to replace it." \
			--figure "state=${state}"
		;;
	ONLINE | HEALTHY)
		resolve "zed:${pool}:${dev}:state"
		;;
	*) exit 3 ;;
	esac
	;;
vdev_clear)
	resolve "zed:${pool}:${dev}:checksum" "zed:${pool}:${dev}:io" "zed:${pool}:${dev}:state"
	;;
scrub_finish | resilver_finish)
	dev=""
	what="${ZEVENT_SUBCLASS%_finish}"
	status=$("${zpool}" status -x "${pool}" 2>&1 | head -n 60)
	case "${status}" in
	"pool '${pool}' is healthy" | "'${pool}' is healthy" | "all pools are healthy")
		"${vigil}" alert send ${ZED_VIGIL_CONFIG:+--config "${ZED_VIGIL_CONFIG}"} --resolve --key "zed:${pool}:scrub" >/dev/null 2>&1
		send info scrub-result "" "pool ${pool}: ${what} finished, healthy" \
			"The ${what} of pool ${pool} finished at ${when} and 'zpool status -x' reports it healthy."
		;;
	*)
		send warning scrub-result "zed:${pool}:scrub" "pool ${pool}: ${what} finished with problems" \
			"The ${what} of pool ${pool} finished at ${when}, and the pool is not healthy. Read the status below and follow its action line.

${status}"
		;;
	esac
	;;
*)
	exit 3
	;;
esac
