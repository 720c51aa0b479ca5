#!/usr/bin/env bash
# Runs a command in a private network namespace that has only `lo`, so that no packet (media
# included) can leave loopback; `unshare -rn` gives one without root where user namespaces are on.
set -euo pipefail
if [ "$(id -u)" = 0 ]; then ns=(unshare -n); else ns=(unshare -rn); fi
if ! "${ns[@]}" true 2>/dev/null; then
  echo "in-loopback-namespace.sh: cannot create a network namespace (${ns[*]})" >&2
  exit 1
fi
exec "${ns[@]}" -- bash -c 'ip link set lo up && exec "$@"' bash "$@"
