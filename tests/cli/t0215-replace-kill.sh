#!/usr/bin/env bash
# `vigil replace` killed with SIGKILL at 20 random points: the vault still
# opens, `vigil scrub` completes the rebuild, the vault is ONLINE with no
# errors and restores identically - also after losing another device.
. "$(dirname "$0")/lib.sh"
src=$T/src
mkdir -p "$src"
for i in $(seq 1 10); do head -c 3000000 /dev/urandom > "$src/f$i"; done
mkdir -p "$T/tpl"
"$VG" init --layout raidz1 "$T/tpl/d1" "$T/tpl/d2" "$T/tpl/d3" >/dev/null &&
	"$VG" backup --vault "$T/tpl/d1" "$src" >/dev/null 2>&1 || { not_ok setup; exit 1; }
bad=0 killed=0
for k in $(seq 1 20); do
	rm -rf "$T/v" && cp -a "$T/tpl" "$T/v"
	# the vault remembers its devices by absolute path: keep the same names
	rm -rf "$T/tpl.bak" && mv "$T/tpl" "$T/tpl.bak" && mv "$T/v" "$T/tpl"
	rm -rf "$T/tpl/d2"
	"$VG" replace --vault "$T/tpl/d1" "$T/tpl/d2" "$T/tpl/new2" >/dev/null 2>&1 &
	pid=$!
	sleep "$(printf "0.%03d" $(( RANDOM % 150 )))"
	kill -9 "$pid" 2>/dev/null && killed=$((killed + 1))
	wait "$pid" 2>/dev/null
	st=$("$VG" status --vault "$T/tpl/d1" 2>&1)
	if ! echo "$st" | grep -q "new2"; then
		# killed before the new device was committed: replace again
		"$VG" replace --vault "$T/tpl/d1" "$T/tpl/d2" "$T/tpl/new2b" >/dev/null 2>&1 || { bad=$((bad + 1)); echo "  run $k: replace after kill failed"; }
	else
		"$VG" scrub --vault "$T/tpl/d1" >/dev/null 2>&1
		[ $? -le 1 ] || { bad=$((bad + 1)); echo "  run $k: finishing scrub failed"; }
	fi
	"$VG" status --vault "$T/tpl/d1" >/dev/null 2>&1 || { bad=$((bad + 1)); echo "  run $k: not ONLINE: $("$VG" status --vault "$T/tpl/d1" 2>&1 | head -20)"; }
	"$VG" scrub --vault "$T/tpl/d1" >/dev/null 2>&1 || { bad=$((bad + 1)); echo "  run $k: second scrub found something"; }
	rm -rf "$T/tpl/d3" "$T/r"
	"$VG" restore --vault "$T/tpl/d1" latest "$T/r" >/dev/null 2>&1 && diff -r "$src" "$T/r/src" >/dev/null ||
		{ bad=$((bad + 1)); echo "  run $k: restore differs after losing another device"; }
	rm -rf "$T/tpl" && mv "$T/tpl.bak" "$T/tpl"
done
[ "$killed" -ge 5 ] && ok "replace was killed mid-way ($killed of 20)" || not_ok "replace was killed mid-way" "$killed"
[ "$bad" = 0 ] && ok "every killed replace was finished, ONLINE, clean and restorable" || not_ok "every killed replace was finished" "$bad problems"
done_testing
