//! IPv4 and IPv6 forwarding read through netlink (RTM_GETNETCONF, what `ip netconf` shows)
//! instead of /proc/sys. Opening /proc/sys/net/ipv4/ip_forward walks a dentry chain with
//! one entry per namespace on the machine, so with hundreds of namespaces the path lookups
//! alone were a quarter of an observe. netlink-packet-route has no netconf messages, so
//! this speaks the few bytes it needs itself, on a plain netlink socket.

use std::io;

use netlink_sys::protocols::NETLINK_ROUTE;
use netlink_sys::Socket;

const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const RTM_NEWNETCONF: u16 = 80;
const RTM_GETNETCONF: u16 = 82;
const NLM_F_REQUEST: u16 = 1;
const NETCONFA_IFINDEX: u16 = 1;
const NETCONFA_FORWARDING: u16 = 2;
/// The ifindex that stands for `all` (net.ipv4.conf.all, net.ipv6.conf.all).
const NETCONFA_IFINDEX_ALL: i32 = -1;
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;
const HEADER: usize = 16;

/// A netlink socket of one namespace (made while the thread is in it), for netconf reads.
pub struct NetconfSocket {
    socket: Socket,
}

impl NetconfSocket {
    pub fn open() -> io::Result<Self> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        Ok(NetconfSocket { socket })
    }

    /// (IPv4, IPv6) forwarding of the namespace. The kernel answers inside the send, so the
    /// receive never waits.
    pub fn forwarding(&self) -> io::Result<(bool, bool)> {
        Ok((self.read(AF_INET)?, self.read(AF_INET6)?))
    }

    fn read(&self, family: u8) -> io::Result<bool> {
        self.socket.send(&request(family), 0)?;
        let (answer, _) = self.socket.recv_from_full()?;
        parse_forwarding(&answer)
    }
}

/// RTM_GETNETCONF for `all` of one family: header, netconfmsg (padded), NETCONFA_IFINDEX.
fn request(family: u8) -> Vec<u8> {
    let length: u32 = (HEADER + 4 + 8) as u32;
    let mut message = Vec::with_capacity(length as usize);
    message.extend_from_slice(&length.to_ne_bytes());
    message.extend_from_slice(&RTM_GETNETCONF.to_ne_bytes());
    message.extend_from_slice(&NLM_F_REQUEST.to_ne_bytes());
    message.extend_from_slice(&1u32.to_ne_bytes());
    message.extend_from_slice(&0u32.to_ne_bytes());
    message.extend_from_slice(&[family, 0, 0, 0]);
    message.extend_from_slice(&8u16.to_ne_bytes());
    message.extend_from_slice(&NETCONFA_IFINDEX.to_ne_bytes());
    message.extend_from_slice(&NETCONFA_IFINDEX_ALL.to_ne_bytes());
    message
}

fn parse_forwarding(answer: &[u8]) -> io::Result<bool> {
    let mut offset = 0;
    while offset + HEADER <= answer.len() {
        let length = u32_at(answer, offset) as usize;
        let kind = u16::from_ne_bytes([answer[offset + 4], answer[offset + 5]]);
        if length < HEADER || offset + length > answer.len() {
            break;
        }
        match kind {
            NLMSG_ERROR => {
                let code =
                    i32::from_ne_bytes(answer[offset + HEADER..offset + HEADER + 4].try_into().expect("4 bytes"));
                return Err(io::Error::from_raw_os_error(-code));
            }
            NLMSG_DONE => break,
            RTM_NEWNETCONF => {
                if let Some(value) = attribute(&answer[offset + HEADER + 4..offset + length], NETCONFA_FORWARDING) {
                    return Ok(value != 0);
                }
            }
            _ => {}
        }
        offset += align(length);
    }
    Err(io::Error::new(io::ErrorKind::InvalidData, "the kernel sent no forwarding setting"))
}

/// The u32 value of attribute `wanted` in a run of netlink attributes.
fn attribute(mut attributes: &[u8], wanted: u16) -> Option<u32> {
    while attributes.len() >= 4 {
        let length = u16::from_ne_bytes([attributes[0], attributes[1]]) as usize;
        let kind = u16::from_ne_bytes([attributes[2], attributes[3]]);
        if length < 4 || length > attributes.len() {
            return None;
        }
        if kind == wanted && length >= 8 {
            return Some(u32_at(attributes, 4));
        }
        attributes = &attributes[align(length).min(attributes.len())..];
    }
    None
}

fn u32_at(bytes: &[u8], offset: usize) -> u32 {
    u32::from_ne_bytes(bytes[offset..offset + 4].try_into().expect("4 bytes"))
}

fn align(length: usize) -> usize {
    (length + 3) & !3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_forwarding_in_an_answer() {
        // RTM_NEWNETCONF: header, netconfmsg, IFINDEX = -1, FORWARDING = 1.
        let mut answer = Vec::new();
        answer.extend_from_slice(&36u32.to_ne_bytes());
        answer.extend_from_slice(&RTM_NEWNETCONF.to_ne_bytes());
        answer.extend_from_slice(&[0; 10]);
        answer.extend_from_slice(&[AF_INET, 0, 0, 0]);
        answer.extend_from_slice(&8u16.to_ne_bytes());
        answer.extend_from_slice(&NETCONFA_IFINDEX.to_ne_bytes());
        answer.extend_from_slice(&(-1i32).to_ne_bytes());
        answer.extend_from_slice(&8u16.to_ne_bytes());
        answer.extend_from_slice(&NETCONFA_FORWARDING.to_ne_bytes());
        answer.extend_from_slice(&1u32.to_ne_bytes());
        assert!(parse_forwarding(&answer).unwrap());
        assert_eq!(request(AF_INET6).len(), 28);
    }

    #[test]
    fn an_error_answer_is_an_error() {
        let mut answer = Vec::new();
        answer.extend_from_slice(&36u32.to_ne_bytes());
        answer.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
        answer.extend_from_slice(&[0; 10]);
        answer.extend_from_slice(&(-22i32).to_ne_bytes());
        answer.extend_from_slice(&[0; 16]);
        assert_eq!(parse_forwarding(&answer).unwrap_err().raw_os_error(), Some(22));
    }
}
