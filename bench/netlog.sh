#!/bin/bash
# Network-log figures for `make bench` (issue 5): events per second through
# the strict log (one group and one account, then 1,000 groups and 5,000
# accounts), `qunctl verify` speed at 1 and 10 million events, qund's
# start-up time on a 10-million-event log, CHATHISTORY LATEST 50 latency
# at that size. Writes bench/results/netlog.md (also printed).
#
#   BENCH_NETLOG_EVENTS   events for the big log (default 10000000)
#   QUND, QUNCTL, BUILD   binaries (default build/)
set -u
BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
QUND=${QUND:-$BUILD/qund}
QUNCTL=${QUNCTL:-$BUILD/qunctl}
BIG=${BENCH_NETLOG_EVENTS:-10000000}
OUT=$BENCH/results
mkdir -p "$OUT"
WORK=$(mktemp -d /var/tmp/qun-netlog-bench.XXXXXX)
chmod 755 "$WORK" # qund runs as qunbench and reads its configuration here
trap 'rm -rf "$WORK"' EXIT
log() { printf '[netlog-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
for b in "$BUILD/netlog_bench" "$BUILD/netlog_loggen" "$QUND" "$QUNCTL"; do
	[ -x "$b" ] || { log "missing $b (build first)"; exit 1; }
done

log "strict log: 1,000,000 events through netlog_append"
mkdir -p "$WORK/ev"
EV=$("$BUILD/netlog_bench" "$WORK/ev" 1000000 2>/dev/null)
EVRATE=$(echo "$EV" | sed -n 's/.* events_per_s=\([0-9]*\).*/\1/p')
DBRATE=$(echo "$EV" | sed -n 's/.*db_events_per_s=\([0-9]*\).*/\1/p')
log "strict log: 1,000,000 events over 1,000 groups and 5,000 accounts"
mkdir -p "$WORK/spread"
SP=$("$BUILD/netlog_bench" "$WORK/spread" 1000000 1000 5000 2>/dev/null)
SPRATE=$(echo "$SP" | sed -n 's/.* events_per_s=\([0-9]*\).*/\1/p')
SPDBRATE=$(echo "$SP" | sed -n 's/.*db_events_per_s=\([0-9]*\).*/\1/p')
rm -rf "$WORK/ev" "$WORK/spread"

verify_rate() { # events -> records/s of qunctl verify
	local n=$1 d=$WORK/v$1
	mkdir -p "$d"
	"$BUILD/netlog_loggen" "$d/l.db" "$d/l.key" "$n" 2>/dev/null || return 1
	local t0 t1
	t0=$(date +%s.%N)
	QUN_CONTROL_SOCKET=$WORK/none.sock "$QUNCTL" verify --db "$d/l.db" --key "$d/l.key.pub" >/dev/null 2>&1
	t1=$(date +%s.%N)
	echo "$n $t0 $t1" | awk '{printf "%.0f", $1 / ($3 - $2)}'
}
log "verify speed at 1,000,000 events"
V1=$(verify_rate 1000000)
log "verify speed at $BIG events (building the log takes a while)"
VBIG=$(verify_rate "$BIG")

log "start-up time of qund on the $BIG-event log"
D=$WORK/qund
mkdir -p "$D/data"
chmod 755 "$D"
cp "$WORK/v$BIG/l.db" "$D/data/netlog.db"
cp "$WORK/v$BIG/l.key" "$D/data/netlog.key"
cp "$WORK/v$BIG/l.key.pub" "$D/data/netlog.key.pub"
chmod 600 "$D/data/netlog.key"
id qunbench >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin qunbench
chown -R qunbench "$D/data"
# The copy above leaves gigabytes of dirty pages; without a sync, the
# daemon's first syncs wait for the kernel to write them (ext4 ordered
# mode), which is not the daemon's start-up: 0.48-1.86 s against
# 0.32-0.43 s with the sync, same log (session 12).
sync
cat >"$D/qund.conf" <<CONF
server: { name = "bench.qun"; network = "QunBench"; development = true; user = "qunbench"; };
listen = ( { address = "127.0.0.1"; port = 16690; } );
store: { path = "data/qun.db"; };
vault: { key_file = "data/vault.key"; };
control: { socket = "data/qund.sock"; };
netlog: { path = "data/netlog.db"; key_file = "data/netlog.key"; };
identity: { post_level = 0; create_level = 0; };
limits: { flood_exempt = [ "127.0.0.0/8" ]; };
CONF
T0=$(date +%s.%N)
(cd "$D" && exec "$QUND" -c qund.conf) >"$D/out" 2>&1 &
QPID=$!
# the daemon's own log line has the time it was ready
for _ in $(seq 3000); do grep -q "qund ready" "$D/out" && break; sleep 0.01; done
T1=$(date +%s.%N)
if grep -q "qund ready" "$D/out"; then
	STARTUP=$(echo "$T0 $T1" | awk '{printf "%.2f", $2 - $1}')
else # the time waited is not a start-up time
	log "qund did not start: $(tail -3 "$D/out")"
	STARTUP="failed (qund did not start)"
fi

log "CHATHISTORY LATEST 50 on that log"
LAT=$(/usr/bin/python3 - <<'PY'
import socket, time, statistics
s = socket.create_connection(("127.0.0.1", 16690))
f = s.makefile("rb")
def send(l): s.sendall((l + "\r\n").encode())
send("CAP REQ :batch message-tags server-time draft/chathistory")
send("NICK hb"); send("USER h 0 * :h"); send("CAP END")
while b" 001 " not in f.readline(): pass
send("JOIN #group7")
while b" 366 " not in f.readline(): pass
times = []
lines = 0
for i in range(201):
    t = time.monotonic()
    send("CHATHISTORY LATEST #group7 * 50")
    n = 0
    while True:
        l = f.readline()
        if not l or (b"BATCH -" in l) or b"FAIL" in l:
            break
        n += b"PRIVMSG" in l
    if i == 0:
        continue  # the first request opens the reader's connection
    lines += n
    times.append((time.monotonic() - t) * 1000)
assert lines >= 50 * 190, "history returned only %d messages" % lines
times.sort()
print("%.2f %.2f" % (times[len(times) // 2], times[int(len(times) * 0.99) - 1]))
PY
)
kill "$QPID" 2>/dev/null; wait "$QPID" 2>/dev/null

{
	echo "| network-log figure | value | target |"
	echo "|---|---:|---:|"
	echo "| events committed per second, strict mode (1,000,000 events; durable in the journal) | ${EVRATE:-?} | ≥ 200,000 |"
	echo "| the same, until the log database holds them all (readable) | ${DBRATE:-?} | shown |"
	echo "| the same over 1,000 groups and 5,000 accounts (a busy hour): durable / readable | ${SPRATE:-?} / ${SPDBRATE:-?} | shown |"
	echo "| qunctl verify, 1,000,000 events: records/s | ${V1:-?} | ≥ 1,000,000 |"
	echo "| qunctl verify, $BIG events: records/s | ${VBIG:-?} | ≥ 1,000,000 |"
	echo "| qund start-up on a $BIG-event log: seconds | ${STARTUP:-?} | ≤ 1 |"
	echo "| CHATHISTORY LATEST 50 on that log (#group7, about 1/300 of it): p50 / p99 ms | ${LAT:-?} | p99 ≤ 5 |"
} | tee "$OUT/netlog.md"
