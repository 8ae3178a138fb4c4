#!/bin/sh
# install.sh DIR - installs the browser tests' npm packages (playwright-core,
# pinned by package-lock.json) into DIR/node_modules; DIR is outside the
# source tree or git-ignored (ctest's browser/setup uses <build>/browser).
#
# Never downloads a browser: playwright-core has no install scripts (and
# --ignore-scripts makes sure); the tests drive Debian's /usr/bin/chromium.
# Missing node, npm or chromium is an error naming the package, never a skip.
# Does nothing when DIR already holds this lockfile's packages.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
dir=${1:?usage: install.sh DIR}

fail() {
    echo "browser setup: $*" >&2
    exit 1
}

command -v node >/dev/null 2>&1 || fail "node is missing: install Debian's nodejs (scripts/install-deps.sh)"
command -v npm >/dev/null 2>&1 || fail "npm is missing: install Debian's npm (scripts/install-deps.sh)"
[ -x "${QUN_CHROMIUM:-/usr/bin/chromium}" ] ||
    fail "${QUN_CHROMIUM:-/usr/bin/chromium} is missing: install Debian's chromium (scripts/install-deps.sh)"

mkdir -p "$dir"
if cmp -s "$here/package-lock.json" "$dir/package-lock.json" &&
    [ -f "$dir/node_modules/playwright-core/package.json" ]; then
    echo "browser setup: playwright-core already installed in $dir"
    exit 0
fi
cp "$here/package.json" "$here/package-lock.json" "$dir/"
cd "$dir"
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --ignore-scripts --no-audit --no-fund \
    --loglevel=error || fail "npm ci failed in $dir (is the npm registry reachable?)"
node -e "require('playwright-core')" ||
    fail "playwright-core does not load from $dir/node_modules"
echo "browser setup: playwright-core $(node -p "require('playwright-core/package.json').version") installed in $dir"
