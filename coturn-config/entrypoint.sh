#!/bin/sh
# Hands turnserver its TURN REST secret (AUTH_SECRET, shared with the gateway) and realm in a file
# readable by this user only, so the secret is on no command line (`ps`, `docker inspect`). The
# compose file's command adds the addresses, port ranges and peer limits.
set -eu
: "${AUTH_SECRET:?AUTH_SECRET is not set}"
umask 077
config=$(mktemp)
# (printf is the shell's own: the secret is not an argument of any process.)
printf 'use-auth-secret\nstatic-auth-secret=%s\nrealm=%s\n' "$AUTH_SECRET" "${SIP_DOMAIN:-ringway.local}" >"$config"
exec turnserver -c "$config" --pidfile="$(dirname "$config")/turnserver.pid" "$@"
