#!/bin/sh
# `npm start` and the Docker image's command: the gateway from the V8 start-up snapshot that
# `npm run build` made beside it (gateway.blob, docs/start-up.md) when this node can load it, else
# the bundle itself. A snapshot loads only in the node that made it, under the same V8 flags: any
# other refuses it and exits (14), so the stamp written beside it is compared first, and
# RINGWAY_START_FALLBACK tells the gateway's start-up line why it runs the bundle. Either way node
# replaces this shell (exec): it gets the signals, and cluster workers start the way it did.
# The folder of this script, without running dirname.
case $0 in */*) here=${0%/*} ;; *) here=. ;; esac
# On Debian's libjemalloc2 where installed (the image has it): glibc's malloc keeps what a burst of
# messages freed, jemalloc gives it back (+14 against +85 to +130 MB after 1,000,000 fuzzed
# messages: docs/robustness.md). A preload the caller set is kept.
if [ -z "$LD_PRELOAD" ]; then
  for lib in /usr/lib/*-linux-gnu/libjemalloc.so.2; do [ -e "$lib" ] && export LD_PRELOAD="$lib"; done
fi
# V8's flags, one line, those the snapshot was built under (bench/lib/gateway-process.mjs says why).
flags=
if [ ! -r "$here/node-flags" ]; then
  echo "start.sh: $here/node-flags is missing: npm run build writes it" >&2
  exit 1
fi
read -r flags <"$here/node-flags"
blob="$here/gateway.blob"
# Each program run here costs a start a millisecond or more (node --version about 4): read, not cat.
# The stamp: the node version, machine and V8 flags that made the blob, then that node's path.
stamp= version= machine= built_flags= builder=
if [ -f "$blob.stamp" ]; then
  { read -r version machine built_flags; read -r builder; } <"$blob.stamp"
  stamp="$version $machine $built_flags"
fi
# The node on PATH is the one that made the blob, as it was then: the file at the stamp's path (-ef),
# with the modification time the build copied onto gateway.blob.node (neither newer nor older;
# shell built-ins). Its version and machine are then the stamp's, without asking it. An upgraded
# node, even at the same path, has another time (its package's); any other node is asked (node
# --version and uname -m: about 4.5 ms of a start).
built_by="$blob.node"
if [ -n "$builder" ] && [ -f "$built_by" ] && ! [ "$builder" -nt "$built_by" ] &&
  ! [ "$builder" -ot "$built_by" ] && [ "$(command -v node)" -ef "$builder" ]; then
  this="$version $machine $flags"
else
  this="$(node --version) $(uname -m) $flags"
fi
if [ ! -f "$blob" ]; then
  fallback="no start-up snapshot ($blob): npm run build makes one"
elif [ "$stamp" != "$this" ]; then
  fallback="the start-up snapshot was made by another node ($stamp), this is $this: npm run build makes one for it"
# V8 flags in NODE_OPTIONS make node refuse the snapshot: ask it once (it exits at once if it takes it).
elif [ -n "$NODE_OPTIONS" ] && ! RINGWAY_SNAPSHOT_PROBE=1 node $flags --snapshot-blob "$blob" "$here/gateway.mjs" 2>/dev/null; then
  fallback="node refuses the start-up snapshot with NODE_OPTIONS=$NODE_OPTIONS"
else
  exec node $flags --snapshot-blob "$blob" "$here/gateway.mjs" "$@"
fi
export RINGWAY_START_FALLBACK="$fallback"
# Node 22.1 and later keep the bundle's compiled code here for the next start (older ones ignore it).
export NODE_COMPILE_CACHE="${NODE_COMPILE_CACHE:-${TMPDIR:-/tmp}/ringway-compile-cache}"
exec node $flags "$here/gateway.mjs" "$@"
