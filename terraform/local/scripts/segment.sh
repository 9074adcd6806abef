#!/bin/sh
# One L2 segment (a zone, or the client edge): a bridge inside the router namespace with the
# segment's router address on it.
# usage: segment.sh create|destroy   environment: LAB CORE BRIDGE ROUTER_CIDR
set -eu
case "$1" in
create)
  ip -n "$CORE" link show "$BRIDGE" >/dev/null 2>&1 || ip -n "$CORE" link add name "$BRIDGE" type bridge
  # Fixed router MAC (02:4e + address bytes): hosts' ARP entries survive a re-created router.
  ip -n "$CORE" link set "$BRIDGE" address "$(printf '02:4e:%02x:%02x:%02x:%02x' $(echo "${ROUTER_CIDR%/*}" | tr . ' '))"
  ip -n "$CORE" addr replace "$ROUTER_CIDR" dev "$BRIDGE"
  ip -n "$CORE" link set "$BRIDGE" up
  ;;
destroy)
  [ -e "/run/netns/$CORE" ] && ip -n "$CORE" link del "$BRIDGE" 2>/dev/null || true
  ;;
esac
