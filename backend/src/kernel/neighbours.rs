//! Clearing what a namespace's neighbour tables learned (ARP and NDP entries), so that a
//! reachability matrix probed in waves stays under the kernel's limit on entries, which all
//! namespaces share (see `nslab_model::neighbours`). What someone set by hand (permanent
//! and noarp entries, externally learned ones) stays; the host's own tables are never
//! touched.

use std::io;

use nslab_model::identity::Netns;
use rtnetlink::packet_core::{NLM_F_ACK, NLM_F_DUMP};
use rtnetlink::packet_route::neighbour::{NeighbourAttribute, NeighbourFlags, NeighbourMessage, NeighbourState};
use rtnetlink::packet_route::{AddressFamily, RouteNetlinkMessage};

use super::error::KernelError;
use super::reading::ReadingSocket;
use super::Kernel;

impl Kernel {
    /// Deletes the learned neighbour entries of the named namespace `netns`; returns how
    /// many. Nothing for the host.
    pub async fn forget_learned_neighbours(&self, netns: &Netns) -> Result<usize, KernelError> {
        if *netns == Netns::Host {
            return Ok(0);
        }
        let what = format!("cannot clear the neighbour entries of {netns}");
        self.connections
            .read_in(netns, move |socket| forget_learned(socket).map_err(|e| KernelError::system(what, e)))
            .await
    }
}

fn forget_learned(socket: &ReadingSocket) -> io::Result<usize> {
    let mut forgotten = 0;
    for family in [AddressFamily::Inet, AddressFamily::Inet6] {
        let mut request = NeighbourMessage::default();
        request.header.family = family;
        for answer in socket.exchange(RouteNetlinkMessage::GetNeighbour(request), NLM_F_DUMP)? {
            let RouteNetlinkMessage::NewNeighbour(entry) = answer else { continue };
            if !is_learned(&entry) {
                continue;
            }
            match socket.exchange(RouteNetlinkMessage::DelNeighbour(deletion_of(&entry)), NLM_F_ACK) {
                Ok(_) => forgotten += 1,
                // Gone meanwhile (expired, or its interface went): as good.
                Err(error) if error.raw_os_error() == Some(libc::ENOENT) => {}
                Err(error) => return Err(error),
            }
        }
    }
    Ok(forgotten)
}

fn is_learned(entry: &NeighbourMessage) -> bool {
    !matches!(entry.header.state, NeighbourState::Permanent | NeighbourState::Noarp)
        && !entry.header.flags.contains(NeighbourFlags::ExtLearned)
}

/// The request that deletes `entry`: its interface and address.
fn deletion_of(entry: &NeighbourMessage) -> NeighbourMessage {
    let mut deletion = NeighbourMessage::default();
    deletion.header.family = entry.header.family;
    deletion.header.ifindex = entry.header.ifindex;
    deletion.attributes = entry
        .attributes
        .iter()
        .filter(|attribute| matches!(attribute, NeighbourAttribute::Destination(_)))
        .cloned()
        .collect();
    deletion
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(state: NeighbourState, flags: NeighbourFlags) -> NeighbourMessage {
        let mut entry = NeighbourMessage::default();
        entry.header.family = AddressFamily::Inet;
        entry.header.ifindex = 7;
        entry.header.state = state;
        entry.header.flags = flags;
        entry.attributes.push(NeighbourAttribute::Destination(
            rtnetlink::packet_route::neighbour::NeighbourAddress::Inet("10.0.0.9".parse().unwrap()),
        ));
        entry.attributes.push(NeighbourAttribute::LinkLayerAddress(vec![2, 0, 0, 0, 0, 9]));
        entry
    }

    #[test]
    fn only_learned_entries_are_forgotten() {
        let none = NeighbourFlags::empty();
        for state in
            [NeighbourState::Reachable, NeighbourState::Stale, NeighbourState::Failed, NeighbourState::Incomplete]
        {
            assert!(is_learned(&entry(state, none)), "{state:?}");
        }
        assert!(!is_learned(&entry(NeighbourState::Permanent, none)));
        assert!(!is_learned(&entry(NeighbourState::Noarp, none)));
        assert!(!is_learned(&entry(NeighbourState::Reachable, NeighbourFlags::ExtLearned)));
    }

    #[test]
    fn a_deletion_names_the_interface_and_address_only() {
        let deletion = deletion_of(&entry(NeighbourState::Stale, NeighbourFlags::empty()));
        assert_eq!((deletion.header.family, deletion.header.ifindex), (AddressFamily::Inet, 7));
        assert_eq!(deletion.attributes.len(), 1);
        assert!(matches!(deletion.attributes[0], NeighbourAttribute::Destination(_)));
    }
}
