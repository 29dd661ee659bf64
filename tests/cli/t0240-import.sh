#!/usr/bin/env bash
# `vigil import`: a vault whose devices moved (the directory holding them
# renamed, each disk mounted somewhere else) is taken back by naming where
# they are now; their labels then record the new places, so any one of
# them opens the vault again.  A device of another vault, or a directory
# that is no device, is not taken.
. "$(dirname "$0")/lib.sh"
src=$T/src
mkdir -p "$src" "$T/old" "$T/m1" "$T/m2" "$T/m3"
for i in 1 2 3; do head -c 300000 /dev/urandom > "$src/f$i"; done
check "init" "$VG" init --layout raidz1 "$T/old/d1" "$T/old/d2" "$T/old/d3"
check "backup" "$VG" backup --vault "$T/old/d1" "$src"
mv "$T/old" "$T/new"
expect_exit 2 "moved: the vault cannot be opened" "$VG" status --vault "$T/new/d1"
contains "the message says to import" "$OUT" "vigil import"
expect_exit 0 "import naming the new places" "$VG" import "$T/new/d1" "$T/new/d2" "$T/new/d3"
contains "import says how many paths changed" "$OUT" "3 device paths updated"
expect_exit 0 "then any one device opens it" "$VG" status --vault "$T/new/d3"
contains "ONLINE" "$OUT" "ONLINE"
contains "status shows the new paths" "$OUT" "$T/new/d2"
check "restore" "$VG" restore --vault "$T/new/d2" latest "$T/r"
cmp -s "$src/f2" "$T/r/src/f2" && ok "restored identical" || not_ok "restored identical"

# disks mounted elsewhere, one named wrongly (another vault's device)
check "init another vault" "$VG" init --layout raidz1 "$T/o1" "$T/o2" "$T/o3"
mv "$T/new/d1" "$T/m1/vault"; mv "$T/new/d2" "$T/m2/vault"; mv "$T/new/d3" "$T/m3/vault"
expect_exit 1 "import with a wrong device: degraded, says what is missing" \
	"$VG" import --json "$T/m1/vault" "$T/m2/vault" "$T/o3"
contains "json: one missing" "$OUT" '"missing": 1'
expect_exit 0 "import with all three" "$VG" import "$T/m1/vault" "$T/m2/vault" "$T/m3/vault"
expect_exit 0 "status after the second move" "$VG" status --vault "$T/m2/vault"
contains "ONLINE again" "$OUT" "ONLINE"
expect_exit 0 "the other vault is untouched" "$VG" status --vault "$T/o1"
expect_exit 66 "a directory that is no device" "$VG" import "$T/src"
done_testing
