#!/bin/sh
# Installs the Debian packages Qun needs to build, run and test, if any are
# missing, and creates the unprivileged `qun` user the daemon switches to.
# Used by `make run`, `make test` and `make bench`; safe to run repeatedly.
set -eu

PKGS="build-essential cmake pkg-config clang clang-format libclang-rt-14-dev
libuv1-dev libssl-dev libconfig-dev libutf8proc-dev libsystemd-dev
libcmocka-dev libsodium-dev libjansson-dev libsqlite3-dev libcurl4-openssl-dev
openssl valgrind
python3-pytest python3-cryptography nodejs
chromium fonts-wqy-microhei"

# The browser tests (tests/browser) drive Debian's chromium (never a
# downloaded browser; a CJK font so the pages render) with playwright-core,
# which ctest installs from the npm registry. Debian's nodejs needs its npm
# package; a nodejs that ships npm itself (NodeSource's, which conflicts with
# Debian's npm) is left alone.
if ! command -v npm >/dev/null 2>&1; then
    PKGS="$PKGS npm"
fi

# `install-deps.sh bench` adds the peer servers measured by `make bench`
# (ircd-hybrid conflicts with ngircd; bench/run.sh unpacks it itself).
if [ "${1:-}" = bench ]; then
    PKGS="$PKGS ngircd inspircd linux-perf"
fi

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
        || missing="$missing $p"
done

if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "install-deps: missing packages:$missing" >&2
        echo "install-deps: run as root or: sudo apt-get install$missing" >&2
        exit 1
    fi
    echo "install-deps: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing
fi

if [ "$(id -u)" = 0 ] && ! getent passwd qun >/dev/null; then
    useradd --system --no-create-home --shell /usr/sbin/nologin qun
fi
