#!/usr/bin/env bash
# t42_pg_nochecksums.sh - a real cluster created without data checksums
# gets a loud warning saying how to enable them (exit 1), never a pass;
# the page header check still catches a wrecked header (exit 2).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/t4_pg_lib.bash"

D="$PGW/data"
pg_init "$D" --no-data-checksums 2>/dev/null || pg_init "$D" || not_ok initdb "$(tail -3 "$PGW/initdb.log")"
pg_start "$D" || not_ok start
psql_c "CREATE TABLE t AS SELECT g FROM generate_series(1, 50000) g" >/dev/null || not_ok fill
REL=$(psql_c "SELECT pg_relation_filepath('t')")
pg_stop "$D"

expect_exit 1 warning-not-pass "$VG" pg-verify "$D"
contains says-disabled "$OUT" "data checksums are DISABLED"
contains says-cannot-detect "$OUT" "corruption of table and index pages cannot be detected"
contains says-pg_checksums-enable "$OUT" "pg_checksums --enable -D $D"
contains says-initdb-k "$OUT" "initdb --data-checksums"
contains status-warning "$OUT" "status: WARNING"
expect_exit 1 json-warning "$VG" pg-verify --json "$D"
echo "$OUT" >"$T/w.json"
contains json-status "$(json_get "$T/w.json" status)" WARNING
contains json-data-checksums-false "$(json_get "$T/w.json" data_checksums)" False
contains json-warning-text "$(json_get "$T/w.json" warning)" "pg_checksums --enable"

# pd_upper (offset 14) beyond the page: the server would refuse this page.
py "$D/$REL" <<'EOF'
import struct, sys
f = open(sys.argv[1], "r+b"); f.seek(8192 * 5 + 14); f.write(struct.pack("<H", 0xFFF0)); f.close()
EOF
expect_exit 2 broken-header-found-without-checksums "$VG" pg-verify "$D"
contains names-the-page "$OUT" "$REL: block 5 (main fork, relation block 5): invalid page header"
done_testing
