#!/usr/bin/env bash
# The test command: installs the Debian tools the oracles need when missing (needs root), then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-tools.sh
[ -d node_modules ] || npm ci
npx tsc -p tsconfig.json --noEmit
npx eslint .
npm run --silent test:unit
