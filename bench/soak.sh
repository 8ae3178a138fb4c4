#!/bin/bash
# Qun soak test (`make soak`, not in CI): a steady mixed load against one qund
# for a long time, one row of figures every interval, then the log verified
# and the daemon stopped.  Writes bench/results/soak.csv (one row per
# interval) and bench/results/soak.md (the summary, also printed).  See
# bench/README.md, "Soak".
#
# Environment knobs (all optional):
#   SOAK_MINUTES      length of the load, default 30
#   SOAK_SECS         the same in seconds (overrides SOAK_MINUTES; smoke runs)
#   SOAK_INTERVAL     seconds per row, default 10
#   SOAK_ARGS         extra qbench soak options (the load mix, see qbench.c)
#   QUND, QUNCTL      binaries, default build/qund and build/qunctl
#   SERVER_CPU / GEN_CPU   cores for server and generator, default 0 / 1
set -u
BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
MINUTES=${SOAK_MINUTES:-30}
SECS=${SOAK_SECS:-$((MINUTES * 60))}
INTERVAL=${SOAK_INTERVAL:-10}
QUND=${QUND:-$ROOT/build/qund}
QUNCTL=${QUNCTL:-$ROOT/build/qunctl}
SERVER_CPU=${SERVER_CPU:-0}
GEN_CPU=${GEN_CPU:-1}
BENCH_USER=qunbench
PEERS=$BENCH/.peers
OUT=$BENCH/results
PORT=16672
WSPORT=16673
mkdir -p "$OUT" "$PEERS"

log() { printf '[soak %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [ "$(id -u)" != 0 ]; then
	log "soak.sh needs root: qund starts as root and drops to the $BENCH_USER user, as in bench/run.sh"
	exit 1
fi
if ! id "$BENCH_USER" >/dev/null 2>&1; then
	log "creating system user $BENCH_USER"
	useradd --system --no-create-home --shell /usr/sbin/nologin "$BENCH_USER" || exit 1
fi
for tool in taskset ss gcc awk; do
	command -v $tool >/dev/null || { log "missing tool: $tool"; exit 1; }
done
for b in "$QUND" "$QUNCTL"; do
	[ -x "$b" ] || { log "missing $b (build first: cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build)"; exit 1; }
done
QBENCH=$PEERS/qbench
if [ ! -x "$QBENCH" ] || [ "$BENCH/qbench.c" -nt "$QBENCH" ]; then
	log "building qbench"
	gcc -O2 -g -Wall -Wextra -o "$QBENCH" "$BENCH/qbench.c" || exit 1
fi

RUN=$(mktemp -d /tmp/qunsoak.XXXXXX)
chmod 755 "$RUN"
chown "$BENCH_USER:" "$RUN"
mkdir -m 700 "$RUN/qund-data" && chown "$BENCH_USER" "$RUN/qund-data"
echo "soak" >"$RUN/motd.txt"
# bench/qund.conf with its own port, a web listener (IRC over WebSocket at
# /irc) and the network log strict (logged and fsync'ed before delivery; the
# default, spelled out)
sed -e "s|^listen = .*|listen = ( { address = \"127.0.0.1\"; port = $PORT; }, { address = \"127.0.0.1\"; port = $WSPORT; kind = \"web\"; } );|" \
	-e 's|^netlog: { |netlog: { mode = "strict"; |' "$BENCH/qund.conf" >"$RUN/qund.conf"
echo "web: { root = \"$ROOT/web\"; };" >>"$RUN/qund.conf"
chmod 644 "$RUN/qund.conf"
"$QUND" -c "$RUN/qund.conf" -t >/dev/null 2>"$RUN/conf.err" || {
	log "configuration refused: $(cat "$RUN/conf.err")"
	exit 1
}

SPID=""
stop_qund() { # SIGTERM, up to 60 s; sets QUND_RC and STOP_SECS
	QUND_RC=""
	[ -n "$SPID" ] && kill -0 "$SPID" 2>/dev/null || return 0
	local t0 t1
	t0=$(date +%s.%N)
	kill -TERM "$SPID"
	for _ in $(seq 600); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$SPID" 2>/dev/null; then
		log "qund did not stop within 60 s of SIGTERM; killing it"
		kill -KILL "$SPID"
	fi
	wait "$SPID"
	QUND_RC=$?
	t1=$(date +%s.%N)
	STOP_SECS=$(echo "$t0 $t1" | awk '{printf "%.1f", $2 - $1}')
	SPID=""
}
trap 'stop_qund' EXIT
trap 'stop_qund; exit 130' INT TERM

(cd "$RUN" && exec taskset -c "$SERVER_CPU" "$QUND" -c "$RUN/qund.conf") >"$RUN/qund.err" 2>&1 &
SPID=$!
for _ in $(seq 100); do
	[ -n "$(ss -ltnH "sport = :$PORT" 2>/dev/null)" ] && break
	kill -0 "$SPID" 2>/dev/null || { log "qund exited during start-up: $(tail -3 "$RUN/qund.err")"; exit 1; }
	sleep 0.1
done
sleep 0.3
BL=$(ss -ltnH "sport = :$PORT" | awk '{print $3; exit}')
W=$((${BL:-128} * 3 / 4))
[ "$W" -gt 1000 ] && W=1000

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
log "qund pid $SPID (core $SERVER_CPU), load for $SECS s, a row every $INTERVAL s; load average $LOAD_BEFORE; files in $RUN"
# shellcheck disable=SC2086
RESULT=$(taskset -c "$GEN_CPU" "$QBENCH" soak --port "$PORT" --ws-port "$WSPORT" --pid "$SPID" \
	--server-cpu "$SERVER_CPU" \
	--window "$W" --secs "$SECS" --interval "$INTERVAL" --csv "$OUT/soak.csv" \
	--qunctl "$QUNCTL" --ctl-socket "$RUN/qund-data/qund.sock" --log-db "$RUN/qund-data/netlog.db" \
	${SOAK_ARGS:-} 2> >(tee "$RUN/qbench.err" >&2))
QB_RC=$?
T_END=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
ALIVE=yes
kill -0 "$SPID" 2>/dev/null || ALIVE=no
[ "$QB_RC" != 0 ] && log "qbench exit status $QB_RC"
[ "$ALIVE" = no ] && log "qund died during the soak"

log "stopping qund with SIGTERM"
stop_qund
log "qund exit status ${QUND_RC:-?} after ${STOP_SECS:-?} s"

log "qunctl verify on the network log"
QUN_CONTROL_SOCKET=$RUN/none.sock "$QUNCTL" verify --db "$RUN/qund-data/netlog.db" \
	--key "$RUN/qund-data/netlog.key.pub" >"$RUN/verify.out" 2>&1
VERIFY_RC=$?
VERIFY=$(grep -E '^(events|result):' "$RUN/verify.out" | tr '\n' ';' | sed 's/  */ /g; s/;$//; s/;/; /g')

# qund's stderr: warnings, errors and sanitizer reports (a Release build has
# no sanitizer, but a build with one is reported the same way)
FLAG=' (warn|warning|error|fatal|crit)[ :]|AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error|Segmentation|Aborted'
# the one expected warning: bench/qund.conf is a development configuration
grep -v "DEVELOPMENT server" "$RUN/qund.err" | grep -E "$FLAG" >"$RUN/qund.bad"
BAD=$(wc -l <"$RUN/qund.bad")

CPU_MODEL=$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)
{
	echo "# Qun soak — $T_START to $T_END"
	echo
	echo "Machine: $(nproc) cores, ${CPU_MODEL:-unknown CPU}, Linux $(uname -r). qund ${QUND#"$ROOT"/} pinned to core $SERVER_CPU, bench/qbench soak to core $GEN_CPU."
	echo "Load average (1/5/15 min) before: $LOAD_BEFORE; after: $LOAD_AFTER (the machine is shared; see the loadavg column of soak.csv)."
	if [ -n "${SOAK_SECS:-}" ]; then CMD="SOAK_SECS=$SOAK_SECS"; else CMD="SOAK_MINUTES=$MINUTES"; fi
	[ -n "${SOAK_ARGS:-}" ] && CMD="$CMD SOAK_ARGS=\"$SOAK_ARGS\""
	echo "Command: \`$CMD make soak\` (or bench/soak.sh with the same variables)."
	echo
	printf '%s\n' "$RESULT" | grep '^RESULT' | awk -v csv="$OUT/soak.csv" -v interval="$INTERVAL" \
		-v verify_rc="$VERIFY_RC" -v verify="$VERIFY" -v qund_rc="${QUND_RC:-?}" -v stop_s="${STOP_SECS:-?}" \
		-v bad="$BAD" -v alive="$ALIVE" -f "$BENCH/soak.awk"
	if [ -s "$RUN/qund.bad" ]; then
		echo
		echo "qund's stderr, first lines flagged:"
		echo
		head -20 "$RUN/qund.bad" | sed 's/^/    /'
	fi
} >"$OUT/soak.md"
printf '%s\n' "$RESULT" | grep '^RESULT' >"$OUT/soak.raw.txt"
cat "$OUT/soak.md"
log "written $OUT/soak.md, $OUT/soak.csv and $OUT/soak.raw.txt (daemon output and logs in $RUN)"
[ "$VERIFY_RC" = 0 ] && [ "${QUND_RC:-1}" = 0 ] && [ "$ALIVE" = yes ] && [ "$BAD" = 0 ] && [ "$QB_RC" = 0 ]
