#!/usr/bin/env bash
# The round trip, from every layout: a tree with nested dirs, empty files,
# a 50 MB file, 5,000 small files, symlinks and odd names (spaces,
# newlines, non-UTF-8 bytes), odd modes and ns mtimes is backed up and
# restored identical (content, mode, mtime ns, link targets; compared with
# a reference walk).  Plus: the last line of backup is the id, a second
# backup stores nothing new, prefixes and `latest`, SNAP:PATH, --json,
# VIGIL_VAULT, relative device paths stored absolute.
. "$(dirname "$0")/lib.sh"
walk() { python3 "$ROOT/tests/cli/treewalk.py" "$1"; }

src=$T/src
python3 "$ROOT/tests/cli/treewalk.py" --make "$src" || { not_ok "make sample tree"; exit 1; }
walk "$src" > "$T/want"
errs=$T/errs
: > "$errs"

for spec in "single 1" "mirror 2" "raidz1 3" "raidz2 4" "raidz3 5"; do
	set -- $spec
	layout=$1
	devs=()
	for i in $(seq 1 "$2"); do devs+=("$T/$layout/dev$i"); done
	mkdir -p "$T/$layout"
	check "$layout: init" "$VG" init --layout "$layout" "${devs[@]}"
	out=$("$VG" backup --vault "${devs[0]}" "$src" 2>>"$errs"); rc=$?
	id=$(echo "$out" | tail -1)
	[ "$rc" = 0 ] && [[ "$id" =~ ^[0-9a-f]{64}$ ]] && ok "$layout: backup prints the id last" \
		|| not_ok "$layout: backup prints the id last" "exit $rc: $out"
	"$VG" restore --vault "${devs[$(( $2 - 1 ))]}" "${id:0:10}" "$T/$layout/out" >/dev/null 2>>"$errs"
	walk "$T/$layout/out/src" > "$T/got"
	if cmp -s "$T/want" "$T/got"; then ok "$layout: restore identical"; else
		not_ok "$layout: restore identical" "$(diff "$T/want" "$T/got" | head -5)"; fi
done

v=$T/raidz1/dev1
out=$("$VG" backup --vault "$v" "$src" 2>>"$errs")
contains "second backup stores nothing new" "$out" "added to the vault: 0 B new"
second=$(echo "$out" | tail -1)

json=$("$VG" snapshots --json --vault "$v")
n=$(echo "$json" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$n" = 2 ] && ok "snapshots --json lists both" || not_ok "snapshots --json lists both" "$json"
contains "snapshots --json has the verdict" "$json" '"verdict": "ok"'
contains "snapshots names the source path" "$("$VG" snapshots --vault "$v")" "$src"

export VIGIL_VAULT=$v
rm -rf "$T/latest"
check "restore latest via VIGIL_VAULT" "$VG" restore latest "$T/latest"
[ -f "$T/latest/src/big.bin" ] && ok "VIGIL_VAULT names the vault" || not_ok "VIGIL_VAULT names the vault"
check "restore again over the same target" "$VG" restore latest "$T/latest"
walk "$T/latest/src" > "$T/got"
cmp -s "$T/want" "$T/got" && ok "restore over an existing restore is identical" || not_ok "restore over an existing restore is identical"

walk "$src/nested/a" > "$T/want-sub"
check "restore SNAP:PATH" "$VG" restore "$second:src/nested/a" "$T/sub"
walk "$T/sub" | grep -v "^b'' " > "$T/got-sub"
grep -v "^b'' " "$T/want-sub" > "$T/want-sub2"
cmp -s "$T/want-sub2" "$T/got-sub" && ok "SNAP:PATH restores that directory's contents" \
	|| not_ok "SNAP:PATH restores that directory's contents" "$(diff "$T/want-sub2" "$T/got-sub" | head -3)"
check "restore SNAP:/absolute/source/file" "$VG" restore "latest:$src/nested/a/text.txt" "$T/one"
cmp -s "$src/nested/a/text.txt" "$T/one/text.txt" && ok "absolute source path restores the file" \
	|| not_ok "absolute source path restores the file"

rj=$("$VG" restore --json latest "$T/json-out" 2>>"$errs")
echo "$rj" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["files"] == 5012 and d["errors"] == [], d' \
	&& ok "restore --json counts the files" || not_ok "restore --json counts the files" "$rj"
bj=$("$VG" backup --json --tag nightly --host box "$src" 2>>"$errs")
echo "$bj" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d["snapshot"]) == 64 and d["verdict"] == "ok", d' \
	&& ok "backup --json gives the snapshot" || not_ok "backup --json gives the snapshot" "$bj"
contains "host and tag are recorded" "$("$VG" snapshots)" "box"
unset VIGIL_VAULT

# relative device paths are stored absolute: any member names the vault from anywhere
mkdir -p "$T/rel"
(cd "$T/rel" && "$VG" init --layout mirror a b >/dev/null) && ok "init with relative paths" || not_ok "init with relative paths"
(cd / && "$VG" backup --vault "$T/rel/b" "$src/nested" >/dev/null 2>>"$errs") && ok "backup through the other member" \
	|| not_ok "backup through the other member"
contains "members are recorded absolute" "$("$VG" status --vault "$T/rel/b")" "$T/rel/a"

[ -s "$errs" ] && not_ok "quiet stderr when not a terminal" "$(head -3 "$errs")" || ok "quiet stderr when not a terminal"
done_testing
