//! Knowing a lab's namespaces by their mounts, so that destroy need not read their marks.
//!
//! A namespace is bound onto `/run/netns/NAME` by a mount, and since Linux 6.8 a mount has
//! an id the kernel never hands out again (`netns::mount_id`). A mount cannot be pointed at
//! another namespace: a namespace put under that name since is another mount. So once
//! apply has verified that the kernel holds its lab (every namespace carrying the lab's
//! mark), it records each namespace's mount id with its id in the host's table, and while
//! `/run/netns/NAME` is still that mount it is still that namespace, with that id for its
//! whole life. Reading a mark instead asks for the namespace's id, which the kernel finds by
//! walking the host's whole id table: 17 ms of a 1000-namespace chain's destroy, all of it
//! before the first namespace could go.

use std::collections::{BTreeMap, HashMap};

use nslab_model::identity::Netns;
use serde::{Deserialize, Serialize};

use super::{netns, Kernel};

/// Where a namespace was bound when its lab was last applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamespaceMount {
    /// The unique id of the bind mount at `/run/netns/NAME`.
    pub mount: u64,
    /// The namespace's id in the host's table.
    pub id: i32,
}

/// By namespace name.
pub type NamespaceMounts = BTreeMap<String, NamespaceMount>;

/// The namespaces known to be one lab's without reading them: their mounts are the ones
/// recorded when the lab was applied.
#[derive(Debug, Clone, Default)]
pub struct Vouched {
    pub owner: String,
    pub ids: HashMap<Netns, i32>,
    /// Their namespaces' inodes, by name (read with the mounts, for `users::users_of`).
    pub inodes: HashMap<String, u64>,
}

impl Kernel {
    /// The mounts of the namespaces `names` as they are now, for the record of an applied
    /// lab. A namespace is left out when the kernel gives no unique mount id (before 6.8)
    /// or its id in the host's table is not known.
    pub fn namespace_mounts<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> NamespaceMounts {
        let ids = self.ids.lock().expect("not poisoned").clone();
        names
            .into_iter()
            .filter_map(|name| {
                let id = ids.id_of(&Netns::Named(name.to_string()))?;
                Some((name.to_string(), NamespaceMount { mount: netns::mount_id(name)?, id }))
            })
            .collect()
    }
}

/// The namespaces of `recorded` still bound by the very mount recorded, as `owner`'s.
pub fn vouched(owner: &str, recorded: &NamespaceMounts) -> Vouched {
    let mut vouched = Vouched { owner: owner.to_string(), ..Vouched::default() };
    for (name, was) in recorded {
        let Some(now) = netns::bound(name).filter(|now| now.mount == was.mount) else { continue };
        vouched.ids.insert(Netns::Named(name.clone()), was.id);
        vouched.inodes.insert(name.clone(), now.inode);
    }
    vouched
}
