# t4_pg_lib.bash - helpers for the PostgreSQL tests (sourced after lib.sh).
#
# Runs a real PostgreSQL from the Debian packages (scripts/install-deps.sh).
# PostgreSQL refuses to run as root: as root, the server tools run as the
# `postgres` user in a directory under $T that user owns.  No TCP: the
# server listens on a Unix socket in $PGSOCK only.

pg_find_bindir() {
	local d
	if command -v pg_config >/dev/null 2>&1; then
		d=$(pg_config --bindir 2>/dev/null)
		[ -x "$d/initdb" ] && { echo "$d"; return 0; }
	fi
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		[ -x "$d/initdb" ] && { echo "$d"; return 0; }
	done
	return 1
}

PGBIN=$(pg_find_bindir) || {
	not_ok setup "PostgreSQL server binaries not found (initdb); run scripts/install-deps.sh"
	done_testing
	exit 1
}
PGW="$T/pg"           # everything the server writes
PGSOCK="$PGW"         # Unix socket directory
mkdir -p "$PGW"
chmod 755 "$T"
if [ "$(id -u)" = 0 ]; then
	chown postgres "$PGW"
	as_pg() { runuser -u postgres -- "$@"; }
else
	as_pg() { "$@"; }
fi
_pg_running=""
pg_cleanup() {
	local d
	for d in $_pg_running; do
		as_pg "$PGBIN/pg_ctl" -D "$d" -m immediate -w stop >/dev/null 2>&1
	done
}
trap 'pg_cleanup; rm -rf "$T"' EXIT

# pg_own FILE: give a file made by the test to the server's user
pg_own() {
	chmod 600 "$1"
	[ "$(id -u)" = 0 ] && chown postgres "$1"
	return 0
}

# pg_init DATADIR [initdb options...]
pg_init() {
	local d=$1; shift
	as_pg "$PGBIN/initdb" -D "$d" -A trust -U postgres "$@" >"$PGW/initdb.log" 2>&1
}
# pg_start DATADIR [postgres -c options...]
pg_start() {
	local d=$1; shift
	as_pg "$PGBIN/pg_ctl" -D "$d" -l "$PGW/server.log" -w \
		-o "-k $PGSOCK -c listen_addresses='' -c fsync=off $*" start >/dev/null 2>&1 || {
		tail -5 "$PGW/server.log" >&2
		return 1
	}
	_pg_running="$_pg_running $d"
}
pg_stop() {
	as_pg "$PGBIN/pg_ctl" -D "$1" -m fast -w stop >/dev/null 2>&1
	_pg_running=$(echo "$_pg_running" | sed "s# $1##")
}
# psql_c SQL: statements (each in its own transaction), unaligned tuples-only output
psql_c() { echo "$1" | as_pg "$PGBIN/psql" -X -q -At -h "$PGSOCK" -U postgres -d postgres -v ON_ERROR_STOP=1 -f -; }
pgbench() { as_pg "$PGBIN/pgbench" -h "$PGSOCK" -U postgres "$@" postgres; }

# py SCRIPT ARGS...: a python3 helper (checksums, JSON comparisons)
py() { python3 - "$@"; }

# pg_checksums_bad DATADIR: pg_checksums --check's bad blocks as sorted
# "relpath block calculated stored" lines (hex checksums, upper case).
pg_checksums_bad() {
	as_pg "$PGBIN/pg_checksums" --check -D "$1" 2>&1 |
		sed -n 's#.*in file "'"$1"'/\([^"]*\)", block \([0-9]*\): calculated checksum \([0-9A-F]*\) but block contains \([0-9A-F]*\)#\1 \2 \3 \4#p' |
		sort
}
# vigil_bad JSONFILE: the same lines from `vigil pg-verify --json`
vigil_bad() {
	py "$1" <<'EOF' | sort
import json, sys
for p in json.load(open(sys.argv[1]))["problems"]:
    if p["problem"] == "checksum mismatch":
        print(p["file"], p["block"], "%X" % p["expected_checksum"], "%X" % p["found_checksum"])
EOF
}
# json_get JSONFILE KEY
json_get() { py "$1" "$2" <<'EOF'
import json, sys
print(json.load(open(sys.argv[1]))[sys.argv[2]])
EOF
}
