//! Counting the open connections, by peer and in all, so that the accept loop can turn
//! away a connection over either cap (see `limits`). A connection holds a `Permit` for as
//! long as its socket is open, after a websocket upgrade too; dropping it gives its place
//! back.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, PoisonError};

/// Who a connection comes from, for counting: an IPv4 address, or the /64 an IPv6 address
/// is in, since one host commonly has a whole /64 to take addresses from. An IPv4 address
/// mapped into IPv6 (a dual-stack listener) counts as that IPv4 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Peer(IpAddr);

impl Peer {
    pub fn of(ip: IpAddr) -> Peer {
        match ip.to_canonical() {
            IpAddr::V6(v6) => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                Peer(IpAddr::V6(Ipv6Addr::from(prefix)))
            }
            v4 => Peer(v4),
        }
    }
}

/// Why a connection was turned away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Its peer holds as many as one peer may.
    PeerFull,
    /// All peers together hold as many as the server takes.
    ServerFull,
}

/// The open connections: how many each peer holds, and in all.
#[derive(Debug)]
pub struct Peers {
    per_peer: usize,
    total: usize,
    open: Mutex<Open>,
}

#[derive(Debug, Default)]
struct Open {
    by_peer: HashMap<Peer, usize>,
    total: usize,
}

/// One open connection's place in the count, given back when dropped.
#[derive(Debug)]
pub struct Permit {
    peers: Arc<Peers>,
    peer: Peer,
}

impl Peers {
    pub fn new(per_peer: usize, total: usize) -> Arc<Peers> {
        Arc::new(Peers { per_peer, total, open: Mutex::default() })
    }

    /// A place for one more connection from `ip`, unless that peer or the server is full.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Permit, Refusal> {
        let peer = Peer::of(ip);
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let held = open.by_peer.get(&peer).copied().unwrap_or(0);
        if held >= self.per_peer {
            return Err(Refusal::PeerFull);
        }
        if open.total >= self.total {
            return Err(Refusal::ServerFull);
        }
        open.by_peer.insert(peer, held + 1);
        open.total += 1;
        Ok(Permit { peers: self.clone(), peer })
    }

    fn release(&self, peer: Peer) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.total = open.total.saturating_sub(1);
        if let Some(held) = open.by_peer.get_mut(&peer) {
            *held -= 1;
            if *held == 0 {
                open.by_peer.remove(&peer);
            }
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.peers.release(self.peer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_peer_gets_its_share_and_no_more() {
        let peers = Peers::new(2, 10);
        let first = peers.admit(ip("127.0.0.2")).unwrap();
        let _second = peers.admit(ip("127.0.0.2")).unwrap();
        assert_eq!(peers.admit(ip("127.0.0.2")).unwrap_err(), Refusal::PeerFull);
        assert!(peers.admit(ip("127.0.0.3")).is_ok(), "another peer still gets in");
        drop(first);
        assert!(peers.admit(ip("127.0.0.2")).is_ok(), "a closed connection gives its place back");
    }

    #[test]
    fn all_peers_together_stop_at_the_total() {
        let peers = Peers::new(2, 3);
        let held: Vec<Permit> =
            ["10.0.0.1", "10.0.0.2", "10.0.0.3"].iter().map(|a| peers.admit(ip(a)).unwrap()).collect();
        assert_eq!(peers.admit(ip("10.0.0.4")).unwrap_err(), Refusal::ServerFull);
        assert_eq!(peers.open.lock().unwrap().total, 3);
        drop(held);
        assert_eq!(peers.open.lock().unwrap().total, 0);
        assert!(peers.open.lock().unwrap().by_peer.is_empty(), "no peer is remembered once it holds nothing");
    }

    #[test]
    fn an_ipv6_peer_is_its_64_and_a_mapped_ipv4_address_is_itself() {
        assert_eq!(Peer::of(ip("2001:db8:1:2::1")), Peer::of(ip("2001:db8:1:2:ffff::9")));
        assert_ne!(Peer::of(ip("2001:db8:1:2::1")), Peer::of(ip("2001:db8:1:3::1")));
        assert_eq!(Peer::of(ip("::ffff:192.0.2.7")), Peer::of(ip("192.0.2.7")));
        assert_ne!(Peer::of(ip("192.0.2.7")), Peer::of(ip("192.0.2.8")));
        let peers = Peers::new(1, 10);
        let _held = peers.admit(ip("2001:db8::1")).unwrap();
        assert_eq!(peers.admit(ip("2001:db8::2")).unwrap_err(), Refusal::PeerFull);
    }
}
