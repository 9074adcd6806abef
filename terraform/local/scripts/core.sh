#!/bin/sh
# The lab's router namespace: it holds one bridge per segment and routes between them, so every
# zone-to-zone and region-to-region packet crosses this one place (where zone/region cuts go).
# usage: core.sh create|destroy   environment: LAB CORE
set -eu
case "$1" in
create)
  ip netns add "$CORE" 2>/dev/null || [ -e "/run/netns/$CORE" ]
  ip -n "$CORE" link set lo up
  nsenter --net="/run/netns/$CORE" sysctl -qw net.ipv4.ip_forward=1
  ;;
destroy)
  ip netns del "$CORE" 2>/dev/null || true
  ;;
esac
