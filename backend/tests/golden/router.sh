#!/bin/sh
# nslab lab router, written as the iproute2 commands that build it.
# Two subnets joined by a router namespace: left (10.0.1.0/24) -- router -- right (10.0.2.0/24), forwarding on in the router, default routes in the end hosts, IPv6 on the same links.
# usage: sh router.sh up|down      (as root)
set -e
case "$1" in
up)
  ip netns add left
  ip -n left link set dev lo up
  ip netns add router
  ip -n router link set dev lo up
  ip netns add right
  ip -n right link set dev lo up
  ip netns exec router sysctl -qw net.ipv4.ip_forward=1
  ip netns exec router sysctl -qw net.ipv6.conf.all.forwarding=1
  ip link add l-eth0 netns left type veth peer name r-eth0 netns router
  ip -n left link set dev l-eth0 up
  ip -n router link set dev r-eth0 up
  ip -n left addr add 10.0.1.2/24 dev l-eth0
  ip -n left addr add fd00:1::2/64 dev l-eth0 nodad
  ip -n router addr add 10.0.1.1/24 dev r-eth0
  ip -n router addr add fd00:1::1/64 dev r-eth0 nodad
  ip link add r-eth1 netns router type veth peer name x-eth0 netns right
  ip -n router link set dev r-eth1 up
  ip -n right link set dev x-eth0 up
  ip -n router addr add 10.0.2.1/24 dev r-eth1
  ip -n router addr add fd00:2::1/64 dev r-eth1 nodad
  ip -n right addr add 10.0.2.2/24 dev x-eth0
  ip -n right addr add fd00:2::2/64 dev x-eth0 nodad
  ip -n left route add default via 10.0.1.1
  ip -n left -6 route add default via fd00:1::1
  ip -n right route add default via 10.0.2.1
  ip -n right -6 route add default via fd00:2::1
  ;;
down)
  ip netns delete left
  ip netns delete router
  ip netns delete right
  ;;
*) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
