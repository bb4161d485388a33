#!/usr/bin/env bash
# The newcomer's first command (until `repair` and its demo disk land): build a Gen1 sample disk as a fixed VHD,
# the format Azure stores, then inspect it and list its boot drivers. Uses the Windows-made files in
# ../shared/testdata when present, else our own synthetic files (with placeholder hives, said so).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-tools.sh
[ -d node_modules ] || npm ci --no-audit --no-fund
if [ -d ../shared/testdata ]; then flavour=(--flavour real); else flavour=(--flavour synthetic); fi
vhd=$(npx tsx scripts/fixtures.ts gen1 "${flavour[@]}" --formats vhd --json | node -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    const doc = JSON.parse(s); const f = (doc.fixtures ?? [doc])[0];
    process.stdout.write(f.vhd ?? f.paths?.vhd ?? "");
  });')
echo "sample disk: $vhd"
echo
echo "\$ winrescue inspect $vhd"
node bin/winrescue.js inspect "$vhd"
echo
echo "\$ winrescue ls $vhd /Windows/System32/drivers"
node bin/winrescue.js ls "$vhd" /Windows/System32/drivers
echo
echo "\$ winrescue check $vhd"
node bin/winrescue.js check "$vhd"
echo
echo "\$ winrescue reg get $vhd:/Windows/System32/config/SYSTEM 'ControlSet001\\Control\\CrashControl'"
node bin/winrescue.js reg get "$vhd:/Windows/System32/config/SYSTEM" 'ControlSet001\Control\CrashControl'
