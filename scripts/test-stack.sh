#!/usr/bin/env bash
# The bundled stack on a real Docker engine (`npm run test:stack`): starts dockerd when none runs
# (and stops it after), makes sure the base images exist (test/stack/base-images.sh builds
# stand-ins from Debian's packages where they cannot be pulled, and says so), builds the
# project's images (Asterisk's from ../shared/vendor's Asterisk 22 build), and runs test/stack/, writing jest's JSON results to
# .ci/results/jest-stack.json. Needs root (Docker, and the browsers' network namespace).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .ci/results
# Docker's engine, Compose and debootstrap (for stand-in base images), installed where missing.
bash scripts/system-packages.sh stack

dockerd_pid=""
stop_dockerd() { if [ -n "$dockerd_pid" ]; then kill "$dockerd_pid"; wait "$dockerd_pid" || true; fi; }
trap stop_dockerd EXIT
if ! docker info >/dev/null 2>&1; then
  echo "test-stack: starting dockerd (log: .ci/results/dockerd.log)"
  dockerd >.ci/results/dockerd.log 2>&1 &
  dockerd_pid=$!
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { tail -20 .ci/results/dockerd.log; exit 1; }
fi

bash test/stack/base-images.sh
# The asterisk service's CI image is built from the project's shared Asterisk 22 build, beside the
# repository (../shared/vendor/, read-only): copied into the image's git-ignored build context.
asterisk_tarball=${ASTERISK_TARBALL:-../shared/vendor/asterisk-22-bookworm-amd64.tar.xz}
[ -f "$asterisk_tarball" ] || { echo "test-stack: $asterisk_tarball not found (set ASTERISK_TARBALL)"; exit 1; }
mkdir -p test/stack/asterisk/vendor
copied=test/stack/asterisk/vendor/asterisk-22-bookworm-amd64.tar.xz
# (A copy of a read-only file is read-only: replaced, not overwritten, when the build changes.)
cmp -s "$asterisk_tarball" "$copied" || { rm -f "$copied" && cp "$asterisk_tarball" "$copied"; }
if docker compose version >/dev/null 2>&1; then compose=(docker compose); else compose=(docker-compose); fi
# Every image there is before the build: the stack test checks the build left no unnamed one.
docker images -aq --no-trunc >.ci/results/images-before-build.txt
started=$SECONDS
# (The legacy builder's deprecation notice, once per image, says nothing about this build.)
"${compose[@]}" -p ringway-ci -f docker-compose.yml -f test/stack/docker-compose.ci.yml build -q \
  2> >(grep -v -e 'legacy builder is deprecated' -e 'Install the buildx' -e 'go/buildx' >&2)
echo "test-stack: images built in $((SECONDS - started)) s"
docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E '^(ringway-ci|redis)' || true

node --experimental-vm-modules node_modules/jest/bin/jest.js --selectProjects stack \
  --json --outputFile=.ci/results/jest-stack.json "$@"
