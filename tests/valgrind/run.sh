#!/bin/sh
# tests/valgrind/run.sh - the valgrind run of issue 8 (security review):
# builds qund WITHOUT sanitizers (ASan and valgrind do not mix) in its own
# CMake directory, then runs a representative subset of the integration
# suite - registration, chat, groups (with a restart), a moderation flow,
# web/WebSocket chat and the console API - with the fixture starting
#   valgrind --leak-check=full --errors-for-leak-kinds=definite
#            --error-exitcode=99 qund ...
# (QUND_WRAPPER, see tests/integration/conftest.py). Every server must exit
# 0 after SIGTERM: an invalid access, a use of uninitialised memory or a
# definitely lost block at shutdown makes valgrind exit 99 and the fixture
# fail the test, with valgrind's report in the daemon's stderr.
#
# Usage (ctest runs it): run.sh SOURCE_DIR BUILD_DIR QUNCTL
# A missing valgrind is a failure, never a skip (scripts/install-deps.sh
# installs it). Takes about two minutes; the build directory is kept, so
# later runs only rebuild what changed.
set -eu
src=$1
dir=$2
qunctl=$3

if ! command -v valgrind >/dev/null 2>&1; then
    echo "valgrind is not installed (run scripts/install-deps.sh)" >&2
    exit 1
fi
cc=${CC:-clang}
# DWARF 4: valgrind 3.19 cannot read clang 14's DWARF 5. -O1 keeps the run
# fast enough; asserts stay on (no NDEBUG) and the test hooks (the
# moderation clock used by the moderation flow) are compiled in.
CC=$cc cmake -S "$src" -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DQUN_SANITIZE=OFF -DQUN_FUZZ=OFF \
    -DCMAKE_C_FLAGS_DEBUG="-gdwarf-4 -O1" -DCMAKE_C_FLAGS=-DQUN_TEST_HOOKS >/dev/null
cmake --build "$dir" --target qund -j2 >"$dir/build.log" 2>&1 || {
    cat "$dir/build.log" >&2
    exit 1
}

it=$src/tests/integration
export QUND="$dir/qund" QUNCTL="$qunctl" QUN_SOURCE_DIR="$src"
export QUND_WRAPPER="valgrind --leak-check=full --errors-for-leak-kinds=definite \
--show-leak-kinds=definite --error-exitcode=99 --num-callers=30 --suppressions=$src/tests/valgrind/qund.supp"
# valgrind makes qund 20 to 50 times slower: start-up and stop get longer
export QUND_TIMEOUT_SCALE=6
exec /usr/bin/python3 -m pytest -q -p no:cacheprovider \
    "$it/test_registration.py::test_nick_in_use_is_433_case_insensitively" \
    "$it/test_chat.py::test_part_join0_quit_seen_by_others" \
    "$it/test_groups.py::test_group_survives_restart" \
    "$it/test_moderation.py::test_report_uphold_sanction_report_escalate_blacklist" \
    "$it/test_web.py::test_websocket_chat_with_tcp_client" \
    "$it/test_web.py::test_console_login_session_csrf_roles"
