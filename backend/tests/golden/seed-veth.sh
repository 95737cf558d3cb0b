#!/bin/sh
# nslab lab seed-veth, written as the iproute2 commands that build it.
# The seed article's first lab: two namespaces joined by one veth pair.
# usage: sh seed-veth.sh up|down      (as root)
set -e
case "$1" in
up)
  ip netns add ns0
  ip -n ns0 link set dev lo up
  ip netns add ns1
  ip -n ns1 link set dev lo up
  ip link add veth0 netns ns0 type veth peer name veth1 netns ns1
  ip -n ns0 link set dev veth0 up
  ip -n ns1 link set dev veth1 up
  ip -n ns0 addr add 192.168.1.1/24 dev veth0
  ip -n ns1 addr add 192.168.1.2/24 dev veth1
  ;;
down)
  ip netns delete ns0
  ip netns delete ns1
  ;;
*) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
