#!/usr/bin/env bash
# Runs the unit and end-to-end suites (the compose stack has its own: scripts/test-stack.sh) and writes jest's JSON results to .ci/results/jest.json.
# The suites run inside a private network namespace that has only `lo` (in-loopback-namespace.sh),
# so no packet, media included, can leave loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .ci/results
# Chromium, Firefox, Kamailio, rtpengine, the SIP phones… installed where missing.
bash scripts/system-packages.sh test
npm run --silent build
# Types and lint are part of the tests: a change that breaks them does not land.
node_modules/.bin/tsc -p tsconfig.json
node_modules/.bin/biome ci --diagnostic-level=error .
# Each package packed and installed on its own (test/packages-stand-alone.test.ts imports them).
bash scripts/pack-packages.sh

exec scripts/in-loopback-namespace.sh node --experimental-vm-modules node_modules/jest/bin/jest.js \
  --selectProjects unit e2e --json --outputFile=.ci/results/jest.json "$@"
