#!/bin/sh
# One lab host: its own network namespace, one veth into its segment's bridge in the router
# namespace, and a route to the lab network only (no default route: a reverse lookup of a lab address must never leave the lab).
# Each host also gets its own directory tree (its "disk": conf, data, log, run), because all
# namespaces share one filesystem; the client also gets /etc/netns/NETNS/ for its resolv.conf.
# A container host (the docker provider; CONTAINER names it) brings its own namespace, attached under
# NETNS by the provider before this runs; destroy then removes only the link (the provider removes the
# container, and its processes with it).
# usage: host.sh create|destroy
# environment: LAB CORE NETNS PORT BRIDGE ADDRESS_CIDR ROUTER LAB_NETWORK HOST_DIR ETC_NETNS [CONTAINER]
set -eu
action=$1 ns=$NETNS port=$PORT bridge=$BRIDGE addr=$ADDRESS_CIDR router=$ROUTER labnet=$LAB_NETWORK
hostdir=$HOST_DIR core=$CORE dev="$LAB-eth0" container=${CONTAINER:-}
# The MAC follows from the address (02:4e + the 4 address bytes): a host re-created after a crash or a
# repair keeps its MAC, so its neighbours' ARP caches stay right instead of black-holing it for ~10 s.
mac=$(printf '02:4e:%02x:%02x:%02x:%02x' $(echo "${addr%/*}" | tr . ' '))
case "$action" in
create)
  if [ -n "$container" ]; then
    [ -e "/run/netns/$ns" ] || { echo "host.sh: container $container's namespace is not attached as $ns" >&2; exit 1; }
  else
    ip netns add "$ns" 2>/dev/null || [ -e "/run/netns/$ns" ]
  fi
  # Recreate the link if either end is missing (repairing a half-broken lab).
  if ! ip -n "$ns" link show "$dev" >/dev/null 2>&1 || ! ip -n "$core" link show "$port" >/dev/null 2>&1; then
    ip -n "$ns" link del "$dev" 2>/dev/null || true
    ip -n "$core" link del "$port" 2>/dev/null || true
    ip link add name "$port" netns "$core" type veth peer name "$dev" netns "$ns"
  fi
  ip -n "$core" link set "$port" master "$bridge" up
  ip -n "$ns" link set lo up
  ip -n "$ns" link set "$dev" address "$mac"
  ip -n "$ns" addr replace "$addr" dev "$dev"
  ip -n "$ns" link set "$dev" up
  ip -n "$ns" route replace "$labnet" via "$router" dev "$dev"
  # A killed server answers port-unreachable; without this the ICMP rate limit makes every few
  # lookups stall instead, which turns a deterministic fault into a random one.
  nsenter --net="/run/netns/$ns" sysctl -qw net.ipv4.icmp_ratelimit=0
  mkdir -p -m 0700 "$hostdir" "$hostdir/conf" "$hostdir/data" "$hostdir/log" "$hostdir/run"
  if [ "$ETC_NETNS" = true ]; then mkdir -p "/etc/netns/$ns"; fi
  ;;
destroy)
  if [ -n "$container" ]; then
    ip -n "$core" link del "$port" 2>/dev/null || true
    exit 0
  fi
  ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "/etc/netns/$ns"
  ;;
esac
