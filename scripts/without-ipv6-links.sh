#!/bin/sh
# Run inside a test network namespace before its links are made: the links made in it, or moved
# into it, from now on have no IPv6 (`lo`, made with the namespace, keeps ::1). A link's IPv6
# link-local address arrives a second or two after the link comes up (once duplicate address
# detection is done), and Chromium fails a page load under way when an interface's addresses
# change (ERR_NETWORK_CHANGED). The test networks are IPv4. Nothing to do where IPv6 is off.
f=/proc/sys/net/ipv6/conf/default/disable_ipv6
[ ! -e "$f" ] || echo 1 >"$f"
