#!/bin/sh
# One L2 segment (a zone, or the client edge): a bridge inside the router namespace with the
# segment's router address on it.
# usage: segment.sh create|destroy LAB BRIDGE ROUTER_CIDR
set -eu
action=$1 lab=$2 bridge=$3 router=$4 ns="$2-core"
case "$action" in
create)
  ip -n "$ns" link show "$bridge" >/dev/null 2>&1 || ip -n "$ns" link add name "$bridge" type bridge
  # Fixed router MAC (02:4e + address bytes): hosts' ARP entries survive a re-created router.
  ip -n "$ns" link set "$bridge" address "$(printf '02:4e:%02x:%02x:%02x:%02x' $(echo "${router%/*}" | tr . ' '))"
  ip -n "$ns" addr replace "$router" dev "$bridge"
  ip -n "$ns" link set "$bridge" up
  ;;
destroy)
  [ -e "/run/netns/$ns" ] && ip -n "$ns" link del "$bridge" 2>/dev/null || true
  ;;
esac
