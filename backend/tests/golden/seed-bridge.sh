#!/bin/sh
# nslab lab seed-bridge, written as the iproute2 commands that build it.
# The seed article's bridge lab: bridge docker0 in the host with 172.17.0.1/16, and ns0, ns1, ns2 each plugged into it by a veth whose namespace end is eth0.
# usage: sh seed-bridge.sh up|down      (as root)
set -e
case "$1" in
up)
  ip netns add ns0
  ip -n ns0 link set dev lo up
  ip netns add ns1
  ip -n ns1 link set dev lo up
  ip netns add ns2
  ip -n ns2 link set dev lo up
  ip link add docker0 type bridge
  ip addr add 172.17.0.1/16 dev docker0
  ip link add veth0 type veth peer name eth0 netns ns0
  ip link set dev veth0 master docker0
  ip link set dev veth0 up
  ip -n ns0 link set dev eth0 up
  ip -n ns0 addr add 172.17.0.101/16 dev eth0
  ip link add veth2 type veth peer name eth0 netns ns1
  ip link set dev veth2 master docker0
  ip link set dev veth2 up
  ip -n ns1 link set dev eth0 up
  ip -n ns1 addr add 172.17.0.102/16 dev eth0
  ip link add veth4 type veth peer name eth0 netns ns2
  ip link set dev veth4 master docker0
  ip link set dev veth4 up
  ip -n ns2 link set dev eth0 up
  ip -n ns2 addr add 172.17.0.103/16 dev eth0
  ip link set dev docker0 up
  ;;
down)
  ip link delete veth0
  ip link delete veth2
  ip link delete veth4
  ip link delete docker0
  ip netns delete ns0
  ip netns delete ns1
  ip netns delete ns2
  ;;
*) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
