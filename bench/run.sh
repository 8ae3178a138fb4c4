#!/bin/bash
# Qun benchmark: runs bench/qbench against qund and the peer servers (ngircd,
# InspIRCd 3, ircd-hybrid, Ergo), one fresh server per scenario, server pinned to one
# core and the load generator to the other, and writes a markdown table to
# bench/results/latest.md (also printed at the end).  See bench/README.md.
#
# Environment knobs (all optional):
#   BENCH_SERVERS     servers to run, default
#                     "qund qund-relaxed qund-off ngircd inspircd hybrid ergo floor"
#                     (qund-relaxed / qund-off: the same qund with netlog.mode =
#                     "relaxed" / "off"; ergo: built by hand, see bench/README.md;
#                     floor: bench/floor.c, a relay doing nothing else, channel
#                     scenarios only)
#   BENCH_IDLE        idle client counts, default "1000 10000 19500"
#   BENCH_FULL_SECS   seconds of each full-speed phase, default 5
#   BENCH_LAT_SECS    seconds of each steady-rate latency phase, default 5
#   BENCH_QUICK=1     smoke run: idle 1000 only, 2-second phases, one round
#   BENCH_REPEAT=N    rounds of the channel scenarios (default 3; median kept)
#   QUND              path of the qund binary, default build/qund
#   ERGO              path of the Ergo binary, default bench/.peers/ergo
#   SERVER_CPU / GEN_CPU   cores for server and generator, default 0 / 1
set -u
BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
SERVERS=${BENCH_SERVERS:-"qund qund-relaxed qund-off ngircd inspircd hybrid ergo floor"}
IDLE=${BENCH_IDLE:-"1000 10000 19500"}
FULL=${BENCH_FULL_SECS:-5}
LAT=${BENCH_LAT_SECS:-5}
REPEAT=${BENCH_REPEAT:-3}
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	REPEAT=${BENCH_REPEAT:-1}
	IDLE=${BENCH_IDLE:-1000}
	FULL=${BENCH_FULL_SECS:-2}
	LAT=${BENCH_LAT_SECS:-2}
fi
QUND=${QUND:-$ROOT/build/qund}
SERVER_CPU=${SERVER_CPU:-0}
GEN_CPU=${GEN_CPU:-1}
BENCH_USER=qunbench
PEERS=$BENCH/.peers
ERGO=${ERGO:-$PEERS/ergo}
OUT=$BENCH/results
mkdir -p "$OUT" "$PEERS"

declare -A PORT=([qund]=16667 [ngircd]=16668 [inspircd]=16669 [hybrid]=16670 [qund-relaxed]=16671
	[ergo]=16674 [qund-off]=16675 [floor]=16676)
declare -A STATUS=()

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
# "2.11.1" from Ergo's "ergo-2.11.1", or why there is none
ergo_version() {
	[ -x "$ERGO" ] || { echo missing; return; }
	"$ERGO" --version 2>/dev/null | sed -n '1s/^ergo-//p'
}

# ---------------------------------------------------------------- setup

if [ "$(id -u)" != 0 ]; then
	log "run.sh needs root: it creates the $BENCH_USER user and starts the peers as that user"
	exit 1
fi
if ! id "$BENCH_USER" >/dev/null 2>&1; then
	log "creating system user $BENCH_USER"
	useradd --system --no-create-home --shell /usr/sbin/nologin "$BENCH_USER" || exit 1
fi
for tool in taskset setpriv ss gcc; do
	command -v $tool >/dev/null || { log "missing tool: $tool"; exit 1; }
done

# bench/NAME.c -> bench/.peers/NAME, when missing or older than its source
build_tool() {
	local out=$PEERS/$1
	if [ ! -x "$out" ] || [ "$BENCH/$1.c" -nt "$out" ]; then
		log "building $1"
		gcc -O2 -g -Wall -Wextra -o "$out" "$BENCH/$1.c" || exit 1
	fi
}
QBENCH=$PEERS/qbench
FLOOR=$PEERS/floor
build_tool qbench
build_tool floor

HYB=$PEERS/ircd-hybrid
prepare_hybrid() {
	if [ ! -x "$HYB/usr/sbin/ircd-hybrid" ]; then
		log "fetching ircd-hybrid (apt-get download; it conflicts with ngircd as a package)"
		local tmp
		tmp=$(mktemp -d)
		(cd "$tmp" && apt-get download ircd-hybrid >/dev/null 2>&1) || { rm -rf "$tmp"; return 1; }
		rm -rf "$HYB" && mkdir -p "$HYB"
		dpkg-deb -x "$tmp"/ircd-hybrid_*.deb "$HYB" || { rm -rf "$tmp"; return 1; }
		rm -rf "$tmp"
	fi
	# its one library dependency that ngircd/inspircd do not pull in
	if ! ldconfig -p | grep -q 'libltdl.so.7'; then
		log "installing libltdl7 for ircd-hybrid"
		apt-get install -y libltdl7 >/dev/null 2>&1 || return 1
	fi
	return 0
}

RUN=$(mktemp -d /tmp/qunbench.XXXXXX)
chmod 755 "$RUN"
chown "$BENCH_USER:" "$RUN"
RESULTS=$RUN/results.txt
: >"$RESULTS"
echo "bench" >"$RUN/motd.txt"

SPID=""
DNSPID=""
stop_pid() { # TERM, up to 5 s, then KILL; waits until the process is gone
	local pid=$1
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	fi
	wait "$pid" 2>/dev/null
	return 0
}
cleanup() {
	stop_pid "$SPID"
	SPID=""
}
final_cleanup() {
	cleanup
	stop_pid "$DNSPID"
	DNSPID=""
}
trap 'final_cleanup' EXIT
trap 'final_cleanup; exit 130' INT TERM

# ircd-hybrid always resolves client addresses and cannot be told not to.  In
# its private mount namespace /etc/resolv.conf points at a stub (qbench dns)
# that answers NXDOMAIN at once, so registrations do not wait on this
# machine's upstream resolver (which throttles bursts of queries).
DNS_ADDR=127.0.0.77
start_dns() {
	[ -n "$DNSPID" ] && return 0
	echo "nameserver $DNS_ADDR" >"$RUN/resolv.conf"
	chmod 644 "$RUN/resolv.conf"
	taskset -c "$GEN_CPU" "$QBENCH" dns --host "$DNS_ADDR" --port 53 2>>"$RUN/qbench.err" &
	DNSPID=$!
	sleep 0.2
	kill -0 "$DNSPID" 2>/dev/null || { DNSPID=""; return 1; }
}

render() { # template -> file, filling in @PORT@ @RUN@ @MODDIR@
	sed -e "s|@PORT@|$2|g; s|@RUN@|$RUN|g; s|@MODDIR@|$HYB/usr/lib/ircd-hybrid/modules|g" "$1" >"$3"
	chmod 644 "$3"
}

# qund's configuration for server $1 (qund, qund-relaxed, qund-off) into $2.
# qund logs every message before delivery (strict, the default); qund-relaxed
# is the same binary delivering first and committing within 100 ms; qund-off
# writes no log at all (accepted only with server.development = true, which
# bench/qund.conf sets; benchmarks only).
qund_conf() {
	case $1 in
	qund) cp "$BENCH/qund.conf" "$2" ;;
	*)
		sed -e "s/port = 16667;/port = ${PORT[$1]};/" \
			-e "s/^netlog: { /netlog: { mode = \"${1#qund-}\"; /" "$BENCH/qund.conf" >"$2"
		;;
	esac
	chmod 644 "$2"
}

AS_USER="setpriv --reuid $BENCH_USER --regid $BENCH_USER --clear-groups"

# Starts server $1 fresh; sets SPID.  Returns non-zero if it did not come up.
start_server() {
	local name=$1 port=${PORT[$1]} logf=$RUN/$1.out
	SPID=""
	for _ in $(seq 100); do # a previous server may still be closing its sockets
		[ -z "$(ss -ltnH "sport = :$port" 2>/dev/null)" ] && break
		sleep 0.1
	done
	case $name in
	qund | qund-relaxed | qund-off)
		qund_conf "$name" "$RUN/qund.conf"
		# a fresh store and vault key per start, private to the server user
		rm -rf "$RUN/qund-data" && mkdir -m 700 "$RUN/qund-data" &&
			chown "$BENCH_USER" "$RUN/qund-data"
		# qund drops to the configured user (server.user) itself
		(cd "$RUN" && exec taskset -c "$SERVER_CPU" "$QUND" -c "$RUN/qund.conf" ${QUND_ARGS:-}) \
			>>"$logf" 2>&1 &
		SPID=$!
		;;
	ngircd)
		render "$BENCH/peers/ngircd.conf.in" "$port" "$RUN/ngircd.conf"
		(cd "$RUN" && exec taskset -c "$SERVER_CPU" $AS_USER ngircd -n -f "$RUN/ngircd.conf") \
			>>"$logf" 2>&1 &
		SPID=$!
		;;
	inspircd)
		render "$BENCH/peers/inspircd.conf.in" "$port" "$RUN/inspircd.conf"
		(cd "$RUN" && exec taskset -c "$SERVER_CPU" $AS_USER inspircd --nofork --config "$RUN/inspircd.conf") \
			>>"$logf" 2>&1 &
		SPID=$!
		;;
	hybrid)
		render "$BENCH/peers/ircd-hybrid.conf.in" "$port" "$RUN/hybrid.conf"
		rm -f "$RUN"/hybrid-*.db
		# ircd-hybrid loads its core modules from the compiled-in
		# /usr/lib/ircd-hybrid: give it that path, in a private mount namespace
		# only, as an overlay of the system /usr/lib and the unpacked package.
		# /etc/resolv.conf is bound to the stub resolver's, see start_dns.
		(cd "$RUN" && exec unshare -m --propagation private sh -c '
			mount -t overlay qunbench-hybrid -o "lowerdir=/usr/lib:$1/usr/lib" /usr/lib || exit 1
			mount --bind "$2" /etc/resolv.conf || exit 1
			shift 2; exec "$@"' sh "$HYB" "$RUN/resolv.conf" \
			taskset -c "$SERVER_CPU" $AS_USER "$HYB/usr/sbin/ircd-hybrid" -foreground \
			-configfile "$RUN/hybrid.conf" -logfile "$RUN/hybrid.log" -pidfile "$RUN/hybrid.pid" \
			-klinefile "$RUN/hybrid-k.db" -dlinefile "$RUN/hybrid-d.db" \
			-xlinefile "$RUN/hybrid-x.db" -resvfile "$RUN/hybrid-r.db") >>"$logf" 2>&1 &
		SPID=$!
		;;
	floor)
		# relays with one send per recipient and loop turn, nothing else
		(cd "$RUN" && exec taskset -c "$SERVER_CPU" $AS_USER "$FLOOR" "$port" coalesce) \
			>>"$logf" 2>&1 &
		SPID=$!
		;;
	ergo)
		render "$BENCH/peers/ergo.yaml.in" "$port" "$RUN/ergo.yaml"
		# a fresh datastore (accounts, channel registrations) per start;
		# Ergo refuses to run without one
		rm -f "$RUN/ergo.db" "$RUN/ergo.lock"
		if ! (cd "$RUN" && exec $AS_USER "$ERGO" initdb --conf "$RUN/ergo.yaml" --quiet) >>"$logf" 2>&1; then
			log "ergo initdb failed; see $logf"
			tail -5 "$logf" >&2
			return 1
		fi
		(cd "$RUN" && exec taskset -c "$SERVER_CPU" $AS_USER "$ERGO" run --conf "$RUN/ergo.yaml" --quiet) \
			>>"$logf" 2>&1 &
		SPID=$!
		;;
	esac
	for _ in $(seq 100); do
		if ! kill -0 "$SPID" 2>/dev/null; then
			log "$name exited during start-up; see $logf"
			tail -5 "$logf" >&2
			SPID=""
			return 1
		fi
		if [ -n "$(ss -ltnH "sport = :$port" 2>/dev/null)" ]; then
			sleep 0.3
			return 0
		fi
		sleep 0.1
	done
	log "$name did not listen on port $port within 10 s"
	cleanup
	return 1
}

# Accept backlog of the server's listening socket: connections opened at once
# must stay below it, or SYNs are dropped and retried a second later.
backlog() {
	local b
	b=$(ss -ltnH "sport = :${PORT[$1]}" | awk '{print $3; exit}')
	[ -z "$b" ] && b=128
	echo "$b"
}

# run_case SERVER SCENARIO qbench-args...
run_case() {
	local name=$1 scen=$2
	shift 2
	if ! start_server "$name"; then
		echo "server=$name scen=$scen RESULT mode=error" >>"$RESULTS"
		return
	fi
	local bl w
	bl=$(backlog "$name")
	w=$((bl * 3 / 4))
	[ "$w" -gt 1000 ] && w=1000
	# ircd-hybrid's resolver socket overflows (and retries after seconds) when
	# more than ~200 lookups answer at once
	[ "$name" = hybrid ] && [ "$w" -gt 100 ] && w=100
	[ "$w" -lt 4 ] && w=4
	log "$name: $scen (pid $SPID, backlog $bl, window $w)"
	local out
	out=$(timeout 300 taskset -c "$GEN_CPU" "$QBENCH" "$@" --port "${PORT[$name]}" --pid "$SPID" \
		--server-cpu "$SERVER_CPU" --window "$w" --label "$scen" 2>>"$RUN/qbench.err")
	local rc=$?
	[ $rc -ne 0 ] && log "$name: $scen: qbench exit status $rc (see $RUN/qbench.err)"
	if ! kill -0 "$SPID" 2>/dev/null; then
		log "$name died during $scen"
		out="$out"$'\n'"RESULT mode=crash"
	fi
	if [ -z "$out" ]; then
		out="RESULT mode=error"
	fi
	printf '%s\n' "$out" | grep '^RESULT' | sed "s/^/server=$name scen=$scen /" >>"$RESULTS"
	printf '%s\n' "$out" | grep '^RESULT' | sed "s/^/  /" >&2
	cleanup
}

# ---------------------------------------------------------------- scenarios

# Share of both cores busy over one second while no benchmark runs: other
# work on the machine takes CPU from the server and the generator.
busy_pct() {
	local a b
	a=$(awk '/^cpu /{t=0; for (i=2;i<=NF;i++) t+=$i; print t, $5+$6}' /proc/stat)
	sleep 1
	b=$(awk '/^cpu /{t=0; for (i=2;i<=NF;i++) t+=$i; print t, $5+$6}' /proc/stat)
	echo "$a $b" | awk '{dt=$3-$1; di=$4-$2; printf "%.0f", (dt > 0 ? 100*(dt-di)/dt : 0)}'
}
BUSY_BEFORE=$(busy_pct)
[ "$BUSY_BEFORE" -gt 10 ] && log "warning: the machine is already ${BUSY_BEFORE}% busy; figures will be noisy"
# The durable-write floor: one 4 KiB append + fdatasync in the run directory,
# the file system that holds every server's data.  qund in strict mode
# delivers a message only after its batch is fsynced, so no strict-mode
# latency can be below this.
FSYNC=$(taskset -c "$GEN_CPU" "$QBENCH" fsync --dir "$RUN" --count 2000 2>>"$RUN/qbench.err" | grep '^RESULT')
if [ -n "$FSYNC" ]; then
	log "fsync floor: $FSYNC"
	echo "server=disk scen=fsync $FSYNC" >>"$RESULTS"
else
	log "qbench fsync failed (see $RUN/qbench.err)"
fi
T_START=$(date +%s)
for name in $SERVERS; do
	case $name in
	qund | qund-relaxed | qund-off)
		if [ ! -x "$QUND" ]; then
			log "$name: $QUND is missing (build it first: cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build); skipping"
			STATUS[$name]=missing
			continue
		fi
		# a qund older than netlog.mode = "off" refuses it: say so once
		# instead of failing every scenario
		if [ "$name" = qund-off ]; then
			qund_conf qund-off "$RUN/qund-off-check.conf"
			if ! err=$("$QUND" -c "$RUN/qund-off-check.conf" -t 2>&1 >/dev/null); then
				log "qund-off: $QUND refuses the configuration; skipping: $(printf '%s\n' "$err" | grep -m1 'qund:')"
				STATUS[$name]=unsupported
				continue
			fi
		fi
		;;
	ngircd) command -v ngircd >/dev/null || { STATUS[ngircd]=missing; log "ngircd not installed; skipping"; continue; } ;;
	inspircd) command -v inspircd >/dev/null || { STATUS[inspircd]=missing; log "inspircd not installed; skipping"; continue; } ;;
	hybrid)
		prepare_hybrid || { STATUS[hybrid]=missing; log "could not unpack ircd-hybrid; skipping"; continue; }
		start_dns || { STATUS[hybrid]=missing; log "could not start the stub resolver on $DNS_ADDR:53; skipping ircd-hybrid"; continue; }
		;;
	ergo)
		if [ ! -x "$ERGO" ]; then
			log "ergo: $ERGO is missing; build Ergo v2.11.1 from source by hand as bench/README.md (\"Ergo\") describes, or set ERGO=path; skipping"
			STATUS[ergo]=missing
			continue
		fi
		;;
	floor) ;;
	*) log "unknown server $name"; continue ;;
	esac
	STATUS[$name]=ok
	for n in $IDLE; do
		if [ "$name" = floor ]; then # a 72 KiB buffer per client: no idle figure
			echo "server=$name scen=idle$n RESULT mode=none" >>"$RESULTS"
			continue
		fi
		run_case "$name" "idle$n" idle --clients "$n" --setup-timeout 120
	done
done
# The channel scenarios run REPEAT rounds, each round visiting every server
# in turn, so that a burst of outside load hits one round of all servers
# rather than all rounds of one; the report keeps each server's median round.
for round in $(seq "$REPEAT"); do
	for name in $SERVERS; do
		[ "${STATUS[$name]:-}" = ok ] || continue
		log "round $round of $REPEAT: $name"
		run_case "$name" big100 chan --channels 1 --members 100 --senders 10 --full "$FULL" --inflight 48
		run_case "$name" big1000 chan --channels 1 --members 1000 --senders 10 --full "$FULL" --inflight 8
		run_case "$name" small chan --channels 1000 --members 5 --senders 1 --full "$FULL" --inflight 16
		# latency on a fresh server, so that a backlog left by an overloaded
		# full-speed phase cannot leak into it
		run_case "$name" lat1000 chan --channels 1 --members 1000 --senders 10 --full 0 --rate 50 --lat "$LAT"
		run_case "$name" latsmall chan --channels 1000 --members 5 --senders 1 --full 0 --rate 1000 --lat "$LAT"
	done
done
T_END=$(date +%s)
BUSY_AFTER=$(busy_pct)

# ---------------------------------------------------------------- report

CPU_MODEL=$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)
{
	echo "# Qun benchmark — $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "Machine: $(nproc) cores, ${CPU_MODEL:-unknown CPU}, Linux $(uname -r), $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM."
	echo "Server pinned to core $SERVER_CPU, load generator (bench/qbench) to core $GEN_CPU; one fresh server process per scenario;"
	echo "server CPU = utime+stime from /proc/PID/stat; RSS = VmRSS from /proc/PID/status. Run took $((T_END - T_START)) s."
	echo "Full-speed phases: ${FULL} s, each sender keeping a bounded number of messages in flight (a message leaves the window once every other member received it); server CPU includes what the server spends after the phase until it rests (work it put off, e.g. qund's log applier catching up)."
	echo "Background load (other processes, both cores, 1 s sample): ${BUSY_BEFORE} % before the run, ${BUSY_AFTER} % after; anything above a few % skews throughput and latency, less so the per-CPU-second figures."
	echo "Channel scenarios: $REPEAT rounds over all servers; full-speed figures are the server's median round by deliveries per CPU-second; latency figures come from the round with the least outside load on the server core (last row)."
	echo "Latency phases: ${LAT} s at a fixed rate; latency = receive time − send time stamped in the text (same process, CLOCK_MONOTONIC); server CPU % = the phase's server CPU, with what it spends after the phase until it rests, over the phase's time."
	echo
	STAT=""
	for name in qund qund-relaxed qund-off ngircd inspircd hybrid ergo floor; do STAT="$STAT $name=${STATUS[$name]:-skipped}"; done
	awk -f "$BENCH/median.awk" "$RESULTS" | awk -v status="$STAT" -v idle="$IDLE" -f "$BENCH/table.awk"
	echo
	if [ -n "$FSYNC" ]; then
		printf '%s\n' "$FSYNC" | awk -v fs="$(df --output=fstype "$RUN" | tail -1 | tr -d ' ')" '{
			for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
			printf "fdatasync of a 4 KiB append on this disk: p50 / p99 / max %.3f / %.3f / %.3f ms (%s, the file system of the servers'"'"' data; %d appends, before the scenarios) — the floor under any strict-mode latency: a message is delivered only after its batch is fsynced.\n",
				f["p50_us"] / 1000, f["p99_us"] / 1000, f["max_us"] / 1000, fs, f["count"]
		}'
	else
		echo "fdatasync of a 4 KiB append on this disk: not measured (qbench fsync failed)."
	fi
	echo
	echo "Versions: ngircd $(dpkg-query -W -f='${Version}' ngircd 2>/dev/null), InspIRCd $(dpkg-query -W -f='${Version}' inspircd 2>/dev/null), ircd-hybrid $(zcat "$HYB/usr/share/doc/ircd-hybrid/changelog.Debian.gz" 2>/dev/null | awk -F'[()]' 'NR==1{print $2}'), Ergo $(ergo_version), qund $([ -x "$QUND" ] && echo "from ${QUND#"$ROOT"/}" || echo missing)."
} >"$OUT/latest.md"
cp "$RESULTS" "$OUT/latest.raw.txt"
cat "$OUT/latest.md"
log "written $OUT/latest.md (raw figures: $OUT/latest.raw.txt; logs in $RUN)"
