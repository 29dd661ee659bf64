#!/usr/bin/env bash
# t45_pg_basebackup.sh - `vigil backup` of a RUNNING PostgreSQL cluster is a
# base backup: backup mode for the copy, backup_label in the snapshot, the
# files PostgreSQL leaves out of a base backup left out.
#  1. archive_mode=on, pgbench writing during the backup: exit 0, not
#     suspect; restored with restore_command and recovery.signal, the copy
#     starts, recovers to the backup's end and holds every row.
#  2. The same copy without backup_label is not recovered to the backup's
#     end: the server declares itself consistent before it.
#  3. archive_mode=off: suspect, and the reason says why.
#  4. A server vigil cannot reach: the copy is suspect, the reason names
#     --pg-connstr.  No backup leaves a session in backup mode.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/t4_pg_lib.bash"

D="$PGW/data"
A="$PGW/archive"
mkdir -p "$A"
[ "$(id -u)" = 0 ] && chown postgres "$A"
pg_init "$D" --data-checksums || not_ok initdb "$(tail -3 "$PGW/initdb.log")"
as_pg sh -c "cat >>'$D/postgresql.auto.conf'" <<C
archive_mode = on
archive_command = 'cp %p $A/%f'
C
pg_start "$D" || not_ok start
pgbench -i -q -s 4 >/dev/null 2>&1 || not_ok pgbench-init
cat >"$T/vigil.conf" <<C
[source "pg"]
path = $D
allow-uninspectable = yes
C
"$VG" init --layout single "$T/vault" >/dev/null
BK=("$VG" backup --config "$T/vigil.conf" --vault "$T/vault")
in_backup() {
	psql_c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND query LIKE '%pg_backup%' AND pid <> pg_backend_pid()"
}
# out_of_backup: no such session within 5 s (a closed session's backend
# leaves pg_stat_activity a moment after vigil is gone)
out_of_backup() {
	local i
	for i in $(seq 1 50); do [ "$(in_backup)" = 0 ] && return 0; sleep 0.1; done
	return 1
}

# 1. A base backup while pgbench writes.
pgbench -c 4 -j 2 -T 3 -n >"$PGW/pgbench.log" 2>&1 &
bench=$!
sleep 0.5
expect_exit 0 backup-under-load-exit-0 "${BK[@]}" "$D"
wait "$bench"
echo "$OUT" >"$T/backup.out"
START=$(sed -n 's/.*backup mode ended: start LSN \([0-9A-F/]*\), stop LSN \([0-9A-F/]*\),.*/\1/p' "$T/backup.out")
STOP=$(sed -n 's/.*backup mode ended: start LSN \([0-9A-F/]*\), stop LSN \([0-9A-F/]*\),.*/\2/p' "$T/backup.out")
[ -n "$START" ] && [ -n "$STOP" ] && [ "$START" != "$STOP" ] && ok output-names-start-and-stop-lsn ||
	not_ok output-names-start-and-stop-lsn "$(cat "$T/backup.out")"
case "$OUT" in *suspect*) not_ok snapshot-not-suspect "$OUT" ;; *) ok snapshot-not-suspect ;; esac
contains changes-during-copy-expected "$OUT" "as expected in backup mode"
out_of_backup && ok not-left-in-backup-mode || not_ok not-left-in-backup-mode "$(in_backup)"
# --json: the LSNs are notes, not problems
"${BK[@]}" --json "$D" >"$T/backup.json" 2>/dev/null
py "$T/backup.json" <<'EOF' && ok json-lsns-are-notes-not-problems || not_ok json-lsns-are-notes-not-problems "$(cat "$T/backup.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["verdict"] == "ok" and d["problems"] == [], d
assert any("start LSN" in n and "stop LSN" in n for n in d["notes"]), d["notes"]
EOF
LS=$("$VG" ls --vault "$T/vault" latest:data 2>&1)
contains ls-backup-label "$LS" "data/backup_label"
contains ls-pg-wal-kept-empty "$LS" "data/pg_wal"
case "$LS" in *"data/pg_wal/0"*|*postmaster.pid*|*postmaster.opts*) not_ok ls-no-wal-no-pid "$(echo "$LS" | grep -E 'pg_wal/|postmaster')" ;;
	*) ok ls-no-wal-no-pid ;; esac

# restore DIR [keep-label]: restore the snapshot, set up archive recovery,
# start it on its own socket; the server log is DIR.log.
restore_start() {
	local r=$1
	"$VG" restore --vault "$T/vault" latest:data "$r" >/dev/null 2>&1 || return 1
	[ "$(id -u)" = 0 ] && chown -R postgres "$r"
	chmod 700 "$r"
	[ "${2:-}" = keep-label ] || rm -f "$r/backup_label"
	as_pg sh -c "cat >>'$r/postgresql.auto.conf'" <<C
archive_mode = off
restore_command = 'cp $A/%f %p'
C
	as_pg touch "$r/recovery.signal"
	mkdir -p "$r.sock"
	[ "$(id -u)" = 0 ] && chown postgres "$r.sock"
	as_pg "$PGBIN/pg_ctl" -D "$r" -l "$r.log" -w -t 60 \
		-o "-k $r.sock -c listen_addresses='' -c fsync=off" start >/dev/null 2>&1 &&
		_pg_running="$_pg_running $r"
}
R="$PGW/restored"
restore_start "$R" keep-label && ok restored-copy-starts || not_ok restored-copy-starts "$(tail -5 "$R.log")"
N=$(echo "SELECT count(*) FROM pgbench_accounts" | as_pg "$PGBIN/psql" -X -q -At -h "$R.sock" -U postgres -d postgres 2>&1)
[ "$N" = 400000 ] && ok restored-rows || not_ok restored-rows "count: $N"
# With backup_label the server replays to the backup's end before it
# calls itself consistent.
CONS=$(sed -n 's/.*consistent recovery state reached at \([0-9A-F/]*\).*/\1/p' "$R.log" | head -1)
lsn_ge() { py "$1" "$2" <<'P'
import sys
v = [int(a, 16) << 32 | int(b, 16) for a, b in (s.split("/") for s in sys.argv[1:3])]
sys.exit(0 if v[0] >= v[1] else 1)
P
}
[ -n "$CONS" ] && lsn_ge "$CONS" "$STOP" && ok recovered-to-backup-end ||
	not_ok recovered-to-backup-end "consistent at '$CONS', stop LSN $STOP: $(grep -i consistent "$R.log")"
pg_stop "$R"
expect_exit 0 restored-pages-verify "$VG" pg-verify "$R"

# 2. Without backup_label, recovery starts from whatever checkpoint the
# copied pg_control names and does not know where the copy ends.
R2="$PGW/nolabel"
restore_start "$R2"
CONS2=$(sed -n 's/.*consistent recovery state reached at \([0-9A-F/]*\).*/\1/p' "$R2.log" | head -1)
if [ -n "$CONS2" ] && lsn_ge "$CONS2" "$STOP"; then
	not_ok without-label-not-recovered-to-end "consistent at $CONS2 >= $STOP"
else
	ok without-label-not-recovered-to-end
fi
as_pg "$PGBIN/pg_ctl" -D "$R2" -m immediate -w stop >/dev/null 2>&1
echo "# backup: start $START, stop $STOP; consistent at ${CONS:-?} with backup_label, ${CONS2:-?} without"

# 2b. archive_command failing: the stop segment never reaches the archive;
# the wait is bounded and the snapshot says so.
psql_c "ALTER SYSTEM SET archive_command = 'false'; SELECT pg_reload_conf()" >/dev/null
expect_exit 1 archive-failing-exit-1 "${BK[@]}" --pg-archive-wait 2 "$D"
contains archive-failing-reason "$OUT" "was not archived within 2 s"
contains archive-failing-suspect "$OUT" "snapshot is suspect"
out_of_backup && ok archive-failing-not-left-in-backup-mode || not_ok archive-failing-not-left-in-backup-mode
psql_c "ALTER SYSTEM SET archive_command = 'cp %p $A/%f'; SELECT pg_reload_conf()" >/dev/null

# 2c. A backup that fails mid-run (its vault fills up) commits nothing and
# leaves the cluster out of backup mode.
if [ "$(id -u)" = 0 ] && mkdir -p "$T/small" && mount -t tmpfs -o size=3m none "$T/small" 2>/dev/null; then
	"$VG" init --layout single "$T/small/vault" >/dev/null
	expect_exit 2 failed-backup-exit-2 "$VG" backup --config "$T/vigil.conf" --vault "$T/small/vault" "$D"
	out_of_backup && ok failed-backup-not-left-in-backup-mode \
		|| not_ok failed-backup-not-left-in-backup-mode "$(in_backup)"
	umount "$T/small"
else
	ok "failed backup # skipped: cannot mount a small tmpfs here"
fi

# 3. archive_mode off: the WAL the copy needs is archived by nobody.
psql_c "ALTER SYSTEM SET archive_mode = off" >/dev/null
pg_stop "$D"
pg_start "$D" || not_ok restart
expect_exit 1 archive-off-exit-1 "${BK[@]}" "$D"
contains archive-off-reason "$OUT" "archive_mode is off: restoring this snapshot needs WAL from"
contains archive-off-suspect "$OUT" "snapshot is suspect"
out_of_backup && ok archive-off-not-left-in-backup-mode || not_ok archive-off-not-left-in-backup-mode

# 4. A server that cannot be reached: copied as it is, suspect.
expect_exit 1 unreachable-exit-1 "${BK[@]}" --pg-connstr "host=$PGW/nowhere" "$D"
contains unreachable-reason "$OUT" "could not be put in backup mode"
contains unreachable-says-how "$OUT" "--pg-connstr"
contains unreachable-suspect "$OUT" "snapshot is suspect"
SNAPS=$("$VG" snapshots --vault "$T/vault" 2>&1)
[ "$(echo "$SNAPS" | grep -c suspect)" = 3 ] && ok snapshots-verdicts || not_ok snapshots-verdicts "$SNAPS"

# 5. A tablespace outside the data directory: the backup does not follow
# pg_tblspc's symlink, so without its directory among the paths its tables
# are missing: said, and the snapshot is incomplete.
TS="$PGW/ts"
mkdir -p "$TS" && [ "$(id -u)" = 0 ] && chown postgres "$TS"
psql_c "CREATE TABLESPACE ts LOCATION '$TS'; CREATE TABLE t_ts TABLESPACE ts AS SELECT 1 AS x" >/dev/null ||
	not_ok tablespace-created
expect_exit 1 tablespace-missing-exit-1 "${BK[@]}" "$D"
contains tablespace-missing-named "$OUT" "outside the paths backed up"
contains tablespace-missing-says-how "$OUT" "add '$TS' to the backup's paths"
contains tablespace-missing-incomplete "$OUT" "snapshot is incomplete"
"${BK[@]}" "$D" "$TS" >"$T/ts.out" 2>&1
case "$(cat "$T/ts.out")" in *"outside the paths"*) not_ok tablespace-covered "$(cat "$T/ts.out")" ;;
	*) ok tablespace-covered-by-its-path ;; esac
pg_stop "$D"
done_testing
