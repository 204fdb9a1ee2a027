#!/usr/bin/env bash
# axe-core for the browser suite, from the npm registry, exactly as package-lock.json pins it.
# Called by the project's set-up (Makefile / .ci/run) before the e2e suite; does nothing when
# the pinned version is already installed.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v npm >/dev/null 2>&1; then
  echo "e2e/axe/install.sh: npm is needed (Debian: apt-get install npm)" >&2
  exit 1
fi
wanted=$(node -e 'console.log(require("./package-lock.json").packages["node_modules/axe-core"].version)')
have=$(node -e 'try { console.log(require("./node_modules/axe-core/package.json").version) } catch (e) { console.log("") }')
if [ "$wanted" != "$have" ]; then
  npm ci --no-audit --no-fund --silent
fi
