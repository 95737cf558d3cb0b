//! Namespace ids in the host's table (`ip netns list` prints them as `id: N`): how the
//! host numbers every namespace, its own included, so that peers of veths found in any
//! namespace's dump can be named. They are asked of the kernel one namespace at a time
//! (`reading::HostSocket::id_of`) and kept here.

use std::collections::HashMap;

use nslab_model::identity::Netns;

use super::connection::Connections;

#[derive(Debug, Default, Clone)]
pub struct NamespaceIds {
    by_id: HashMap<i32, Netns>,
    ids: HashMap<Netns, i32>,
}

impl NamespaceIds {
    /// Ids read one namespace at a time.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (Netns, i32)>) -> NamespaceIds {
        let mut ids = NamespaceIds::default();
        for (netns, id) in pairs {
            ids.by_id.insert(id, netns.clone());
            ids.ids.insert(netns, id);
        }
        ids
    }

    pub fn into_pairs(self) -> impl Iterator<Item = (Netns, i32)> {
        self.ids.into_iter()
    }

    /// The id of `netns` when still valid: known, and its file kept open since (a namespace
    /// keeps its id for its life, and the open file is that namespace).
    pub fn kept(&self, netns: &Netns, connections: &Connections) -> Option<i32> {
        self.ids.get(netns).copied().filter(|_| connections.has_file(netns))
    }

    /// These ids, with `newer`'s where both know a namespace.
    pub fn merged(&self, newer: NamespaceIds) -> NamespaceIds {
        let mut merged = self.clone();
        for (netns, id) in newer.ids {
            if let Some(old) = merged.ids.insert(netns.clone(), id) {
                merged.by_id.remove(&old);
            }
            merged.by_id.insert(id, netns);
        }
        merged
    }

    pub fn id_of(&self, netns: &Netns) -> Option<i32> {
        self.ids.get(netns).copied()
    }

    pub fn netns_of(&self, id: i32) -> Option<Netns> {
        self.by_id.get(&id).cloned()
    }
}
