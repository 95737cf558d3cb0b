//! Namespace ids in the host's table (`ip netns list` prints them as `id: N`): how the
//! host numbers every namespace, its own included, so that peers of veths found in any
//! namespace's dump can be named.

use std::collections::HashMap;
use std::os::fd::AsRawFd;

use futures::future::try_join_all;
use futures::StreamExt;
use nslab_model::topology::Netns;
use rtnetlink::packet_core::{NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_REQUEST};
use rtnetlink::packet_route::nsid::{NsidAttribute, NsidMessage};
use rtnetlink::packet_route::RouteNetlinkMessage;
use rtnetlink::Handle;

use super::connection::Connections;
use super::error::KernelError;

#[derive(Debug, Default, Clone)]
pub struct NamespaceIds {
    by_id: HashMap<i32, Netns>,
    ids: HashMap<Netns, i32>,
}

impl NamespaceIds {
    /// The host's id of each namespace in `all`, giving one to those that have none yet.
    /// Ids in `known` are kept for namespaces whose file is still open: a namespace keeps
    /// its id as long as it lives, and the open file is that namespace (a server reading
    /// the kernel every second skips hundreds of requests this way).
    pub async fn read(
        host: &Handle,
        connections: &Connections,
        all: &[Netns],
        known: &NamespaceIds,
    ) -> Result<Self, KernelError> {
        let found = try_join_all(all.iter().map(|netns| async move {
            if let Some(id) = known.ids.get(netns).filter(|_| connections.has_file(netns)) {
                return Ok((netns.clone(), *id));
            }
            let file = connections.file(netns)?;
            let fd = file.as_raw_fd();
            let id = match request_id(host, fd).await? {
                Some(id) => id,
                None => {
                    assign_id(host, fd).await?;
                    request_id(host, fd).await?.ok_or_else(|| KernelError::Netlink {
                        what: format!("numbering {netns}"),
                        message: "the kernel gave it no id".into(),
                    })?
                }
            };
            Ok::<_, KernelError>((netns.clone(), id))
        }))
        .await?;
        let mut ids = NamespaceIds::default();
        for (netns, id) in found {
            ids.by_id.insert(id, netns.clone());
            ids.ids.insert(netns, id);
        }
        Ok(ids)
    }

    /// Ids read one namespace at a time.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (Netns, i32)>) -> NamespaceIds {
        let mut ids = NamespaceIds::default();
        for (netns, id) in pairs {
            ids.by_id.insert(id, netns.clone());
            ids.ids.insert(netns, id);
        }
        ids
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

    /// The id to dump another namespace through the host's socket (None: the host itself).
    pub fn target(&self, netns: &Netns) -> Option<i32> {
        match netns {
            Netns::Host => None,
            _ => self.ids.get(netns).copied(),
        }
    }

    pub fn netns_of(&self, id: i32) -> Option<Netns> {
        self.by_id.get(&id).cloned()
    }
}

async fn request_id(host: &Handle, fd: i32) -> Result<Option<i32>, KernelError> {
    let message = nsid_message(vec![NsidAttribute::Fd(fd as u32)]);
    let mut request = NetlinkMessage::from(RouteNetlinkMessage::GetNsId(message));
    request.header.flags = NLM_F_REQUEST;
    let mut answers = host.clone().request(request).map_err(|e| KernelError::netlink("asking a namespace id", e))?;
    while let Some(answer) = answers.next().await {
        match answer.payload {
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewNsId(message)) => {
                let id = message.attributes.iter().find_map(|a| match a {
                    NsidAttribute::Id(id) => Some(*id),
                    _ => None,
                });
                return Ok(id.filter(|id| *id >= 0));
            }
            NetlinkPayload::Error(error) if error.code.is_some() => {
                return Err(KernelError::netlink("asking a namespace id", rtnetlink::Error::NetlinkError(error)));
            }
            _ => {}
        }
    }
    Ok(None)
}

/// RTM_NEWNSID with id -1: let the kernel pick the next free id.
async fn assign_id(host: &Handle, fd: i32) -> Result<(), KernelError> {
    let message = nsid_message(vec![NsidAttribute::Fd(fd as u32), NsidAttribute::Id(-1)]);
    let mut request = NetlinkMessage::from(RouteNetlinkMessage::NewNsId(message));
    request.header.flags = NLM_F_REQUEST | NLM_F_ACK;
    let mut answers = host.clone().request(request).map_err(|e| KernelError::netlink("numbering a namespace", e))?;
    while let Some(answer) = answers.next().await {
        if let NetlinkPayload::Error(error) = answer.payload {
            // EEXIST: another process numbered it meanwhile, which is as good.
            if let Some(code) = error.code {
                if -code.get() != nix::errno::Errno::EEXIST as i32 {
                    return Err(KernelError::netlink("numbering a namespace", rtnetlink::Error::NetlinkError(error)));
                }
            }
        }
    }
    Ok(())
}

fn nsid_message(attributes: Vec<NsidAttribute>) -> NsidMessage {
    let mut message = NsidMessage::default();
    message.attributes = attributes;
    message
}
