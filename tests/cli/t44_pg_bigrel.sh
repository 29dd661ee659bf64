#!/usr/bin/env bash
# t44_pg_bigrel.sh - a relation PostgreSQL itself spread over two 1 GiB
# segments (pgbench scale 85: pgbench_accounts is about 1.1 GB), verified
# against pg_checksums.  Slow (about 20 s and 2.5 GB of disk): runs only
# with VIGIL_SLOW_TESTS=1.  The fast suite covers segment numbering with a
# synthetic segment (t40_pg_verify.sh).
. "$(dirname "$0")/lib.sh"
if [ "${VIGIL_SLOW_TESTS:-}" != 1 ]; then
	echo "# skipped: set VIGIL_SLOW_TESTS=1 to run"
	exit 0
fi
. "$(dirname "$0")/t4_pg_lib.bash"

D="$PGW/data"
pg_init "$D" --data-checksums || not_ok initdb "$(tail -3 "$PGW/initdb.log")"
pg_start "$D" -c max_wal_size=4GB || not_ok start
pgbench -i -q -s 85 >/dev/null 2>&1 || not_ok pgbench-init
HEAP=$(psql_c "SELECT pg_relation_filepath('pgbench_accounts')")
pg_stop "$D"
[ -f "$D/$HEAP.1" ] && ok relation-has-segment-1 || not_ok relation-has-segment-1 "$(ls -la "$D/$(dirname "$HEAP")" | tail -3)"

expect_exit 0 big-cluster-passes "$VG" pg-verify --json "$D"
echo "$OUT" >"$T/big.json"
PGC=$(as_pg "$PGBIN/pg_checksums" --check -D "$D" 2>&1)
contains same-blocks-scanned "$(json_get "$T/big.json" blocks_scanned)" "$(echo "$PGC" | sed -n 's/^Blocks scanned: *//p')"
# Damage block 5 of segment 1 (relation block 131077): both tools agree.
py "$D/$HEAP.1" <<'EOF'
import sys
f = open(sys.argv[1], "r+b"); f.seek(8192 * 5 + 7000); b = f.read(1); f.seek(8192 * 5 + 7000); f.write(bytes([b[0] ^ 1])); f.close()
EOF
expect_exit 2 segment-1-damage "$VG" pg-verify --json "$D"
echo "$OUT" >"$T/bad.json"
want=$(pg_checksums_bad "$D")
got=$(vigil_bad "$T/bad.json")
[ -n "$got" ] && [ "$got" = "$want" ] && ok same-as-pg_checksums || not_ok same-as-pg_checksums "vigil: $got / pg_checksums: $want"
py "$T/bad.json" <<'EOF' && ok relation-block-131077 || not_ok relation-block-131077
import json, sys
p = json.load(open(sys.argv[1]))["problems"]
assert len(p) == 1 and p[0]["segment"] == 1 and p[0]["block"] == 5 and p[0]["relation_block"] == 131077, p
EOF
done_testing
