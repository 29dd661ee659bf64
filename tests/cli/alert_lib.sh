# alert_lib.sh - helpers for the alert CLI tests (t3*.sh), sourced after lib.sh.
#
# start_sink NAME [MODE]   an HTTP receiver (tests/lib/http_sink.py) in $T/NAME;
#                          sets ${NAME}_PORT; MODE is written to $T/NAME/mode
# refused_port NAME        a port where nothing listens, in ${NAME}_PORT
# start_smtp NAME          the SMTP sink (tests/lib/smtp_sink.py)
# q FILE EXPR              evaluates a Python expression over the JSON lines of
#                          FILE (as list r) and prints the result
# Every sink stops by itself; stop_sinks (run at exit) ends them sooner.
_SINK_PIDS=""
_sink_wait() { # dir
	local i=0
	while [ ! -s "$1/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
	[ -s "$1/port" ] || { echo "sink in $1 did not start"; exit 1; }
}
start_sink() {
	local d="$T/$1"; mkdir -p "$d"; rm -f "$d/port"
	echo "${2:-ok}" > "$d/mode"
	python3 "$ROOT/tests/lib/http_sink.py" --dir "$d" --lifetime 150 ${3:+--port $3} >"$d/log" 2>&1 &
	_SINK_PIDS="$_SINK_PIDS $!"
	_sink_wait "$d"
	eval "${1}_PORT=$(cat "$d/port")"
}
refused_port() {
	local d="$T/$1"; mkdir -p "$d"; rm -f "$d/port"
	python3 "$ROOT/tests/lib/http_sink.py" --dir "$d" --refuse
	eval "${1}_PORT=$(cat "$d/port")"
}
start_smtp() {
	local d="$T/$1"; mkdir -p "$d"; rm -f "$d/port"
	python3 "$ROOT/tests/lib/smtp_sink.py" --dir "$d" --lifetime 150 >"$d/log" 2>&1 &
	_SINK_PIDS="$_SINK_PIDS $!"
	_sink_wait "$d"
	eval "${1}_PORT=$(cat "$d/port")"
}
stop_sinks() { for p in $_SINK_PIDS; do kill "$p" 2>/dev/null; done; _SINK_PIDS=""; }
trap 'stop_sinks; rm -rf "$T"' EXIT
q() {
	python3 -c 'import json,sys
r=[json.loads(l) for l in open(sys.argv[1]) if l.strip()] if __import__("os").path.exists(sys.argv[1]) else []
def hdr(rec, name):
    return [v for k, v in rec["headers"] if k.lower() == name.lower()]
def body(rec):
    return json.loads(rec["body"])
print(eval(sys.argv[2]))' "$1" "$2"
}
# eq NAME GOT WANT
eq() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "got '$2', wanted '$3'"; fi; }
# vg ARGS...: runs vigil, appending all its output to $T/all-output (for the
# secrets check); output in $OUT, status in $RC
vg() { OUT=$("$VG" "$@" 2>&1); RC=$?; printf '%s\n' "$OUT" >> "$T/all-output"; }
