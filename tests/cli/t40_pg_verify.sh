#!/usr/bin/env bash
# t40_pg_verify.sh - `vigil pg-verify` on a real, stopped PostgreSQL cluster
# with data checksums, compared with `pg_checksums --check`: the same files
# and blocks scanned, nothing bad; a relation segment ".1" (block numbers
# continue across segments); one corrupted table page and one corrupted
# index page reported exactly as pg_checksums reports them; a truncated
# file reported.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/t4_pg_lib.bash"

D="$PGW/data"
pg_init "$D" --data-checksums || not_ok initdb "$(tail -3 "$PGW/initdb.log")"
as_pg mkdir -p "$PGW/ts"
pg_start "$D" || not_ok start
pgbench -i -q -s 4 >/dev/null 2>&1 || not_ok pgbench-init
psql_c "CREATE TABLESPACE ts LOCATION '$PGW/ts'" >/dev/null || not_ok tablespace
psql_c "CREATE TABLE t_ts TABLESPACE ts AS SELECT g, md5(g::text) AS h FROM generate_series(1, 20000) g;
	CREATE INDEX t_ts_h ON t_ts(h) TABLESPACE ts;
	CREATE TABLE t_toast AS SELECT g, repeat(md5(g::text), 400) AS big FROM generate_series(1, 300) g;
	VACUUM;" >/dev/null || not_ok fill
HEAP=$(psql_c "SELECT pg_relation_filepath('pgbench_accounts')")
INDEX=$(psql_c "SELECT pg_relation_filepath('pgbench_accounts_pkey')")
TSREL=$(psql_c "SELECT pg_relation_filepath('t_ts')")
pg_stop "$D"

# 1. Agreement with pg_checksums on a clean cluster.
expect_exit 0 clean-cluster-passes "$VG" pg-verify --json "$D"
echo "$OUT" >"$T/clean.json"
contains clean-status "$(json_get "$T/clean.json" status)" OK
PGC=$(as_pg "$PGBIN/pg_checksums" --check -D "$D" 2>&1)
contains pg_checksums-clean "$PGC" "Bad checksums:  0"
files=$(echo "$PGC" | sed -n 's/^Files scanned: *//p')
blocks=$(echo "$PGC" | sed -n 's/^Blocks scanned: *//p')
contains same-files-scanned "$(json_get "$T/clean.json" files_scanned)" "$files"
contains same-blocks-scanned "$(json_get "$T/clean.json" blocks_scanned)" "$blocks"
contains zero-bad "$(json_get "$T/clean.json" bad_blocks)" 0
contains tablespace-under-pg_tblspc "$TSREL" "pg_tblspc/"
[ "$blocks" -gt 1000 ] && ok enough-blocks || not_ok enough-blocks "only $blocks blocks"
expect_exit 0 human-output "$VG" pg-verify "$D"
contains human-says-enabled "$OUT" "data checksums: enabled"
contains human-counts "$OUT" "files scanned: $files, blocks scanned: $blocks"

# 2. A second relation segment.  RELSEG_SIZE is compiled in (1 GiB), and a
# real 1 GiB relation would cost the suite seconds and memory, so segment 1
# of pgbench_accounts is made from 8 of its real pages, with the checksums
# PostgreSQL would write at blocks 131072..131079.  pg_checksums is the
# judge that the numbering is right; copying the pages without re-stamping
# them is the control (their checksums are for blocks 0..7).
SEG1="$D/$HEAP.1"
py "$D/$HEAP" "$SEG1" 8 131072 <<'EOF'
import struct, sys
OFF = [0x5B1F36E9, 0xB8525960, 0x02AB50AA, 0x1DE66D2A, 0x79FF467A, 0x9BB9F8A3, 0x217E7CD2,
       0x83E13D2C, 0xF8D4474F, 0xE39EB970, 0x42C6AE16, 0x993216FA, 0x7B093B5D, 0x98DAFF3C,
       0xF718902A, 0x0B1C9CDB, 0xE58F764B, 0x187636BC, 0x5D7B3BB1, 0xE73DE7DE, 0x92BEC979,
       0xCCA6C0B2, 0x304A0979, 0x85AA43D4, 0x783125BB, 0x6CA8EAA2, 0xE407EAC6, 0x4B5CFC3E,
       0x9FBF8C76, 0x15CA20BE, 0xF2CA9FD3, 0x959BD756]
def checksum(page, blkno):
    w = list(struct.unpack("<2048I", page))
    w[2] &= 0xFFFF0000
    s = OFF[:]
    for row in range(0, 2048 + 64, 32):
        for j in range(32):
            t = s[j] ^ (w[row + j] if row < 2048 else 0)
            s[j] = ((t * 16777619) & 0xFFFFFFFF) ^ (t >> 17)
    r = 0
    for x in s:
        r ^= x
    return (r ^ blkno) % 65535 + 1
src, dst, n, base = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
data = open(src, "rb").read(8192 * n)
out = bytearray()
for i in range(n):
    p = bytearray(data[8192 * i: 8192 * (i + 1)])
    struct.pack_into("<H", p, 8, checksum(bytes(p), base + i))
    out += p
open(dst, "wb").write(out)
EOF
pg_own "$SEG1"
expect_exit 0 segment-1-passes "$VG" pg-verify --json "$D"
echo "$OUT" >"$T/seg.json"
PGC=$(as_pg "$PGBIN/pg_checksums" --check -D "$D" 2>&1)
contains pg_checksums-agrees-on-segment-1 "$PGC" "Bad checksums:  0"
contains segment-1-counted "$(json_get "$T/seg.json" blocks_scanned)" "$((blocks + 8))"
contains segment-1-file-counted "$(json_get "$T/seg.json" files_scanned)" "$((files + 1))"
dd if="$D/$HEAP" of="$SEG1" bs=8192 count=8 2>/dev/null
"$VG" pg-verify --json "$D" >"$T/seg-raw.json"
want=$(pg_checksums_bad "$D")
got=$(vigil_bad "$T/seg-raw.json")
[ "$(echo "$want" | wc -l)" = 8 ] && ok control-pg_checksums-sees-8 || not_ok control-pg_checksums-sees-8 "$want"
[ -n "$got" ] && [ "$got" = "$want" ] && ok control-same-8-blocks || not_ok control-same-8-blocks "vigil: $got / pg_checksums: $want"
contains control-in-file-block-numbers "$got" "$HEAP.1 7 "
rm -f "$SEG1"

# 3. One byte of one table page and one index page changed on disk.
cp "$D/$HEAP" "$T/heap.orig"
cp "$D/$INDEX" "$T/index.orig"
flip() { py "$1" "$2" <<'EOF'
import sys
f = open(sys.argv[1], "r+b"); off = int(sys.argv[2])
f.seek(off); b = f.read(1); f.seek(off); f.write(bytes([b[0] ^ 0x20])); f.close()
EOF
}
flip "$D/$HEAP" $((8192 * 37 + 6000))
flip "$D/$INDEX" $((8192 * 11 + 7000))
expect_exit 2 corruption-exit-2 "$VG" pg-verify --json "$D"
echo "$OUT" >"$T/bad.json"
want=$(pg_checksums_bad "$D")
got=$(vigil_bad "$T/bad.json")
contains corrupt-status "$(json_get "$T/bad.json" status)" CORRUPT
contains two-bad-blocks "$(json_get "$T/bad.json" bad_blocks)" 2
contains heap-block-37 "$got" "$HEAP 37 "
contains index-block-11 "$got" "$INDEX 11 "
[ "$(echo "$want" | wc -l)" = 2 ] && [ "$got" = "$want" ] && ok same-as-pg_checksums ||
	not_ok same-as-pg_checksums "vigil: $got / pg_checksums: $want"
expect_exit 2 corruption-human "$VG" pg-verify "$D"
contains human-names-block "$OUT" "$HEAP: block 37 (main fork, relation block 37): checksum mismatch: calculated checksum"
contains human-status "$OUT" "status: CORRUPT"
# the backup of that directory verifies the same pages as it reads them:
# the snapshot is suspect and names both blocks (the tablespace's own
# directory is backed up too: without it the snapshot would be incomplete)
"$VG" init --layout single "$T/vault" >/dev/null
expect_exit 1 backup-of-corrupt-cluster-exit-1 "$VG" backup --vault "$T/vault" "$D" "$PGW/ts"
contains backup-names-heap-block "$OUT" "$HEAP: block 37"
contains backup-names-index-block "$OUT" "$INDEX: block 11"
v=$("$VG" snapshots --json --vault "$T/vault" | python3 -c 'import json,sys; s=json.load(sys.stdin)[-1]; print(s["verdict"])')
[ "$v" = suspect ] && ok backup-snapshot-suspect || not_ok backup-snapshot-suspect "$v"
# `vigil health PGDATA` includes the offline page check
expect_exit 2 health-of-corrupt-cluster-exit-2 "$VG" health --allow-uninspectable "$D"
contains health-names-block "$OUT" "$HEAP: block 37"
expect_exit 2 health-json-of-corrupt-cluster "$VG" health --json --allow-uninspectable "$D"
n=$(echo "$OUT" | python3 -c 'import json,sys; print(json.load(sys.stdin)["postgres"][0]["bad_blocks"])')
[ "$n" = 2 ] && ok health-json-has-postgres || not_ok health-json-has-postgres "$n"
# a page of the tablespace, backed up as a path of its own, is checked too
cp "$D/$TSREL" "$T/ts.orig"
flip "$D/$TSREL" $((8192 * 2 + 5000))
expect_exit 1 backup-checks-tablespace-pages "$VG" backup --vault "$T/vault" "$D" "$PGW/ts"
contains backup-names-tablespace-block "$OUT" "$TSREL: block 2"
cp "$T/ts.orig" "$D/$TSREL"

# 4. A relation file cut to a size that is not a multiple of the page size.
cp "$T/heap.orig" "$D/$HEAP"
cp "$T/index.orig" "$D/$INDEX"
size=$(stat -c %s "$D/$HEAP")
truncate -s $((size - 8192 - 100)) "$D/$HEAP"
expect_exit 2 truncated-file-reported "$VG" pg-verify --json "$D"
echo "$OUT" >"$T/trunc.json"
py "$T/trunc.json" "$HEAP" $((size - 8192 - 100)) <<'EOF' && ok partial-page-finding || not_ok partial-page-finding "$(cat "$T/trunc.json" | tail -20)"
import json, sys
r = json.load(open(sys.argv[1]))
p = [x for x in r["problems"] if x["problem"] == "partial page"]
assert len(p) == 1 and p[0]["file"] == sys.argv[2] and p[0]["size"] == int(sys.argv[3]), p
assert r["partial_files"] == 1 and r["bad_blocks"] == 0
EOF
expect_exit 2 truncated-human "$VG" pg-verify "$D"
contains truncated-human-says "$OUT" "is not a multiple of the page size 8192; its last 8092 bytes are a partial page"
cp "$T/heap.orig" "$D/$HEAP"

# 5. Misuse.
expect_exit 66 not-a-data-directory "$VG" pg-verify "$T"
contains not-a-data-directory-says "$OUT" "is not a PostgreSQL data directory"
expect_exit 64 no-argument "$VG" pg-verify
done_testing
