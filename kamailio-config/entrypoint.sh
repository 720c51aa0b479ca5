#!/bin/sh
# Writes kamailio-local.cfg from the environment (docker-compose.yml), then runs Kamailio in the
# foreground with the PBX route, rtpengine and presence on. Registrations live in memory: after a restart
# a client is known again at its next refresh, which REGISTER_MAX_EXPIRES (60 s here) bounds.
set -eu
cat > /etc/kamailio/kamailio-local.cfg <<CFG
#!substdef "!WS_LISTEN!tcp:${KAMAILIO_IP}:8089!g"
#!substdef "!UDP_LISTEN!udp:${KAMAILIO_IP}:5060!g"
#!substdef "!SIP_DOMAIN!${SIP_DOMAIN}!g"
#!substdef "!AUTH_SECRET!${AUTH_SECRET}!g"
#!substdef "!RTPENGINE_SOCKET!udp:${RTPENGINE_IP}:22222!g"
#!substdef "!DISPATCHER_LIST!/etc/kamailio/dispatcher.list!g"
#!substdef "!REGISTER_MAX_EXPIRES!${REGISTER_MAX_EXPIRES:-60}!g"
#!substdef "!PRESENCE_DB!text:///var/lib/kamailio/presence!g"
#!substdef "!PRESENCE_SERVER!sip:${KAMAILIO_IP}:5060!g"
CFG
# Presence tables as db_text files, fresh at every start (subscriptions and documents are
# rebuilt by the clients' refreshes and the next registrations and calls).
mkdir -p /var/lib/kamailio/presence
for table in version presentity active_watchers watchers xcap pua; do
  cp /usr/share/kamailio/dbtext/kamailio/$table /var/lib/kamailio/presence/
done
echo "1 sip:${PBX_IP}:5060" > /etc/kamailio/dispatcher.list
FLAGS="-A WITH_PBX -A WITH_RTPENGINE -A WITH_PRESENCE"
# A cluster node (docs/kamailio-cluster.md): DMQ_PEERS is every node's IP (this one's included),
# DMQ_NOTIFY_IP the peer asked for the node list at start; all on port 5060.
if [ -n "${DMQ_PEERS:-}" ]; then
  peers=$(echo "$DMQ_PEERS" | tr ',' '\n' | sed 's/$/:5060/' | paste -sd, -)
  cat >> /etc/kamailio/kamailio-local.cfg <<CFG
#!substdef "!DMQ_SERVER_ADDRESS!sip:${KAMAILIO_IP}:5060!g"
#!substdef "!DMQ_NOTIFICATION_ADDRESS!sip:${DMQ_NOTIFY_IP}:5060!g"
#!substdef "!DMQ_PEERS!${peers}!g"
CFG
  FLAGS="$FLAGS -A WITH_DMQ"
fi
# Gateways in front (GATEWAYS: their upstream ip:port, comma-separated, in order of preference).
if [ -n "${GATEWAYS:-}" ]; then
  priority=100
  for gateway in $(echo "$GATEWAYS" | tr ',' ' '); do
    echo "2 sip:${gateway} 8 ${priority}" >> /etc/kamailio/dispatcher.list
    priority=$((priority - 1))
  done
  FLAGS="$FLAGS -A WITH_GATEWAYS"
fi
# HEP_URL=udp:<ip>:<port> (the gateway's own variable): every SIP message mirrored there as HEPv3.
if [ -n "${HEP_URL:-}" ]; then
  echo "#!substdef \"!HEP_DESTINATION!sip:${HEP_URL#udp:}!g\"" >> /etc/kamailio/kamailio-local.cfg
  FLAGS="$FLAGS -A WITH_HEP"
fi
# shellcheck disable=SC2086
exec kamailio -DD -E $FLAGS -m 256 -M 16 -f /etc/kamailio/kamailio.cfg
