#!/usr/bin/env bash
# Makes sure the public base images the stack's Dockerfiles and compose file start from are
# present. Each is pulled; where that fails (a machine that cannot reach Docker Hub), a stand-in is
# built from Debian's packages under the public name, and this says so. Stand-ins trust the host's
# CA store, so builds behind a TLS-inspecting proxy work here; users' builds, on the real images,
# do not need it.
set -euo pipefail
cd "$(dirname "$0")/../.."

DEBIAN=debian:bookworm-slim
NODE=node:26-bookworm-slim
REDIS=redis:7-bookworm
ASTERISK=andrius/asterisk:22
HOST_CA=/etc/ssl/certs/ca-certificates.crt
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

present() { docker image inspect "$1" >/dev/null 2>&1; }
pulled() { present "$1" || docker pull -q "$1" >/dev/null 2>&1; }
stand_in() { echo "base-images: $1 cannot be pulled; building a stand-in: $2"; }
# (The legacy builder's deprecation notice says nothing about this build.)
build() {
  docker build -q "$@" 2> >(grep -v -e 'legacy builder is deprecated' -e 'Install the buildx' -e 'go/buildx' -e '^$' >&2) >/dev/null
}

if ! pulled "$DEBIAN"; then
  stand_in "$DEBIAN" "debootstrap --variant=minbase bookworm from $MIRROR, with the host's CA store"
  debootstrap --variant=minbase bookworm "$WORK/rootfs" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
    { tail -20 "$WORK/debootstrap.log"; exit 1; }
  mkdir -p "$WORK/rootfs/etc/ssl/certs"
  cp "$HOST_CA" "$WORK/rootfs/etc/ssl/certs/ca-certificates.crt"
  rm -rf "$WORK/rootfs/var/cache/apt/archives/"*.deb "$WORK/rootfs/var/lib/apt/lists/"*
  tar -C "$WORK/rootfs" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' - "$DEBIAN" >/dev/null
  rm -rf "$WORK/rootfs"
fi

if ! pulled "$NODE"; then
  stand_in "$NODE" "$DEBIAN with this host's Node $(node --version) and npm $(npm --version)"
  node_prefix=$(dirname "$(dirname "$(command -v node)")")
  mkdir -p "$WORK/node"
  cp "$(command -v node)" "$WORK/node/node"
  cp -r "$node_prefix/lib/node_modules/npm" "$WORK/node/npm"
  cp "$HOST_CA" "$WORK/node/ca-certificates.crt"
  cat >"$WORK/node/Dockerfile" <<DOCKERFILE
FROM $DEBIAN
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
CMD ["node"]
DOCKERFILE
  build -t "$NODE" "$WORK/node"
fi

# (An older stand-in, without the official image's /data, is made again.)
if present "$REDIS" && [ "$(docker image inspect -f '{{.Config.WorkingDir}}' "$REDIS")" != /data ]; then
  docker image rm -f "$REDIS" >/dev/null
fi
if ! pulled "$REDIS"; then
  stand_in "$REDIS" "$DEBIAN with Debian's redis-server"
  mkdir -p "$WORK/redis"
  # As the official image: the redis user, its data in /data.
  cat >"$WORK/redis/Dockerfile" <<DOCKERFILE
FROM $DEBIAN
RUN apt-get update && apt-get install -y --no-install-recommends redis-server \
 && rm -rf /var/lib/apt/lists/* && install -d -o redis -g redis /data
USER redis
WORKDIR /data
CMD ["redis-server", "--protected-mode", "no"]
DOCKERFILE
  build -t "$REDIS" "$WORK/redis"
fi

# Asterisk is not packaged for Debian 12: where its public image cannot be pulled, the stack test
# runs its own image of the project's shared Asterisk 22 build (test/stack/asterisk/, through
# test/stack/docker-compose.ci.yml), with the same asterisk-config/.
if pulled "$ASTERISK"; then echo "base-images: $ASTERISK present"; else
  echo "base-images: $ASTERISK cannot be pulled; the stack test builds Asterisk 22 from ../shared/vendor"
fi
