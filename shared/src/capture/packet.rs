//! One captured packet as the capture websocket sends it: a summary line like tcpdump's
//! and the fields it was made from.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// Which way a packet crossed the interface, as the packet socket tells: `out` when the
/// interface sent it (PACKET_OUTGOING), `in` for everything it received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    In,
    Out,
}

/// The protocol a packet is shown as (its dot's colour on the canvas).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    Arp,
    /// ICMP and ICMPv6 (neighbour discovery included).
    Icmp,
    Tcp,
    Udp,
    Other,
}

/// What the decoder read of a frame; a field is absent when the frame has no such layer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PacketFields {
    /// Ethernet source and destination, `aa:bb:cc:dd:ee:ff`.
    pub eth_src: String,
    pub eth_dst: String,
    /// The EtherType, e.g. 2054 (0x0806) for ARP.
    pub ethertype: u16,
    /// IPv4 or IPv6 source and destination; for ARP the sender's and target's addresses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dst: Option<IpAddr>,
    /// ARP: `request` (who-has) or `reply` (is-at), with the sender's hardware address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arp_sender_mac: Option<String>,
    /// ICMP or ICMPv6: the message's name (`echo request`, `neighbor solicitation`, ...),
    /// its type and code numbers, an echo's identifier and sequence number, and the target
    /// address of a neighbour solicitation or advertisement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icmp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icmp_type: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icmp_code: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub echo_id: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub echo_seq: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nd_target: Option<IpAddr>,
    /// TCP or UDP ports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dst_port: Option<u16>,
    /// TCP flags as tcpdump writes them: `S` SYN, `F` FIN, `R` RST, `P` PSH, `U` URG,
    /// `E` ECE, `W` CWR, `.` ACK (`S.` is a SYN-ACK).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_flags: Option<String>,
}

/// One packet of a capture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapturedPacket {
    /// The server's number for this packet: rising, and never given twice while the server
    /// runs (one count for all its captures), so that the panel can name the packets it
    /// holds when it downloads them (`capture.pcapng?held=FIRST-LAST`).
    #[serde(default)]
    pub seq: u64,
    /// On a bridge's capture, the port (a veth end plugged into the bridge) the packet was
    /// seen on; its direction is the port's: `in` into the bridge, `out` from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    /// When the kernel took it, in microseconds since the Unix epoch.
    pub time_us: u64,
    pub direction: Direction,
    /// The frame's length in bytes, Ethernet header included.
    pub length: u32,
    pub protocol: Protocol,
    /// One line, as tcpdump would print it: `IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 7, seq 1, length 64`.
    pub summary: String,
    pub fields: PacketFields,
}

/// One text message of the capture websocket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaptureMessage {
    /// `{"packet": {...}}`
    Packet(Box<CapturedPacket>),
    /// `{"missed": N}`: this client read too slowly and N packets were not sent to it.
    Missed(u64),
    /// `{"dropped": N}`: the kernel dropped N packets at the socket (its buffer was full)
    /// since the last such message; every viewer of the capture hears it.
    Dropped(u64),
}

/// `aa:bb:cc:dd:ee:ff`
pub fn mac_text(mac: &[u8]) -> String {
    let mut text = String::with_capacity(17);
    for (index, byte) in mac.iter().enumerate() {
        if index > 0 {
            text.push(':');
        }
        text.push_str(&format!("{byte:02x}"));
    }
    text
}

/// What the editor keeps of a packet message: its line (the fields are left unread).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PacketLine {
    #[serde(default)]
    pub seq: u64,
    #[serde(default)]
    pub port: Option<String>,
    pub time_us: u64,
    pub direction: Direction,
    pub length: u32,
    pub protocol: Protocol,
    pub summary: String,
}

/// `CaptureMessage` as the editor reads it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaptureLineMessage {
    Packet(PacketLine),
    Missed(u64),
    Dropped(u64),
}
