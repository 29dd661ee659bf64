#!/usr/bin/env bash
# forget and prune: a dry run lists exactly the snapshots a real run then
# removes and changes nothing; prune gives the space of unique data back;
# prune killed with SIGKILL at 20 random points and rerun leaves a vault
# that scrubs clean, holds the kept snapshots and restores identically.
. "$(dirname "$0")/lib.sh"
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
D=("$T/v/d1" "$T/v/d2" "$T/v/d3")
mkdir -p "$T/v" "$T/src"
"$VG" init --layout raidz1 "${D[@]}" >/dev/null || { not_ok setup; exit 1; }
for i in 1 2 3 4 5; do
	rm -rf "$T/src"; mkdir -p "$T/src/d"
	head -c 2500000 /dev/urandom > "$T/src/big$i"; echo "$i" > "$T/src/d/n"
	"$VG" backup --vault "${D[0]}" "$T/src" >/dev/null || not_ok "backup $i"
	sleep 0.01
done
cp -a "$T/v" "$T/template"

expect_exit 64 "forget without a policy or snapshot is refused" "$VG" forget --vault "${D[0]}"
expect_exit 64 "a bad duration is refused" "$VG" forget --vault "${D[0]}" --keep-within 3x
before=$(du -sk "$T/v" | cut -f1)
"$VG" forget --vault "${D[0]}" --keep-last 2 --dry-run --prune --json > "$T/dry.json" 2>&1
want=$(field "' '.join(sorted(s['id'] for s in d['snapshots'] if s['action']=='remove'))" < "$T/dry.json")
[ "$(echo $want | wc -w)" = 3 ] && ok "dry run lists three snapshots to remove" || not_ok "dry run lists three" "$want"
[ "$(du -sk "$T/v" | cut -f1)" = "$before" ] && ok "dry run changes nothing" || not_ok "dry run changes nothing"
"$VG" snapshots --vault "${D[0]}" --json | field "' '.join(sorted(s['id'] for s in d))" > "$T/all"
check "forget removes the snapshots" "$VG" forget --vault "${D[0]}" --keep-last 2
"$VG" snapshots --vault "${D[0]}" --json | field "' '.join(sorted(s['id'] for s in d))" > "$T/left"
gone=$(python3 -c "import sys; a=set(open(sys.argv[1]).read().split()); b=set(open(sys.argv[2]).read().split()); print(' '.join(sorted(a-b)))" "$T/all" "$T/left")
[ "$gone" = "$want" ] && ok "the real run removed exactly what the dry run listed" || not_ok "dry run = real run" "$gone vs $want"
expect_exit 0 "prune reclaims" "$VG" prune --vault "${D[0]}"
contains "prune says what it freed" "$OUT" "freed"
after=$(du -sk "$T/v" | cut -f1)
[ "$after" -lt $((before * 6 / 10)) ] && ok "disk use went down ($before -> $after KiB)" || not_ok "disk use went down" "$before -> $after"
expect_exit 0 "scrub after prune is clean" "$VG" scrub --vault "${D[0]}"
rm -rf "$T/r"
"$VG" restore --vault "${D[0]}" latest "$T/r" >/dev/null 2>&1 && diff -r "$T/src" "$T/r/src" >/dev/null && ok "restore identical" || not_ok "restore identical"

# SIGKILL at random points: rerun, verify, restore
bad=0; mid=0; forgot=0
for k in $(seq 1 20); do
	rm -rf "$T/v"; cp -a "$T/template" "$T/v"
	"$VG" prune --vault "${D[0]}" --keep-last 2 >/dev/null 2>&1 &
	pid=$!
	sleep "0.0$(( RANDOM % 7 ))$(( RANDOM % 10 ))"  # a prune takes about 60 ms here
	kill -9 "$pid" 2>/dev/null && mid=$((mid+1))
	wait "$pid" 2>/dev/null
	n=$("$VG" snapshots --vault "${D[0]}" --json 2>/dev/null | field "len(d)")
	[ "$n" = 2 ] && forgot=$((forgot+1))
	case "$n" in 2|5) ;; *) bad=$((bad+1)); echo "  run $k: $n snapshots after the kill" ;; esac
	"$VG" prune --vault "${D[0]}" --keep-last 2 >/dev/null 2>&1 || { bad=$((bad+1)); echo "  run $k: rerun failed"; }
	"$VG" scrub --vault "${D[0]}" >/dev/null 2>&1 || { bad=$((bad+1)); echo "  run $k: scrub not clean"; }
	rm -rf "$T/r"
	"$VG" restore --vault "${D[0]}" latest "$T/r" >/dev/null 2>&1 && diff -r "$T/src" "$T/r/src" >/dev/null ||
		{ bad=$((bad+1)); echo "  run $k: restore differs"; }
done
[ "$bad" = 0 ] && ok "20 killed prunes: rerun, scrub clean, restore identical ($mid killed mid-run, $forgot after the forget)" || not_ok "killed prunes" "$bad problems"
done_testing
