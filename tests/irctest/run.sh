#!/bin/bash
# Runs the irctest conformance suite (server tests) against qund, or against a
# peer for a baseline, and prints passed/failed/skipped.
#
#   tests/irctest/run.sh [IRCTEST_GIT] [-- extra pytest args]
#
# IRCTEST_GIT (argument or environment): a git repository of irctest, e.g. the
# bare mirror that the search tool's fetch brings (required). It is cloned
# into a temporary directory and adapted to Debian 12 by prepare.py; irctest
# itself is never committed here.
#
# Environment:
#   QUND                 qund binary (default: <repo>/build/qund)
#   IRCTEST_CONTROLLER   qun (default) or any irctest controller name, e.g.
#                        inspircd for the baseline (InspIRCd refuses root:
#                        run.sh then runs pytest as the user IRCTEST_USER)
#   IRCTEST_USER         non-root user for peers that refuse root (default irctest;
#                        created if missing)
#   IRCTEST_MARKERS      pytest -m expression (default below)
#   IRCTEST_JOBS         pytest-xdist workers (default 4; 0 = no xdist)
#   IRCTEST_TIMEOUT      per-test timeout in seconds (default 120)
#   IRCTEST_DIR          use/keep this checkout instead of a temporary one
#   IRCTEST_OUT          directory for junit.xml, log and failure list
#                        (default: a new temporary directory, printed at the end)
#   QUN_IRCTEST_LENIENT, QUN_IRCTEST_WEBSOCKET, IRCTEST_DEBUG_LOGS: see qun.py
#
# Exit status: 0 when pytest ran (whatever the results), 2 on setup errors.
# Needs Debian's python3 and python3-pytest, -xdist, -timeout, -ecdsa,
# -filelock, -yaml, -cryptography (python3-websockets for the WebSocket tests,
# faketime for the two LIST creation/topic-time tests, which otherwise wait
# 2 real minutes each and hit the timeout).
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PY=/usr/bin/python3

IRCTEST_GIT=${IRCTEST_GIT:-}
if [ $# -gt 0 ] && [ "$1" != "--" ]; then IRCTEST_GIT=$1; shift; fi
[ "${1:-}" = "--" ] && shift
CONTROLLER=${IRCTEST_CONTROLLER:-qun}
MARKERS=${IRCTEST_MARKERS:-not implementation-specific and not deprecated and not strict}
JOBS=${IRCTEST_JOBS:-4}
TIMEOUT=${IRCTEST_TIMEOUT:-120}
RUN_USER=${IRCTEST_USER:-irctest}

die() { echo "run.sh: $*" >&2; exit 2; }

[ -x "$PY" ] || die "$PY missing (Debian's python3)"
"$PY" -c 'import pytest, xdist, pytest_timeout, ecdsa, filelock, yaml, cryptography' 2>/dev/null ||
	die "missing Debian packages: apt-get install python3-pytest python3-pytest-xdist python3-pytest-timeout python3-ecdsa python3-filelock python3-yaml python3-cryptography"
git -C "$IRCTEST_GIT" rev-parse --git-dir >/dev/null 2>&1 || die "not a git repository: $IRCTEST_GIT"

# A scratch area every user involved can use; TMPDIR also isolates irctest's
# port-allocation file (tempfile.gettempdir()/irctest_ports.json) per run.
SCRATCH=$(mktemp -d /tmp/qun-irctest.XXXXXX) || die "mktemp failed"
chmod 1777 "$SCRATCH"
OUT=${IRCTEST_OUT:-$SCRATCH/out}
mkdir -p "$OUT" && chmod 1777 "$OUT"

CHECKOUT=${IRCTEST_DIR:-$SCRATCH/irctest}
# a temporary clone is removed at exit; give IRCTEST_DIR to keep one
[ -z "${IRCTEST_DIR:-}" ] && trap 'rm -rf "$SCRATCH/irctest"' EXIT
if [ ! -f "$CHECKOUT/conftest.py" ]; then
	git clone -q "$IRCTEST_GIT" "$CHECKOUT" || die "git clone failed"
fi
"$PY" "$HERE/prepare.py" "$CHECKOUT" || die "prepare.py failed"
chmod -R a+rX "$CHECKOUT"
IRCTEST_REV=$(git -C "$CHECKOUT" rev-parse --short HEAD)

case $CONTROLLER in
qun)
	MODULE=qun
	QUND=${QUND:-$ROOT/build/qund}
	[ -x "$QUND" ] || die "qund not built: $QUND (cmake -S $ROOT -B $ROOT/build && cmake --build $ROOT/build)"
	QUND=$(realpath "$QUND") # pytest runs elsewhere: a relative path would not resolve
	export QUND
	# as root, qund switches to server.user (QUND_USER, default qun)
	if [ "$(id -u)" = 0 ] && ! id -u "${QUND_USER:-qun}" >/dev/null 2>&1; then
		useradd --system --no-create-home --shell /usr/sbin/nologin "${QUND_USER:-qun}" ||
			die "cannot create user ${QUND_USER:-qun}"
	fi
	AS_USER=
	;;
*)
	MODULE=irctest.controllers.$CONTROLLER
	AS_USER=
	if [ "$(id -u)" = 0 ]; then
		# InspIRCd, ircd-hybrid, ... refuse to run as root
		if ! id -u "$RUN_USER" >/dev/null 2>&1; then
			useradd --create-home --shell /bin/bash "$RUN_USER" || die "cannot create user $RUN_USER"
		fi
		AS_USER=$RUN_USER
	fi
	;;
esac

ARGS=(-p no:cacheprovider --controller="$MODULE" -m "$MARKERS"
	--timeout="$TIMEOUT" -q -rfE --junitxml="$OUT/junit.xml")
[ "$JOBS" != 0 ] && ARGS+=(-n "$JOBS")
ARGS+=(irctest/server_tests "$@")

ENVS=(TMPDIR="$SCRATCH" PYTHONPATH="$HERE" PYTHONDONTWRITEBYTECODE=1)
for v in QUND QUND_ARGS QUND_USER QUN_IRCTEST_LENIENT QUN_IRCTEST_WEBSOCKET IRCTEST_DEBUG_LOGS; do
	[ -n "${!v:-}" ] && ENVS+=("$v=${!v}")
done

echo "irctest $IRCTEST_REV in $CHECKOUT, controller $MODULE${AS_USER:+ (as $AS_USER)}"
echo "markers: $MARKERS"
START=$(date +%s)
if [ -n "$AS_USER" ]; then
	(cd "$CHECKOUT" && runuser -u "$AS_USER" -- env "${ENVS[@]}" "$PY" -m pytest "${ARGS[@]}") >"$OUT/pytest.log" 2>&1
else
	(cd "$CHECKOUT" && env "${ENVS[@]}" "$PY" -m pytest "${ARGS[@]}") >"$OUT/pytest.log" 2>&1
fi
RC=$?
END=$(date +%s)

[ -f "$OUT/junit.xml" ] || { tail -30 "$OUT/pytest.log"; die "pytest produced no junit.xml (exit $RC)"; }

"$PY" - "$OUT" <<'EOF'
import sys, xml.etree.ElementTree as ET
out = sys.argv[1]
counts = {"passed": 0, "failed": 0, "skipped": 0, "xfailed": 0}
failed = []
for tc in ET.parse(f"{out}/junit.xml").iter("testcase"):
    name = f"{tc.get('classname')}::{tc.get('name')}"
    if tc.find("failure") is not None or tc.find("error") is not None:
        counts["failed"] += 1
        node = tc.find("failure") if tc.find("failure") is not None else tc.find("error")
        failed.append(f"{name}\t{(node.get('message') or '').splitlines()[0][:200] if node.get('message') else ''}")
    elif (s := tc.find("skipped")) is not None:
        counts["xfailed" if s.get("type") == "pytest.xfail" else "skipped"] += 1
    else:
        counts["passed"] += 1
with open(f"{out}/failed.txt", "w") as f:
    f.write("\n".join(sorted(failed)) + ("\n" if failed else ""))
total = sum(counts.values())
print(" ".join(f"{k}={v}" for k, v in counts.items()) + f" total={total}")
EOF
grep -E '^[0-9]+ (passed|failed)|^=+ .*(passed|failed|error).* in ' "$OUT/pytest.log" | tail -1
echo "time: $((END - START))s; log $OUT/pytest.log; junit $OUT/junit.xml; failures $OUT/failed.txt"
exit 0
