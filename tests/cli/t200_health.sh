#!/usr/bin/env bash
# t200_health.sh - `vigil health PATH`: human and --json output and exit
# status 0/1/2, with fake zpool/btrfs/smartctl first on PATH (printing real
# recorded outputs) and a recorded system under --sysroot.
. "$(dirname "$0")/lib.sh"
# these cases need the default policy: no config file
: > "$T/empty.conf"
export VIGIL_CONFIG="$T/empty.conf"
FX="$ROOT/tests/fixtures/health"
export TZ=UTC
mkdir -p "$T/bin" "$T/root/proc/self" "$T/root/sys/class/block" "$T/root/dev/disk/by-id"

# The recorded machine: a ZFS dataset, an NFS mount, the root on overlay.
cat > "$T/root/proc/self/mountinfo" <<'M'
22 1 0:21 / / rw,relatime shared:1 - overlay overlay rw,lowerdir=/x
40 22 0:44 / /tank/data rw,noatime shared:20 - zfs pool0/data rw,xattr,noacl
41 22 0:45 / /srv/vm rw,noatime shared:21 - zfs vmdata/vm rw,xattr,noacl
42 22 0:46 / /backup rw,noatime shared:22 - zfs backup rw,xattr,noacl
43 22 0:47 / /mnt/nfs rw,relatime shared:23 - nfs4 server:/export rw,vers=4.2
M
# pool0's disks, so SMART runs for them (by-id links as udev makes them).
for d in sda sdb sdc; do mkdir -p "$T/root/sys/class/block/$d"; done
ln -s ../../sda "$T/root/dev/disk/by-id/ata-TOSHIBA_MG09ACA18TE_82X0A0QMFJDH"
ln -s ../../sdb "$T/root/dev/disk/by-id/ata-TOSHIBA_MG09ACA18TE_82J0A00FFJDH"
ln -s ../../sdc "$T/root/dev/disk/by-id/ata-TOSHIBA_MG09ACA18TE_82X0A0QPFJDH"

# Fake zpool: an OpenZFS without -j (usage error, as 2.2 and older), then
# the text named by $ZPOOL_OUT; ZPOOL_HANG makes it hang.
cat > "$T/bin/zpool" <<'Z'
#!/bin/sh
[ -n "${ZPOOL_HANG:-}" ] && exec sleep 30
case "$*" in *-j*) echo "invalid option 'j'" >&2; echo "usage:" >&2; exit 2 ;; esac
exec cat "$ZPOOL_OUT"
Z
cat > "$T/bin/smartctl" <<'S'
#!/bin/sh
exec cat "$SMART_OUT"
S
chmod +x "$T/bin/zpool" "$T/bin/smartctl"
export PATH="$T/bin:$PATH" SMART_OUT="$FX/smartctl-ata-healthy.json"
H=("$VG" health --sysroot "$T/root" --no-state --now 2023-11-20)

export ZPOOL_OUT="$FX/zpool-status-p-healthy-two-pools-scrub-finished.txt"
expect_exit 0 healthy-pool-exit-0 "${H[@]}" /tank/data
contains healthy-pool-says-online "$OUT" "pool pool0 is ONLINE: 3 devices"
contains healthy-pool-names-storage "$OUT" "/tank/data: zfs dataset pool0/data on pool pool0"
contains healthy-pool-smart-ran "$OUT" "sdc (WDC WD140EDFZ-11A0VA0, serial 9RK1XXXX): SMART health PASSED"
contains healthy-verdict "$OUT" "verdict: OK"

expect_exit 1 old-scrub-exit-1 "$VG" health --sysroot "$T/root" --no-state --now 2024-01-11T12:00:00 /tank/data
contains old-scrub-says-days "$OUT" "last scrub of pool0 completed 60 days ago"

export ZPOOL_OUT="$FX/zpool-status-degraded-unavail-scrub-in-progress.txt"
sed 's/rpool/pool0/g' "$ZPOOL_OUT" > "$T/degraded.txt"
export ZPOOL_OUT="$T/degraded.txt"
expect_exit 1 degraded-exit-1 "${H[@]}" /tank/data
contains degraded-names-disk "$OUT" "raidz2-0 lost 17844476680277185950 (UNAVAIL, was /dev/sdc1)"
contains degraded-says-replace "$OUT" "zpool replace pool0 17844476680277185950 /dev/disk/by-id/NEW"

export ZPOOL_OUT="$FX/zpool-status-single-disk-cksum.txt"
expect_exit 2 single-disk-cksum-exit-2 "${H[@]}" /backup
contains crit-names-counters "$OUT" "in pool backup has 3 checksum errors"
contains crit-go-cold "$OUT" "ddrescue"
contains crit-summary "$OUT" "summary: CRIT: /backup on zfs dataset backup on pool backup:"

export ZPOOL_OUT="$FX/zpool-status-suspended-faulted-too-many-errors.txt"
expect_exit 2 json-crit-exit-2 "${H[@]}" --json /srv/vm
check json-is-valid python3 -c 'import json,sys; json.loads(sys.argv[1])' "$OUT"
v=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); f=[x for x in d["sources"][0]["findings"] if x["subject"]=="vmdata/sdc"][0]; print(d["verdict"], f["level"], f["figures"]["write_errors"], f["probe"])' "$OUT" 2>&1)
contains json-fields "$v" "CRIT CRIT 126 zfs"

expect_exit 1 nfs-not-inspectable "${H[@]}" /mnt/nfs
contains nfs-says-why "$OUT" "/mnt/nfs is on storage vigil cannot inspect (nfs4 from server:/export)"
expect_exit 0 nfs-allowed "${H[@]}" --allow-uninspectable /mnt/nfs

export ZPOOL_OUT="$FX/zpool-status-p-healthy-two-pools-scrub-finished.txt"
expect_exit 1 hang-is-warned env ZPOOL_HANG=1 "${H[@]}" --timeout 1 /tank/data
contains hang-says-killed "$OUT" "did not answer within 1000 ms and was killed: pool0 was NOT checked"

expect_exit 1 missing-tool-is-warned env PATH="$T/nobin" "$VG" health --sysroot "$T/root" --no-state /tank/data
contains missing-tool-says-install "$OUT" "zpool is not installed"
contains missing-tool-names-package "$OUT" "apt install zfsutils-linux"

printf 'garbage\x01\x02 not zpool\n' > "$T/garbage.txt"
expect_exit 1 garbled-output-is-warn env ZPOOL_OUT="$T/garbage.txt" "${H[@]}" /tank/data
contains garbled-says-cannot-parse "$OUT" "cannot parse zpool status output"

expect_exit 64 no-path-is-usage "$VG" health --sysroot "$T/root" --no-state
expect_exit 64 bad-timeout-is-usage "$VG" health --timeout x /tank/data
done_testing
