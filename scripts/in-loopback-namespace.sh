#!/usr/bin/env bash
# Runs a command in a private network namespace where no packet (media included) can leave the
# machine: `lo`, and a veth pair with both ends inside (192.0.2.1/24, TEST-NET-1, the default
# route) that leads nowhere: the other end, rw-b, is in the namespace too and nothing is outside.
# The pair is there for phones that refuse to work without a network besides loopback
# (liblinphone decides after 5 s that "the network is down" when its only address is 127.0.0.1),
# and for Firefox, which gathers no ICE candidate on `lo` and, without the default route, none on
# rw-a either ("ICE failed": test/support/firefox.ts has the prefs it needs as well); servers still
# listen on 127.0.0.1. The pair has no IPv6 (without-ipv6-links.sh says why). `unshare -rn` gives
# one without root where user namespaces are on.
set -euo pipefail
if [ "$(id -u)" = 0 ]; then ns=(unshare -n); else ns=(unshare -rn); fi
if ! "${ns[@]}" true 2>/dev/null; then
  echo "in-loopback-namespace.sh: cannot create a network namespace (${ns[*]})" >&2
  exit 1
fi
exec "${ns[@]}" -- bash -c '
  without_ipv6=$1
  shift
  ip link set lo up
  sh "$without_ipv6"
  ip link add rw-a type veth peer name rw-b
  ip addr add 192.0.2.1/24 dev rw-a
  ip link set rw-a up
  ip link set rw-b up
  ip route add default via 192.0.2.2 dev rw-a
  exec "$@"' bash "$(dirname "$0")/without-ipv6-links.sh" "$@"
