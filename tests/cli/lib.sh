# lib.sh - helpers for CLI test scripts (sourced by tests/cli/t*.sh).
#
# Each script runs checks with `check NAME CMD...` or `expect_exit N NAME CMD...`;
# each prints "ok - script/NAME" or "not ok - script/NAME" for tests/run.
# $VG is the vigil binary under test (ASan build); $T a fresh temp dir.
set -u
VG="${VG_BIN:?run through tests/run or set VG_BIN}"
ROOT="${VG_ROOT:?}"
SCRIPT=$(basename "$0" .sh)
base=/tmp
[ -w /dev/shm ] && base=/dev/shm
T=$(mktemp -d "$base/vgcli-XXXXXX")
# Vaults are encrypted by default: a passphrase, and a cheap key derivation
# so each command does not spend 0.1 s and 64 MiB in Argon2id.
export VIGIL_PASSWORD=vigil-test-passphrase VIGIL_KDF=1,64
trap 'rm -rf "$T"' EXIT
_pass=0; _fail=0

ok()     { echo "ok - $SCRIPT/$1"; _pass=$((_pass+1)); }
not_ok() { echo "not ok - $SCRIPT/$1"; shift; [ $# -gt 0 ] && echo "  $*"; _fail=$((_fail+1)); }

# check NAME CMD... : passes when CMD exits 0
check() {
	local name=$1; shift
	if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name" "exit $?: $(echo "$out" | tail -3)"; fi
}
# expect_exit CODE NAME CMD... : passes when CMD exits with CODE; output in $OUT
expect_exit() {
	local want=$1 name=$2; shift 2
	OUT=$("$@" 2>&1); local rc=$?
	if [ "$rc" = "$want" ]; then ok "$name"; else not_ok "$name" "exit $rc, wanted $want: $(echo "$OUT" | tail -3)"; fi
}
# contains NAME HAYSTACK NEEDLE
contains() {
	case "$2" in *"$3"*) ok "$1" ;; *) not_ok "$1" "'$3' not in: $(echo "$2" | tail -5)" ;; esac
}
done_testing() { [ "$_fail" -eq 0 ]; }
