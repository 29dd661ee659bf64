#!/usr/bin/env bash
# t41_pg_online.sh - `vigil pg-verify` on a RUNNING PostgreSQL cluster.
#  1. While pgbench writes, repeated verifications report no corruption.
#  2. The LSN rule on real pages: with a tiny shared_buffers, an UPDATE
#     after a checkpoint makes the server write pages whose LSN is newer
#     than the checkpoint's REDO point.  A damaged copy of such a page on
#     disk is what a torn write looks like: WAL replay rewrites it from its
#     full-page image, so it is "in flight", not corruption.  The same
#     damage in a page untouched since before the checkpoint is corruption.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/t4_pg_lib.bash"

D="$PGW/data"
pg_init "$D" --data-checksums || not_ok initdb "$(tail -3 "$PGW/initdb.log")"
pg_start "$D" -c shared_buffers=1MB -c checkpoint_timeout=30min -c max_wal_size=2GB || not_ok start
pgbench -i -q -s 4 >/dev/null 2>&1 || not_ok pgbench-init

# 1. Verification while pgbench writes.
pgbench -c 4 -j 2 -T 6 -n >"$PGW/pgbench.log" 2>&1 &
bench=$!
runs=0 bad_runs=0 inflight=0 reread=0
while kill -0 "$bench" 2>/dev/null; do
	"$VG" pg-verify --json "$D" >"$T/run.json" 2>"$T/run.err"
	rc=$?
	runs=$((runs + 1))
	if [ "$rc" != 0 ] || [ "$(json_get "$T/run.json" mode)" != online ]; then
		bad_runs=$((bad_runs + 1))
		cp "$T/run.json" "$T/failed.json"
		cp "$T/run.err" "$T/failed.err"
	fi
	inflight=$((inflight + $(json_get "$T/run.json" inflight_pages)))
	reread=$((reread + $(json_get "$T/run.json" reread_ok)))
done
wait "$bench" && ok pgbench-ran || not_ok pgbench-ran "$(tail -3 "$PGW/pgbench.log")"
echo "# $runs verifications during pgbench; pages in flight: $inflight, passed on re-read: $reread"
[ "$runs" -ge 2 ] && ok verified-repeatedly || not_ok verified-repeatedly "only $runs runs"
[ "$bad_runs" = 0 ] && ok no-false-corruption-under-load ||
	not_ok no-false-corruption-under-load "$bad_runs of $runs runs failed: $(cat "$T/failed.err"; tail -30 "$T/failed.json")"
contains tps-reported "$(cat "$PGW/pgbench.log")" "tps ="

# 1b. A backup of the running cluster while pgbench writes verifies every
# page it copies and reports no corrupt page (files changing under it are
# reported as such: a copy of a live cluster needs its WAL to be consistent).
"$VG" init --layout single "$T/vault" >/dev/null
pgbench -c 4 -j 2 -T 4 -n >"$PGW/pgbench2.log" 2>&1 &
bench=$!
sleep 0.5
"$VG" backup --vault "$T/vault" "$D" >"$T/backup.out" 2>&1
brc=$?
wait "$bench"
{ [ "$brc" = 0 ] || [ "$brc" = 1 ]; } && ok backup-under-load-completes || not_ok backup-under-load-completes "exit $brc: $(tail -3 "$T/backup.out")"
if grep -q "corrupt page" "$T/backup.out"; then
	not_ok backup-under-load-no-false-corruption "$(grep 'corrupt page' "$T/backup.out" | head -3)"
else
	ok backup-under-load-no-false-corruption
fi

# 2. The LSN rule on real pages.
psql_c "CREATE TABLE t_hot AS SELECT g, 0 AS x, md5(g::text) AS pad FROM generate_series(1, 40000) g;
	CREATE TABLE t_cold AS SELECT g, md5(g::text) AS pad FROM generate_series(1, 20000) g;
	CHECKPOINT;
	UPDATE t_hot SET x = 1;" >/dev/null || not_ok lsn-setup
HOT=$(psql_c "SELECT pg_relation_filepath('t_hot')")
COLD=$(psql_c "SELECT pg_relation_filepath('t_cold')")
"$VG" pg-verify --json "$D" >"$T/before.json"
contains clean-before-damage "$(json_get "$T/before.json" status)" OK
REDO=$(json_get "$T/before.json" start_lsn)
# Damage the first on-disk page of t_hot newer than REDO, and block 3 of t_cold.
HOTBLK=$(py "$D/$HOT" "$REDO" "$D/$COLD" <<'EOF'
import struct, sys
hi, lo = sys.argv[2].split("/")
redo = int(hi, 16) << 32 | int(lo, 16)
def lsn(data, b):
    x, y = struct.unpack_from("<II", data, 8192 * b)
    return x << 32 | y
hot = open(sys.argv[1], "rb").read()
cold = open(sys.argv[3], "rb").read(8192 * 4)
newer = [b for b in range(len(hot) // 8192) if lsn(hot, b) >= redo]
if newer and lsn(cold, 3) < redo:
    print(newer[0])
EOF
)
[ -n "$HOTBLK" ] && ok server-wrote-pages-newer-than-redo || not_ok server-wrote-pages-newer-than-redo "REDO $REDO"
flip() { py "$1" "$2" <<'EOF'
import sys
f = open(sys.argv[1], "r+b"); off = int(sys.argv[2])
f.seek(off); b = f.read(1); f.seek(off); f.write(bytes([b[0] ^ 0x20])); f.close()
EOF
}
flip "$D/$HOT" $((8192 * ${HOTBLK:-0} + 7000))
flip "$D/$COLD" $((8192 * 3 + 7000))
expect_exit 2 old-page-damage-is-corruption "$VG" pg-verify --json "$D"
echo "$OUT" >"$T/after.json"
py "$T/after.json" "$COLD" "$HOT" <<'EOF' && ok only-the-old-page-is-corrupt || not_ok only-the-old-page-is-corrupt "$(tail -25 "$T/after.json")"
import json, sys
r = json.load(open(sys.argv[1]))
bad = [(p["file"], p["block"]) for p in r["problems"]]
assert bad == [(sys.argv[2], 3)], bad
assert r["inflight_pages"] >= 1, r["inflight_pages"]
EOF
# The server never reads the damaged pages again: stop without a checkpoint.
as_pg "$PGBIN/pg_ctl" -D "$D" -m immediate -w stop >/dev/null 2>&1
_pg_running=""
done_testing
