#!/usr/bin/env bash
# t201_health_config.sh - `vigil health` with a config file: [source]
# sections checked when no path is given, storage named explicitly,
# thresholds and policy from [health], and bad config files refused (65).
. "$(dirname "$0")/lib.sh"
FX="$ROOT/tests/fixtures/health"
export TZ=UTC
mkdir -p "$T/bin" "$T/root/proc/self"
cat > "$T/root/proc/self/mountinfo" <<'M'
22 1 0:21 / / rw,relatime shared:1 - overlay overlay rw,lowerdir=/x
43 22 0:47 / /mnt/nfs rw,relatime shared:23 - nfs4 server:/export rw,vers=4.2
M
cat > "$T/bin/zpool" <<'Z'
#!/bin/sh
case "$*" in *-j*) exit 2 ;; esac
exec cat "$ZPOOL_OUT"
Z
chmod +x "$T/bin/zpool"
export PATH="$T/bin:$PATH" ZPOOL_OUT="$FX/zpool-status-p-healthy-two-pools-scrub-finished.txt"

# The NFS share is backed by pool0 on this (the server's) machine.
cat > "$T/vigil.conf" <<'C'
[health]
scrub-warn-days = 5
smart = no

[source "share"]
path = /mnt/nfs
zfs-pool = pool0
on-critical = suspect

[source "scratch"]
path = /mnt/nfs/tmp
allow-uninspectable = yes

[alerts]
; other sections belong to other parts of vigil
C
H=("$VG" health --sysroot "$T/root" --no-state --now 2023-11-20 --config "$T/vigil.conf")
expect_exit 1 config-sources-checked "${H[@]}"
contains config-hint-used "$OUT" "pool pool0 is ONLINE"
contains config-threshold-used "$OUT" "last scrub of pool0 completed 7 days ago (2023-11-12), more than 5 days"
contains config-allowed-source "$OUT" "/mnt/nfs/tmp  [INFO]"
expect_exit 1 config-hint-for-cli-path "${H[@]}" /mnt/nfs/a/b
contains cli-path-uses-source "$OUT" "pool pool0 is ONLINE"
expect_exit 0 cli-overrides-threshold "${H[@]}" --scrub-warn-days 30 /mnt/nfs

printf '[health]\nscrub-warn-dayz = 5\n' > "$T/typo.conf"
expect_exit 65 config-typo-refused "$VG" health --config "$T/typo.conf" /
contains config-typo-named "$OUT" "unknown key 'scrub-warn-dayz' in [health]"
printf '[source "x"]\nzfs-pool = tank\n' > "$T/nopath.conf"
expect_exit 65 config-source-without-path "$VG" health --config "$T/nopath.conf" /
contains config-no-path-named "$OUT" "source 'x' has no path"
printf '[source x]\npath = /\n' > "$T/badsec.conf"
expect_exit 65 config-bad-section "$VG" health --config "$T/badsec.conf" /
expect_exit 66 config-missing-file "$VG" health --config "$T/none.conf" /
done_testing
