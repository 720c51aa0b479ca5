#!/usr/bin/env bash
# Packs each workspace package as `npm publish` would (its package.json's `files`: dist/) and
# installs the three tarballs into an empty folder outside the repository, where nothing of the
# monorepo's node_modules can stand in for a dependency a package forgot to declare.
# test/packages-stand-alone.test.ts imports them there. Run by scripts/test.sh after the build,
# before the suites' private network namespace (npm may fetch package metadata here).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
dir="${TMPDIR:-/tmp}/ringway-packed"
rm -rf "$dir"
mkdir -p "$dir/tarballs" "$dir/app"
npm pack --silent -w @ringway/sdp -w @ringway/softphone -w @ringway/gateway --pack-destination "$dir/tarballs" >/dev/null
cd "$dir/app"
echo '{ "name": "ringway-packed-check", "private": true, "type": "module" }' >package.json
npm install --prefer-offline --no-audit --no-fund --loglevel=error "$dir"/tarballs/*.tgz
mkdir -p "$repo/.ci/results"
echo "$dir/app" >"$repo/.ci/results/packed-app"
