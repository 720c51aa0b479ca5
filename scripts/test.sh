#!/usr/bin/env bash
# Runs every test suite and writes jest's JSON results to .ci/results/jest.json.
# The suites run inside a private network namespace that has only `lo`, so no packet (media
# included) can leave loopback; `unshare -rn` gives one without root where user namespaces are on.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .ci/results
npm run --silent build
# Types and lint are part of the tests: a change that breaks them does not land.
node_modules/.bin/tsc -p tsconfig.json
node_modules/.bin/biome ci --diagnostic-level=error .

jest_cmd=(node --experimental-vm-modules node_modules/jest/bin/jest.js --json --outputFile=.ci/results/jest.json "$@")
if [ "$(id -u)" = 0 ]; then ns=(unshare -n); else ns=(unshare -rn); fi
if ! "${ns[@]}" true 2>/dev/null; then
  echo "scripts/test.sh: cannot create a network namespace (${ns[*]}); the end-to-end suites must not run outside one." >&2
  exit 1
fi
exec "${ns[@]}" -- bash -c 'ip link set lo up && exec "$@"' bash "${jest_cmd[@]}"
