//! Netlink attributes as the plain values the readings of the kernel keep.

use std::net::IpAddr;

use rtnetlink::packet_route::route::RouteAddress;

/// A hardware address as `ip link` prints it (`02:00:00:00:00:01`).
pub fn format_mac(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect::<Vec<_>>().join(":")
}

/// A route's address attribute (destination, gateway, source), when it is IPv4 or IPv6.
pub fn route_ip(address: &RouteAddress) -> Option<IpAddr> {
    match address {
        RouteAddress::Inet(v4) => Some(IpAddr::V4(*v4)),
        RouteAddress::Inet6(v6) => Some(IpAddr::V6(*v6)),
        _ => None,
    }
}
