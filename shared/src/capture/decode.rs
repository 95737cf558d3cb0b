//! Reading a raw Ethernet frame into a `CapturedPacket`, with etherparse (0.19): it slices
//! the headers (Ethernet, VLAN, ARP, IPv4/IPv6 with their extension headers, ICMP,
//! ICMPv6, TCP, UDP) and never panics on what it is given; what it cannot read is shown
//! by its EtherType or IP protocol number.

use std::fmt::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::{
    ArpOperation, EtherType, Icmpv4Slice, Icmpv4Type, Icmpv6Slice, Icmpv6Type, LinkSlice, NetSlice, SlicedPacket,
    TcpSlice, TransportSlice,
};

use super::packet::{mac_text, CapturedPacket, Direction, PacketFields, Protocol};

/// Decodes `frame` (from its Ethernet header on) as taken at `time_us` going `direction`.
/// `length` is the frame's length on the wire, which may exceed what was read.
pub fn decode(frame: &[u8], length: u32, direction: Direction, time_us: u64) -> CapturedPacket {
    let mut fields = PacketFields::default();
    if frame.len() >= 14 {
        fields.eth_dst = mac_text(&frame[0..6]);
        fields.eth_src = mac_text(&frame[6..12]);
        fields.ethertype = u16::from_be_bytes([frame[12], frame[13]]);
    }
    let (protocol, summary) = match SlicedPacket::from_ethernet(frame) {
        Ok(sliced) => describe(&sliced, &mut fields, length),
        // A frame cut short or broken inside: say what layer is there.
        Err(error) => (Protocol::Other, format!("{}, length {length}: {error}", ether_name(fields.ethertype))),
    };
    CapturedPacket { seq: 0, port: None, time_us, direction, length, protocol, summary, fields }
}

fn describe(sliced: &SlicedPacket, fields: &mut PacketFields, length: u32) -> (Protocol, String) {
    if let Some(LinkSlice::Ethernet2(ethernet)) = &sliced.link {
        fields.ethertype = ethernet.ether_type().0;
    }
    match &sliced.net {
        Some(NetSlice::Arp(arp)) => describe_arp(arp, fields, length),
        Some(NetSlice::Ipv4(ip)) => {
            let header = ip.header();
            let (src, dst) = (IpAddr::V4(header.source_addr()), IpAddr::V4(header.destination_addr()));
            describe_ip("IP", src, dst, ip.payload().ip_number.0, sliced.transport.as_ref(), fields, length)
        }
        Some(NetSlice::Ipv6(ip)) => {
            let header = ip.header();
            let (src, dst) = (IpAddr::V6(header.source_addr()), IpAddr::V6(header.destination_addr()));
            describe_ip("IP6", src, dst, ip.payload().ip_number.0, sliced.transport.as_ref(), fields, length)
        }
        None => (Protocol::Other, format!("{}, length {length}", ether_name(fields.ethertype))),
    }
}

fn describe_arp(arp: &etherparse::ArpPacketSlice, fields: &mut PacketFields, length: u32) -> (Protocol, String) {
    let address =
        |bytes: &[u8]| -> Option<IpAddr> { Some(IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(bytes).ok()?))) };
    fields.src = address(arp.sender_protocol_addr());
    fields.dst = address(arp.target_protocol_addr());
    fields.arp_sender_mac = Some(mac_text(arp.sender_hw_addr()));
    let show = |ip: Option<IpAddr>| ip.map_or_else(|| "?".to_string(), |ip| ip.to_string());
    let summary = match arp.operation() {
        ArpOperation::REQUEST => {
            fields.arp = Some("request".into());
            format!("ARP, Request who-has {} tell {}, length {length}", show(fields.dst), show(fields.src))
        }
        ArpOperation::REPLY => {
            fields.arp = Some("reply".into());
            format!("ARP, Reply {} is-at {}, length {length}", show(fields.src), mac_text(arp.sender_hw_addr()))
        }
        other => {
            fields.arp = Some(format!("operation {}", other.0));
            format!("ARP, operation {}, length {length}", other.0)
        }
    };
    (Protocol::Arp, summary)
}

fn describe_ip(
    family: &str,
    src: IpAddr,
    dst: IpAddr,
    ip_number: u8,
    transport: Option<&TransportSlice>,
    fields: &mut PacketFields,
    length: u32,
) -> (Protocol, String) {
    fields.src = Some(src);
    fields.dst = Some(dst);
    let (protocol, what) = match transport {
        Some(TransportSlice::Icmpv4(icmp)) => (Protocol::Icmp, describe_icmpv4(icmp, fields)),
        Some(TransportSlice::Icmpv6(icmp)) => (Protocol::Icmp, describe_icmpv6(icmp, fields)),
        Some(TransportSlice::Tcp(tcp)) => {
            fields.src_port = Some(tcp.source_port());
            fields.dst_port = Some(tcp.destination_port());
            let flags = tcp_flags(tcp);
            let what = format!("Flags [{flags}], seq {}, win {}", tcp.sequence_number(), tcp.window_size());
            fields.tcp_flags = Some(flags);
            (Protocol::Tcp, what)
        }
        Some(TransportSlice::Udp(udp)) => {
            fields.src_port = Some(udp.source_port());
            fields.dst_port = Some(udp.destination_port());
            (Protocol::Udp, "UDP".to_string())
        }
        None if ip_number == 2 => (Protocol::Other, "IGMP".to_string()),
        None => (Protocol::Other, format!("ip-proto-{ip_number}")),
    };
    let ends = match (fields.src_port, fields.dst_port) {
        (Some(from), Some(to)) => format!("{} > {}", with_port(src, from), with_port(dst, to)),
        _ => format!("{src} > {dst}"),
    };
    (protocol, format!("{family} {ends}: {what}, length {length}"))
}

/// tcpdump's `10.0.0.1.80` and `fd00::1.80`.
fn with_port(address: IpAddr, port: u16) -> String {
    format!("{address}.{port}")
}

fn describe_icmpv4(icmp: &Icmpv4Slice, fields: &mut PacketFields) -> String {
    fields.icmp_type = Some(icmp.type_u8());
    fields.icmp_code = Some(icmp.code_u8());
    let name = match icmp.icmp_type() {
        Icmpv4Type::EchoRequest(echo) => echo_name("echo request", echo, fields),
        Icmpv4Type::EchoReply(echo) => echo_name("echo reply", echo, fields),
        Icmpv4Type::DestinationUnreachable(_) => "destination unreachable".to_string(),
        Icmpv4Type::TimeExceeded(_) => "time exceeded".to_string(),
        Icmpv4Type::Redirect(_) => "redirect".to_string(),
        _ => format!("type {}", icmp.type_u8()),
    };
    let summary = format!("ICMP {name}");
    fields.icmp = Some(strip_echo_ids(&name));
    summary
}

fn describe_icmpv6(icmp: &Icmpv6Slice, fields: &mut PacketFields) -> String {
    fields.icmp_type = Some(icmp.type_u8());
    fields.icmp_code = Some(icmp.code_u8());
    let target = || -> Option<IpAddr> {
        let bytes: [u8; 16] = icmp.payload().get(..16)?.try_into().ok()?;
        Some(IpAddr::V6(Ipv6Addr::from(bytes)))
    };
    let name = match icmp.icmp_type() {
        Icmpv6Type::EchoRequest(echo) => echo_name("echo request", echo, fields),
        Icmpv6Type::EchoReply(echo) => echo_name("echo reply", echo, fields),
        Icmpv6Type::NeighborSolicitation => {
            fields.nd_target = target();
            format!("neighbor solicitation, who has {}", show(fields.nd_target))
        }
        Icmpv6Type::NeighborAdvertisement(_) => {
            fields.nd_target = target();
            format!("neighbor advertisement, tgt is {}", show(fields.nd_target))
        }
        Icmpv6Type::RouterSolicitation => "router solicitation".to_string(),
        Icmpv6Type::RouterAdvertisement(_) => "router advertisement".to_string(),
        Icmpv6Type::DestinationUnreachable(_) => "destination unreachable".to_string(),
        Icmpv6Type::PacketTooBig { .. } => "packet too big".to_string(),
        Icmpv6Type::TimeExceeded(_) => "time exceeded".to_string(),
        // What etherparse leaves unread (a solicitation with options it does not take).
        _ => match icmp.type_u8() {
            133 => "router solicitation".to_string(),
            134 => "router advertisement".to_string(),
            137 => "redirect".to_string(),
            143 => "multicast listener report v2".to_string(),
            other => format!("type {other}"),
        },
    };
    let summary = format!("ICMP6 {name}");
    fields.icmp = Some(strip_echo_ids(&name));
    summary
}

fn show(address: Option<IpAddr>) -> String {
    address.map_or_else(|| "?".to_string(), |address| address.to_string())
}

fn echo_name(name: &str, echo: etherparse::IcmpEchoHeader, fields: &mut PacketFields) -> String {
    fields.echo_id = Some(echo.id);
    fields.echo_seq = Some(echo.seq);
    format!("{name}, id {}, seq {}", echo.id, echo.seq)
}

/// The message's name alone: `echo request`, `neighbor solicitation`.
fn strip_echo_ids(name: &str) -> String {
    name.split(',').next().unwrap_or(name).to_string()
}

fn tcp_flags(tcp: &TcpSlice) -> String {
    let mut flags = String::new();
    for (set, letter) in [
        (tcp.syn(), 'S'),
        (tcp.fin(), 'F'),
        (tcp.rst(), 'R'),
        (tcp.psh(), 'P'),
        (tcp.urg(), 'U'),
        (tcp.ece(), 'E'),
        (tcp.cwr(), 'W'),
        (tcp.ack(), '.'),
    ] {
        if set {
            flags.push(letter);
        }
    }
    if flags.is_empty() {
        flags.push_str("none");
    }
    flags
}

fn ether_name(ethertype: u16) -> String {
    match EtherType(ethertype) {
        EtherType::IPV4 => "IP".to_string(),
        EtherType::IPV6 => "IP6".to_string(),
        EtherType::ARP => "ARP".to_string(),
        EtherType::VLAN_TAGGED_FRAME => "802.1Q".to_string(),
        _ => {
            let mut name = String::new();
            let _ = write!(name, "ethertype 0x{ethertype:04x}");
            name
        }
    }
}

#[cfg(test)]
mod tests {
    use etherparse::{ArpHardwareId, ArpPacket, PacketBuilder};

    use super::*;

    const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0a];
    const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0b];

    fn frame(build: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut bytes = Vec::new();
        build(&mut bytes);
        bytes
    }

    fn decoded(bytes: &[u8]) -> CapturedPacket {
        decode(bytes, bytes.len() as u32, Direction::Out, 1_700_000_000_000_000)
    }

    #[test]
    fn an_icmp_echo_request_reads_like_tcpdump() {
        let bytes = frame(|out| {
            PacketBuilder::ethernet2(MAC_A, MAC_B)
                .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
                .icmpv4_echo_request(7, 3)
                .write(out, &[0; 56])
                .unwrap()
        });
        let packet = decoded(&bytes);
        assert_eq!(packet.summary, "IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 7, seq 3, length 98");
        assert_eq!(packet.protocol, Protocol::Icmp);
        assert_eq!(packet.length, 98);
        assert_eq!(packet.fields.eth_src, "02:00:00:00:00:0a");
        assert_eq!(packet.fields.eth_dst, "02:00:00:00:00:0b");
        assert_eq!(packet.fields.icmp.as_deref(), Some("echo request"));
        assert_eq!((packet.fields.echo_id, packet.fields.echo_seq), (Some(7), Some(3)));
        assert_eq!((packet.fields.icmp_type, packet.fields.icmp_code), (Some(8), Some(0)));
    }

    #[test]
    fn an_echo_reply_and_its_direction() {
        let bytes = frame(|out| {
            PacketBuilder::ethernet2(MAC_B, MAC_A)
                .ipv4([10, 0, 0, 2], [10, 0, 0, 1], 64)
                .icmpv4_echo_reply(7, 3)
                .write(out, &[])
                .unwrap()
        });
        let packet = decode(&bytes, 60, Direction::In, 0);
        assert_eq!(packet.summary, "IP 10.0.0.2 > 10.0.0.1: ICMP echo reply, id 7, seq 3, length 60");
        assert_eq!(packet.direction, Direction::In);
    }

    fn arp(operation: ArpOperation, sender: ([u8; 6], [u8; 4]), target: ([u8; 6], [u8; 4])) -> Vec<u8> {
        let packet = ArpPacket::new(
            ArpHardwareId::ETHERNET,
            EtherType::IPV4,
            operation,
            &sender.0,
            &sender.1,
            &target.0,
            &target.1,
        )
        .unwrap();
        let destination = if operation == ArpOperation::REQUEST { [0xff; 6] } else { target.0 };
        frame(|out| PacketBuilder::ethernet2(sender.0, destination).arp(packet).write(out).unwrap())
    }

    #[test]
    fn arp_who_has_and_is_at() {
        let request = decoded(&arp(ArpOperation::REQUEST, (MAC_A, [10, 0, 0, 1]), ([0; 6], [10, 0, 0, 2])));
        assert_eq!(request.summary, "ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 42");
        assert_eq!(request.protocol, Protocol::Arp);
        assert_eq!(request.fields.eth_dst, "ff:ff:ff:ff:ff:ff");
        assert_eq!(request.fields.arp.as_deref(), Some("request"));
        let reply = decoded(&arp(ArpOperation::REPLY, (MAC_B, [10, 0, 0, 2]), (MAC_A, [10, 0, 0, 1])));
        assert_eq!(reply.summary, "ARP, Reply 10.0.0.2 is-at 02:00:00:00:00:0b, length 42");
        assert_eq!(reply.fields.src, Some("10.0.0.2".parse().unwrap()));
        assert_eq!(reply.fields.arp_sender_mac.as_deref(), Some("02:00:00:00:00:0b"));
    }

    #[test]
    fn icmpv6_echo_and_neighbour_discovery() {
        let (a, b): (Ipv6Addr, Ipv6Addr) = ("fd00::1".parse().unwrap(), "fd00::2".parse().unwrap());
        let echo = frame(|out| {
            PacketBuilder::ethernet2(MAC_A, MAC_B)
                .ipv6(a.octets(), b.octets(), 64)
                .icmpv6_echo_request(9, 1)
                .write(out, &[1, 2, 3])
                .unwrap()
        });
        let packet = decoded(&echo);
        assert!(
            packet.summary.starts_with("IP6 fd00::1 > fd00::2: ICMP6 echo request, id 9, seq 1"),
            "{}",
            packet.summary
        );
        let solicit = frame(|out| {
            PacketBuilder::ethernet2(MAC_A, [0x33, 0x33, 0xff, 0, 0, 2])
                .ipv6(a.octets(), "ff02::1:ff00:2".parse::<Ipv6Addr>().unwrap().octets(), 255)
                .icmpv6(Icmpv6Type::NeighborSolicitation)
                .write(out, &b.octets())
                .unwrap()
        });
        let packet = decoded(&solicit);
        assert!(packet.summary.contains("ICMP6 neighbor solicitation, who has fd00::2"), "{}", packet.summary);
        assert_eq!(packet.fields.nd_target, Some(IpAddr::V6(b)));
        assert_eq!(packet.protocol, Protocol::Icmp);
    }

    #[test]
    fn tcp_ports_and_flags_and_udp_ports() {
        let syn = frame(|out| {
            PacketBuilder::ethernet2(MAC_A, MAC_B)
                .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
                .tcp(40000, 80, 1000, 64240)
                .syn()
                .write(out, &[])
                .unwrap()
        });
        let packet = decoded(&syn);
        assert_eq!(packet.summary, "IP 10.0.0.1.40000 > 10.0.0.2.80: Flags [S], seq 1000, win 64240, length 54");
        assert_eq!((packet.fields.src_port, packet.fields.dst_port), (Some(40000), Some(80)));
        assert_eq!(packet.protocol, Protocol::Tcp);
        let synack = frame(|out| {
            PacketBuilder::ethernet2(MAC_B, MAC_A)
                .ipv4([10, 0, 0, 2], [10, 0, 0, 1], 64)
                .tcp(80, 40000, 5, 64240)
                .syn()
                .ack(1001)
                .write(out, &[])
                .unwrap()
        });
        assert_eq!(decoded(&synack).fields.tcp_flags.as_deref(), Some("S."));
        let dns = frame(|out| {
            PacketBuilder::ethernet2(MAC_A, MAC_B)
                .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
                .udp(5353, 53)
                .write(out, &[0; 12])
                .unwrap()
        });
        let packet = decoded(&dns);
        assert_eq!(packet.summary, "IP 10.0.0.1.5353 > 10.0.0.2.53: UDP, length 54");
        assert_eq!(packet.protocol, Protocol::Udp);
    }

    #[test]
    fn short_and_unknown_frames_are_described_not_refused() {
        let mut lldp = frame(|out| out.extend_from_slice(&[0x01, 0x80, 0xc2, 0, 0, 0x0e]));
        lldp.extend_from_slice(&MAC_A);
        lldp.extend_from_slice(&[0x88, 0xcc, 1, 2, 3]);
        let packet = decoded(&lldp);
        assert_eq!(packet.summary, "ethertype 0x88cc, length 17");
        assert_eq!(packet.protocol, Protocol::Other);
        let cut = decoded(&lldp[..12]);
        assert_eq!(cut.protocol, Protocol::Other);
        assert!(cut.summary.contains("length 12"), "{}", cut.summary);
        let mut broken_ip = lldp[..12].to_vec();
        broken_ip.extend_from_slice(&[0x08, 0x00, 0x45, 0]);
        assert!(decoded(&broken_ip).summary.starts_with("IP, length 16: "), "{}", decoded(&broken_ip).summary);
        assert_eq!(decoded(&[]).protocol, Protocol::Other);
    }
}
