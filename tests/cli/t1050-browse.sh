#!/usr/bin/env bash
# Browsing: ls of a whole snapshot and of a sub-path (names, owners,
# symlink targets, --json), diff between two snapshots (added, removed,
# modified; equal subtrees skipped), and the errors of both.
. "$(dirname "$0")/lib.sh"

src=$T/src
mkdir -p "$src/a/b" "$src/same"
echo one > "$src/a/one"; echo two > "$src/a/b/two"; echo s > "$src/same/s"
ln -s a/one "$src/link"
check "init" "$VG" init --layout single "$T/v"
s1=$("$VG" backup --vault "$T/v" "$src" | tail -1)
echo changed > "$src/a/one"; rm "$src/a/b/two"; echo new > "$src/a/new"
s2=$("$VG" backup --vault "$T/v" "$src" | tail -1)

check "ls" "$VG" ls --vault "$T/v" "$s1"
contains "ls shows a nested file" "$out" "src/a/b/two"
contains "ls shows the symlink target" "$out" "src/link -> a/one"
contains "ls shows the owner name" "$out" "$(id -un)"
[ "$(echo "$out" | wc -l)" = 8 ] && ok "ls lists every entry once" || not_ok "ls lists every entry once" "$out"
check "ls SNAP:PATH" "$VG" ls --vault "$T/v" "$s1:src/a/b"
[ "$out" != "${out/src\/a\/b\/two/}" ] && [ "$(echo "$out" | wc -l)" = 1 ] && ok "ls of a sub-path lists only it" \
	|| not_ok "ls of a sub-path lists only it" "$out"
n=$("$VG" ls --json --vault "$T/v" latest | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$n" = 8 ] && ok "ls --json" || not_ok "ls --json" "$n"
expect_exit 66 "ls of a missing path" "$VG" ls --vault "$T/v" "latest:src/nope"

check "diff" "$VG" diff --vault "$T/v" "$s1" "$s2"
contains "diff: added" "$out" "+ src/a/new"
contains "diff: removed" "$out" "- src/a/b/two"
contains "diff: modified" "$out" "M src/a/one"
contains "diff: summary" "$out" "1 added, 1 removed, 1 modified"
case "$out" in *same*) not_ok "diff: unchanged parts not listed" "$out" ;; *) ok "diff: unchanged parts not listed" ;; esac
j=$("$VG" diff --json --vault "$T/v" "$s1" "$s2" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["added"], d["removed"], d["modified"])')
[ "$j" = "1 1 1" ] && ok "diff --json" || not_ok "diff --json" "$j"
check "diff of a snapshot with itself" "$VG" diff --vault "$T/v" "$s1" "$s1"
contains "diff with itself: nothing" "$out" "0 added, 0 removed, 0 modified"
expect_exit 64 "diff needs two snapshots" "$VG" diff --vault "$T/v" "$s1"
done_testing
