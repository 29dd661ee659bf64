#!/usr/bin/env bash
# Bad input and problems get one clear message and the documented exit
# status: unreadable files (incomplete snapshot, exit 1), a missing path
# (nothing committed, 66), snapshot ids that match nothing or too much,
# init mistakes, and usage errors.
. "$(dirname "$0")/lib.sh"

v=$T/vault
check "init" "$VG" init --layout single "$v"
mkdir -p "$T/src/locked"
echo fine > "$T/src/fine"
echo secret > "$T/src/secret"
echo x > "$T/src/locked/inside"

# --- unreadable files: listed, snapshot incomplete, exit 1 ---
chmod 000 "$T/src/secret" "$T/src/locked"
as_user=()
if [ "$(id -u)" = 0 ]; then # root reads anything: back up as nobody
	chmod 755 "$T" && chown -R 65534:65534 "$T/src" "$v"
	as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi
expect_exit 1 "unreadable: exit 1" "${as_user[@]}" "$VG" backup --vault "$v" "$T/src"
contains "unreadable: the file is named" "$OUT" "$T/src/secret"
contains "unreadable: the directory is named" "$OUT" "$T/src/locked"
contains "unreadable: says incomplete" "$OUT" "incomplete"
id=$(echo "$OUT" | tail -1)
[[ "$id" =~ ^[0-9a-f]{64}$ ]] && ok "unreadable: the snapshot is still saved" || not_ok "unreadable: the snapshot is still saved" "$OUT"
contains "unreadable: snapshots shows the verdict" "$("$VG" snapshots --vault "$v")" "incomplete"
chmod 755 "$T/src/locked"; chmod 644 "$T/src/secret"
[ "$(id -u)" = 0 ] && chown -R 0:0 "$T/src" "$v"

# --- a missing path: nothing committed ---
expect_exit 66 "missing path: exit 66" "$VG" backup --vault "$v" "$T/src" "$T/nope"
contains "missing path: named" "$OUT" "$T/nope"
contains "missing path: nothing committed" "$OUT" "nothing was committed"
n=$("$VG" snapshots --json --vault "$v" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$n" = 1 ] && ok "missing path: no snapshot added" || not_ok "missing path: no snapshot added" "$n snapshots"
expect_exit 65 "overlapping paths: exit 65" "$VG" backup --vault "$v" "$T/src" "$T/src/locked"
contains "overlapping paths: explained" "$OUT" "inside"

# --- snapshot ids ---
for i in 1 2 3 4 5 6 7 8; do "$VG" backup --vault "$v" --tag "t$i" "$T/src" >/dev/null; done
expect_exit 66 "unknown snapshot: exit 66" "$VG" restore --vault "$v" 0000000000 "$T/r"
contains "unknown snapshot: named" "$OUT" "0000000000"
# two ids sharing a first digit: by pigeonhole, at most 17 snapshots
for i in $(seq 9 17); do
	ids=$("$VG" snapshots --json --vault "$v" | python3 -c 'import json,sys; print("\n".join(s["id"] for s in json.load(sys.stdin)))')
	pre=$(echo "$ids" | cut -c1 | sort | uniq -d | head -1)
	[ -n "$pre" ] && break
	"$VG" backup --vault "$v" --tag "t$i" "$T/src" >/dev/null
done
if [ -n "$pre" ]; then
	expect_exit 65 "ambiguous prefix: exit 65" "$VG" restore --vault "$v" "$pre" "$T/r"
	contains "ambiguous prefix: says so" "$OUT" "ambiguous"
	contains "ambiguous prefix: names a candidate" "$OUT" "$(echo "$ids" | grep "^$pre" | head -1 | cut -c1-16)"
else
	not_ok "ambiguous prefix: 17 ids share no first digit (impossible)"
fi
expect_exit 65 "not an id: exit 65" "$VG" restore --vault "$v" "not-hex" "$T/r"
expect_exit 66 "path not in snapshot: exit 66" "$VG" restore --vault "$v" "latest:src/nothing" "$T/r"
expect_exit 66 "target parent missing: exit 66" "$VG" restore --vault "$v" latest "$T/no/such/target"
contains "target parent missing: explained" "$OUT" "parent must exist"
[ ! -e "$T/r" ] && ok "failed restores create nothing" || not_ok "failed restores create nothing"

# --- init mistakes ---
expect_exit 64 "init: unknown layout" "$VG" init --layout raid5 "$T/x1"
contains "init: unknown layout is named" "$OUT" "raid5"
expect_exit 64 "init: too few devices for mirror" "$VG" init --layout mirror "$T/x1"
expect_exit 64 "init: no layout" "$VG" init "$T/x1"
expect_exit 64 "init: unknown encryption" "$VG" init --layout single --encryption rot13 "$T/x1"
expect_exit 66 "init: parent missing" "$VG" init --layout single "$T/no/such/dev"
contains "init: parent missing is explained" "$OUT" "must exist"
expect_exit 73 "init: already a vault" "$VG" init --layout single "$v"
[ ! -e "$T/x1" ] && ok "init: failures create nothing" || not_ok "init: failures create nothing"

# --- usage ---
unset VIGIL_VAULT
expect_exit 64 "backup: no vault" "$VG" backup "$T/src"
expect_exit 64 "backup: no path" "$VG" backup --vault "$v"
expect_exit 64 "restore: missing target" "$VG" restore --vault "$v" latest
expect_exit 64 "snapshots: stray argument" "$VG" snapshots --vault "$v" extra
expect_exit 66 "snapshots: not a vault" "$VG" snapshots --vault "$T/src"
[ "$(echo "$OUT" | wc -l)" = 1 ] && ok "not a vault: one line" || not_ok "not a vault: one line" "$OUT"
done_testing
