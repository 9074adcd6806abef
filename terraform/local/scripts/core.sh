#!/bin/sh
# The lab's router namespace: it holds one bridge per segment and routes between them, so every
# zone-to-zone and region-to-region packet crosses this one place (where zone/region cuts go later).
# usage: core.sh create|destroy LAB
set -eu
action=$1 lab=$2 ns="$2-core"
case "$action" in
create)
  ip netns add "$ns" 2>/dev/null || [ -e "/run/netns/$ns" ]
  ip -n "$ns" link set lo up
  nsenter --net="/run/netns/$ns" sysctl -qw net.ipv4.ip_forward=1
  ;;
destroy)
  ip netns del "$ns" 2>/dev/null || true
  ;;
esac
