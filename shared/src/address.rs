//! Reading the address-like text of a lab: interface addresses, route destinations, MACs.
//! Errors are sentences, ready to be put behind a path.

use std::net::IpAddr;

use ipnet::IpNet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    #[serde(rename = "ipv4")]
    V4,
    #[serde(rename = "ipv6")]
    V6,
}

impl Family {
    pub fn of(address: &IpAddr) -> Family {
        match address {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        }
    }
}

/// An interface address with its prefix length: `10.0.1.2/24`.
pub fn parse_interface_address(text: &str) -> Result<IpNet, String> {
    if text.trim().is_empty() {
        return Err("the address is empty".to_string());
    }
    if let Ok(net) = text.parse::<IpNet>() {
        return Ok(net);
    }
    if text.parse::<IpAddr>().is_ok() {
        let example = if text.contains(':') { "/64" } else { "/24" };
        return Err(format!("`{text}` has no prefix length; write it like `{text}{example}`"));
    }
    if let Some((address, prefix)) = text.split_once('/') {
        if let Ok(ip) = address.parse::<IpAddr>() {
            let most = if ip.is_ipv4() { 32 } else { 128 };
            return Err(format!("`{text}` has prefix length `{prefix}`, which must be a number from 0 to {most}"));
        }
    }
    Err(format!("`{text}` is not an IPv4 or IPv6 address with a prefix length, like `10.0.0.1/24` or `fd00::1/64`"))
}

/// A gateway address: a plain address, no prefix.
pub fn parse_gateway(text: &str) -> Result<IpAddr, String> {
    text.parse::<IpAddr>()
        .map_err(|_| format!("`{text}` is not an IPv4 or IPv6 address (a gateway has no prefix length)"))
}

/// Where a route leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// `default`: the family comes from the gateway, IPv4 when there is none.
    Default,
    Prefix(IpNet),
}

pub fn parse_destination(text: &str) -> Result<Destination, String> {
    if text == "default" {
        return Ok(Destination::Default);
    }
    match text.parse::<IpNet>() {
        Ok(net) if net.trunc() == net => Ok(Destination::Prefix(net)),
        Ok(net) => {
            Err(format!("`{text}` has host bits set; a route destination is a network such as `{}`", net.trunc()))
        }
        Err(_) => {
            Err(format!("`{text}` is not a route destination; write `default` or a network such as `10.0.2.0/24`"))
        }
    }
}

/// A MAC address as `ip link` writes it: six pairs of hex digits joined by `:`.
pub fn parse_mac(text: &str) -> Result<[u8; 6], String> {
    let parts: Vec<&str> = text.split(':').collect();
    let bytes: Option<Vec<u8>> =
        (parts.len() == 6).then(|| parts.iter().map(|part| parse_hex_pair(part)).collect()).flatten();
    let Some(bytes) = bytes else {
        return Err(format!("`{text}` is not a MAC address; write six pairs of hex digits, like `02:00:00:00:00:01`"));
    };
    let mac = [bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5]];
    if mac[0] & 1 == 1 {
        return Err(format!(
            "`{text}` is a multicast MAC address (the lowest bit of its first byte is set); an interface needs a unicast one, like `02:00:00:00:00:01`"
        ));
    }
    if mac == [0; 6] {
        return Err("`00:00:00:00:00:00` cannot be an interface's MAC address".to_string());
    }
    Ok(mac)
}

fn parse_hex_pair(part: &str) -> Option<u8> {
    (part.len() == 2).then(|| u8::from_str_radix(part, 16).ok()).flatten()
}

/// Link-local (169.254.0.0/16, fe80::/10): the kernel makes these itself, and they reach
/// only the link they are on.
pub fn is_link_local(addr: &IpAddr) -> bool {
    match addr {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_addresses_need_a_prefix() {
        assert_eq!(parse_interface_address("10.0.1.2/24").unwrap().to_string(), "10.0.1.2/24");
        assert_eq!(parse_interface_address("fd00:1::2/64").unwrap().prefix_len(), 64);
        assert!(parse_interface_address("10.0.1.2").unwrap_err().contains("no prefix length"));
        assert!(parse_interface_address("10.0.1.2/33").unwrap_err().contains("0 to 32"));
        assert!(parse_interface_address("10.0.1/24").unwrap_err().contains("not an IPv4"));
        assert!(parse_interface_address("").unwrap_err().contains("empty"));
    }

    #[test]
    fn destinations_are_networks_or_default() {
        assert_eq!(parse_destination("default"), Ok(Destination::Default));
        assert!(matches!(parse_destination("10.0.2.0/24"), Ok(Destination::Prefix(_))));
        assert!(parse_destination("10.0.2.1/24").unwrap_err().contains("10.0.2.0/24"));
        assert!(parse_destination("somewhere").is_err());
    }

    #[test]
    fn macs_are_unicast_and_well_formed() {
        assert_eq!(parse_mac("02:00:00:00:00:0a"), Ok([2, 0, 0, 0, 0, 10]));
        assert!(parse_mac("01:00:5e:00:00:01").unwrap_err().contains("multicast"));
        assert!(parse_mac("02:00:00:00:00").is_err());
        assert!(parse_mac("02-00-00-00-00-01").is_err());
        assert!(parse_mac("00:00:00:00:00:00").is_err());
    }
}
