#!/usr/bin/env bash
# Makes sure the Debian packages the tests use are installed: one list for `npm test`
# (scripts/test.sh), `npm run test:stack` (scripts/test-stack.sh) and CI (.ci/run).
#   bash scripts/system-packages.sh test [stack]
# Installs what is missing with apt-get (through sudo when not root); where there is no apt, names
# what is missing and stops. Quick when everything is there (one dpkg-query).
set -euo pipefail
cd "$(dirname "$0")/.."

# What each set needs, as Debian 12 packages. The binaries named are what a machine without apt
# must provide by other means.
declare -A SETS
SETS[test]="chromium firefox-esr kamailio kamailio-websocket-modules kamailio-autheph-modules
  kamailio-tls-modules kamailio-presence-modules rtpengine-daemon baresip
  linphone-cli twinkle-console pulseaudio pulseaudio-utils libasound2-plugins redis-server
  prometheus sngrep tshark iproute2 util-linux openssl
  libc6 libcrypt1 libgcc-s1 libstdc++6 libssl3 libsrtp2-1 libjansson4 libxml2 libxslt1.1
  libsqlite3-0 libuuid1 libedit2 libcurl4 xz-utils asterisk-core-sounds-en-gsm asterisk-moh-opsound-gsm
  libjemalloc2"
SETS[stack]="docker.io docker-compose debootstrap"
declare -A BINARIES
BINARIES[test]="chromium firefox-esr kamailio rtpengine baresip linphonec twinkle pulseaudio
  redis-server prometheus promtool sngrep tshark ip unshare openssl"
BINARIES[stack]="docker dockerd docker-compose debootstrap"

wanted=()
binaries=""
for set in "${@:-test}"; do
  [ -n "${SETS[$set]:-}" ] || { echo "system-packages: no set '$set' (test, stack)" >&2; exit 2; }
  read -r -a packages <<<"$(echo ${SETS[$set]})"
  wanted+=("${packages[@]}")
  binaries+=" ${BINARIES[$set]}"
done

if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
  missing=$(for binary in $binaries; do command -v "$binary" >/dev/null || printf '%s ' "$binary"; done)
  if [ -n "$missing" ]; then
    echo "system-packages: no apt here; the tests need these programs, not found on PATH: $missing" >&2
    echo "system-packages: on Debian or Ubuntu they come from: ${wanted[*]}" >&2
    exit 1
  fi
  exit 0
fi

# Installing and unpacking need root: through sudo when not root.
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"

missing=()
installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${wanted[@]}" 2>/dev/null || true)
for package in "${wanted[@]}"; do
  grep -q "^$package ii" <<<"$installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ -n "$sudo" ] && ! command -v sudo >/dev/null; then
    echo "system-packages: missing ${missing[*]}; run as root or install sudo" >&2
    exit 1
  fi
  echo "system-packages: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian's prometheus and redis-server start daemons of their own where nothing forbids it; the
  # tests run their own on loopback ports: stop those, for good.
  for service in prometheus redis-server; do
    [[ " ${missing[*]} " == *" $service "* ]] || continue
    if [ -d /run/systemd/system ]; then
      $sudo systemctl disable --now "$service" >/dev/null 2>&1 || true
    else
      $sudo service "$service" stop >/dev/null 2>&1 || true
      $sudo update-rc.d "$service" disable >/dev/null 2>&1 || true
    fi
  done
fi

# Asterisk 22 (not packaged for Debian 12): the build in shared/vendor beside this clone, unpacked
# to /opt/asterisk once (its libraries and Debian's prompts are in the test set above).
if [[ " $* " == *" test "* ]] || [ $# -eq 0 ]; then
  tarball="../shared/vendor/asterisk-22-bookworm-amd64.tar.xz"
  if [ ! -x /opt/asterisk/sbin/asterisk ] && [ -f "$tarball" ]; then
    echo "system-packages: unpacking Asterisk 22 from $tarball to /opt/asterisk"
    $sudo tar -C /opt -xJf "$tarball"
  fi
  [ -x /opt/asterisk/sbin/asterisk ] || echo "system-packages: no Asterisk at /opt/asterisk (no $tarball): its tests will fail" >&2
fi
exit 0
