#!/usr/bin/env bash
# t43_wal_verify.sh - `vigil wal-verify` on a real WAL archive written by
# PostgreSQL's archive_command (1 MiB segments, switches forced with
# pg_switch_wal()): complete archive; segments removed from the middle and
# the end, classified as WAL-G does; then a point-in-time recovery that
# promotes the cluster to timeline 2, and the check follows the switch
# through 00000002.history.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/t4_pg_lib.bash"

D="$PGW/data"
A="$PGW/archive"
as_pg mkdir -p "$A"
pg_init "$D" --data-checksums --wal-segsize=1 || not_ok initdb "$(tail -3 "$PGW/initdb.log")"
ARCHIVE_OPTS="-c archive_mode=on -c archive_command='test ! -f $A/%f && cp %p $A/%f' -c archive_timeout=0"
pg_start "$D" "$ARCHIVE_OPTS" || not_ok start
CONN="host=$PGSOCK user=postgres dbname=postgres"

# wait_archived: until the archiver has copied every switched segment.
wait_archived() {
	local want got i
	want=$(psql_c "SELECT pg_walfile_name(pg_current_wal_lsn() - 1)")
	for i in $(seq 100); do
		got=$(psql_c "SELECT last_archived_wal FROM pg_stat_archiver")
		[ "$got" = "$want" ] && return 0
		sleep 0.1
	done
	echo "archiver stuck at '$got', wanted '$want'" >&2
	return 1
}
# make_segments N: N more segments, each ended by pg_switch_wal()
make_segments() {
	local sql="CREATE TABLE IF NOT EXISTS w(a int);" i
	for i in $(seq "$1"); do sql="$sql INSERT INTO w VALUES ($i); SELECT pg_switch_wal();"; done
	psql_c "$sql" >/dev/null
}
seg() { printf '00000001000000000000%04X' "$1"; }

make_segments 24
wait_archived && ok archived || not_ok archived
LAST=$(psql_c "SELECT pg_walfile_name(pg_current_wal_lsn() - 1)")
N=$((16#${LAST:16:8}))   # newest archived segment number (1 MiB: 4096 per log)
OLDEST=$(ls "$A" | sort | head -1)
F=$((16#${OLDEST:16:8})) # oldest archived (initdb's own segments were never archived)
G=$((F + 3))             # the segment removed from the middle

# 1. Complete archive: OK.
expect_exit 0 complete-archive-ok "$VG" wal-verify "$A" --connstr "$CONN"
contains complete-integrity-ok "$OUT" "integrity check status: OK"
contains size-from-server "$OUT" "segment size 1 MiB"
expect_exit 0 complete-archive-json "$VG" wal-verify "$A" --connstr "$CONN" --json
echo "$OUT" >"$T/ok.json"
py "$T/ok.json" "$(seg $F)" "$(seg $((N - 1)))" <<'EOF' && ok complete-one-found-range || not_ok complete-one-found-range "$(cat "$T/ok.json")"
import json, sys
r = json.load(open(sys.argv[1]))
d = r["integrity"]["details"]
# The segment holding the current LSN - 1 is still "being written" (WAL-G):
# the check ends one before it.
assert [(x["timeline_id"], x["start_segment"], x["end_segment"], x["status"]) for x in d] == \
    [(1, sys.argv[2], sys.argv[3], "FOUND")], d
assert r["status"] == "OK" and r["timeline"]["status"] == "OK", r
assert r["wal_segment_size"] == 1048576
EOF
# Without a server, the newest archived segment ends the range; the size is
# measured on the files.
expect_exit 0 offline-archive-ok "$VG" wal-verify "$A"
contains offline-size-measured "$OUT" "segment size 1 MiB"
contains offline-range "$OUT" "checked $(seg $F) to $LAST"

# 2. Segments removed from the middle (G) and the end (the two newest
# before the current one).
mkdir -p "$T/removed"
for s in $G $((N - 2)) $((N - 1)); do mv "$A/$(seg "$s")" "$T/removed/"; done
expect_exit 2 gaps-default-failure "$VG" wal-verify "$A" --connstr "$CONN" --json
echo "$OUT" >"$T/gaps.json"
py "$T/gaps.json" "$F" "$G" "$N" <<'EOF' && ok gaps-default-classes || not_ok gaps-default-classes "$(cat "$T/gaps.json")"
import json, sys
f, g, n = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
seg = lambda i: "00000001000000000000%04X" % i
r = json.load(open(sys.argv[1]))
got = [(x["start_segment"], x["end_segment"], x["segments_count"], x["status"]) for x in r["integrity"]["details"]]
# WAL-G defaults: 0 delayed, 16 uploading: the end gap is within the
# upload window, segment G (more than 16 back) is lost.
want = [(seg(f), seg(g - 1), g - f, "FOUND"), (seg(g), seg(g), 1, "MISSING_LOST"),
        (seg(g + 1), seg(n - 3), n - 3 - g, "FOUND"), (seg(n - 2), seg(n - 1), 2, "MISSING_UPLOADING")]
assert got == want, (got, want)
assert r["integrity"]["status"] == "FAILURE" and r["status"] == "FAILURE"
EOF
expect_exit 2 gaps-human "$VG" wal-verify "$A" --connstr "$CONN"
contains gaps-human-lost-row "$OUT" "|   1 | $(seg $G) | $(seg $G) |              1 |      MISSING_LOST |"
contains gaps-human-advice "$OUT" "1 segment is lost: point-in-time recovery cannot cross it"
# A tighter window: the two newest missing are delayed (not archived yet),
# the next two are the upload window, the rest lost.
expect_exit 2 gaps-windows "$VG" wal-verify "$A" --connstr "$CONN" --max-delayed 3 --upload-concurrency 2
contains gaps-windows-delayed "$OUT" "| $(seg $((N - 2))) | $(seg $((N - 1))) |              2 |   MISSING_DELAYED |"
contains gaps-windows-lost "$OUT" "| $(seg $G) | $(seg $G) |              1 |      MISSING_LOST |"
# --start limits the range (the older gap at G does not matter).
expect_exit 1 start-option "$VG" wal-verify "$A" --start "$(seg $((G + 2)))" --end "$(seg $((N - 1)))" --max-delayed 4
contains start-option-range "$OUT" "checked $(seg $((G + 2))) to $(seg $((N - 1)))"
# Only the end missing: a warning, not a failure.
mv "$T/removed/$(seg $G)" "$A/"
expect_exit 1 end-gap-warning "$VG" wal-verify "$A" --connstr "$CONN" --max-delayed 4
contains end-gap-delayed "$OUT" "| $(seg $((N - 2))) | $(seg $((N - 1))) |              2 |   MISSING_DELAYED |"
contains end-gap-status "$OUT" "status: WARNING"
mv "$T/removed/"* "$A/"

# 3. Point-in-time recovery to the end of the archive, promoted to
# timeline 2: PostgreSQL archives 00000002.history and the last segment of
# timeline 1 as .partial.
pg_stop "$D"
as_pg touch "$D/recovery.signal"
pg_start "$D" "$ARCHIVE_OPTS -c restore_command='cp $A/%f %p'" || not_ok pitr-start
for i in $(seq 100); do [ "$(psql_c "SELECT pg_is_in_recovery()")" = f ] && break; sleep 0.1; done
contains promoted-to-timeline-2 "$(psql_c "SELECT timeline_id FROM pg_control_checkpoint()")" 2
make_segments 3
wait_archived && ok archived-after-promotion || not_ok archived-after-promotion
[ -f "$A/00000002.history" ] && ok history-archived || not_ok history-archived "$(ls "$A")"
expect_exit 0 timeline-switch-followed "$VG" wal-verify "$A" --connstr "$CONN" --json
echo "$OUT" >"$T/tl.json"
py "$T/tl.json" "$A/00000002.history" <<'EOF' && ok timeline-ranges || not_ok timeline-ranges "$(cat "$T/tl.json")"
import json, sys
r = json.load(open(sys.argv[1]))
d = r["integrity"]["details"]
hist = open(sys.argv[2]).read().split()
hi, lo = hist[1].split("/")
switch = (int(hi, 16) << 32 | int(lo, 16)) >> 20          # 1 MiB segments
assert [x["timeline_id"] for x in d] == [1, 2], d
assert all(x["status"] == "FOUND" for x in d), d
# Timeline 1 up to the segment before the switch; timeline 2 from the
# segment holding the switch point.
assert d[0]["end_segment"] == "00000001000000000000%04X" % (switch - 1), (d, switch)
assert d[1]["start_segment"] == "00000002000000000000%04X" % switch, (d, switch)
assert r["timeline"]["details"] == {"current_timeline_id": 2, "highest_storage_timeline_id": 2}
EOF
# Without the history file the switch cannot be followed: timeline 1's
# segments are not found under timeline 2, and the check says why.
mv "$A/00000002.history" "$T/"
expect_exit 2 missing-history-failure "$VG" wal-verify "$A" --connstr "$CONN"
contains missing-history-note "$OUT" "00000002.history is not in the archive"
mv "$T/00000002.history" "$A/"
gzip -k "$A/00000002.history" && mv "$A/00000002.history" "$T/"
expect_exit 0 compressed-history-read "$VG" wal-verify "$A" --connstr "$CONN"
mv "$T/00000002.history" "$A/"

# 4. Misuse and connection errors.
expect_exit 64 end-and-connstr "$VG" wal-verify "$A" --end "$(seg 3)" --connstr "$CONN"
expect_exit 65 bad-start-name "$VG" wal-verify "$A" --start 00000001XYZ
expect_exit 66 no-such-archive "$VG" wal-verify "$T/nowhere"
expect_exit 2 bad-connstr "$VG" wal-verify "$A" --connstr "host=$PGSOCK port=1 user=postgres password=s3cret"
contains bad-connstr-says-psql "$OUT" "psql failed"
case "$OUT" in *s3cret*) not_ok password-not-printed ;; *) ok password-not-printed ;; esac
done_testing
