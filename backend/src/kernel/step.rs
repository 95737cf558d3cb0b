//! Carrying out a step (see `nslab_model::plan::steps`): a creating op together with the
//! settings that ride in the same netlink request. RTM_NEWLINK accepts the MTU, the MAC,
//! the up flag and (for the created end) the master. The kernel ignores an alias there,
//! and cannot bring a veth's peer up inside the creating request (the pair is not joined
//! yet: ENOTCONN), so those go in one follow-up request per end. When both ends of a
//! veth come up, the created end comes up in its follow-up too, after its peer: an end
//! that is up while its peer is down costs the kernel a grace period (`settle_link_watch`).

use std::os::fd::AsRawFd;

use nslab_model::address::parse_mac;
use nslab_model::identity::{owner_marker, LinkRef};
use nslab_model::ops::Op;
use rtnetlink::packet_route::link::{InfoData, InfoKind, InfoVeth, LinkAttribute};
use rtnetlink::{LinkMessageBuilder, LinkUnspec, LinkVeth};

use super::error::KernelError;
use super::observe::peer_index;
use super::raising::RunScope;
use super::Kernel;

/// Settings of one new interface that its creating request can carry.
#[derive(Default)]
struct AtCreation {
    master: Option<String>,
    mtu: Option<u32>,
    mac: Option<[u8; 6]>,
    up: bool,
}

impl AtCreation {
    fn gather(link: &LinkRef, settings: &[Op]) -> Self {
        let mut found = AtCreation::default();
        for op in settings {
            match op {
                Op::SetMaster { link: l, master } if l == link => found.master = Some(master.clone()),
                Op::SetMtu { link: l, mtu } if l == link => found.mtu = Some(*mtu),
                Op::SetMac { link: l, mac } if l == link => found.mac = parse_mac(mac).ok(),
                Op::SetUp { link: l, up } if l == link => found.up = *up,
                _ => {}
            }
        }
        found
    }

    /// MTU and MAC, and the up flag when `with_up`.
    fn apply<T>(&self, mut builder: LinkMessageBuilder<T>, with_up: bool) -> LinkMessageBuilder<T> {
        if let Some(mtu) = self.mtu {
            builder = builder.mtu(mtu);
        }
        if let Some(mac) = self.mac {
            builder = builder.address(mac.to_vec());
        }
        if self.up && with_up {
            builder = builder.up();
        }
        builder
    }
}

impl Kernel {
    /// Carries out the ops of one step; a single op goes through `execute`.
    pub async fn execute_step(&self, ops: &[Op], scope: &RunScope<'_>) -> Result<(), KernelError> {
        let (first, settings) = ops.split_first().expect("a step has an op");
        if settings.is_empty() {
            return self.execute(first, scope).await;
        }
        let lab = scope.lab;
        let what = format!("`{}`", first.ip_command());
        match first {
            Op::CreateNamespace { name } => {
                let handle = self.connections.create_namespace(name).await?;
                let lo = LinkUnspec::new_with_name("lo").alias(owner_marker(lab)).up().build();
                handle.link().set(lo).execute().await.map_err(|e| KernelError::netlink(what, e))
            }
            Op::CreateBridge { link } => {
                let settings = AtCreation::gather(link, settings);
                let message = settings.apply(self.bridge_builder(link, settings.up, scope), true).build();
                self.add_link(&link.netns, message, what.clone()).await?;
                self.mark(link, owner_marker(lab), what).await
            }
            Op::CreateVeth { a, b } => self.create_veth_with(a, b, settings, lab, what).await,
            _ => unreachable!("only creating ops lead a step of several ops"),
        }
    }

    /// The end that gets a master is the one the request creates (the kernel sets the
    /// master of the created end only); the other is the peer.
    pub(super) async fn create_veth_with(
        &self,
        a: &LinkRef,
        b: &LinkRef,
        settings: &[Op],
        lab: &str,
        what: String,
    ) -> Result<(), KernelError> {
        let (for_a, for_b) = (AtCreation::gather(a, settings), AtCreation::gather(b, settings));
        let ((main, main_settings), (peer, peer_settings)) = if for_a.master.is_none() && for_b.master.is_some() {
            ((b, for_b), (a, for_a))
        } else {
            ((a, for_a), (b, for_b))
        };
        let both_up = main_settings.up && peer_settings.up;
        self.create_pair((main, &main_settings), (peer, &peer_settings), !both_up, what.clone()).await?;
        let marker = owner_marker(lab);
        let peer_master = match &peer_settings.master {
            Some(master) => Some(self.index_of(&peer.netns, master).await?),
            None => None,
        };
        let finish_peer = self.set_link(
            &peer.netns,
            &peer.name,
            |mut b| {
                b = b.alias(marker.clone());
                if let Some(index) = peer_master {
                    b = b.controller(index);
                }
                if peer_settings.up {
                    b = b.up();
                }
                b
            },
            what.clone(),
        );
        if !both_up {
            let (main_marked, peer_finished) =
                futures::join!(self.mark(main, marker.clone(), what.clone()), finish_peer);
            return main_marked.and(peer_finished);
        }
        // Both ends come up, the peer first, after the kernel has dealt with its carrier
        // while it is still down (see `settle_link_watch`); the main end then finds its
        // peer up and both get their carrier at once.
        self.settle_link_watch(peer).await?;
        finish_peer.await?;
        self.set_link(&main.netns, &main.name, |b| b.alias(marker).up(), what).await
    }

    /// The creating request of a veth: the main end with its settings (its up flag only
    /// with `raise_main`), the peer made directly in its namespace.
    async fn create_pair(
        &self,
        (main, main_settings): (&LinkRef, &AtCreation),
        (peer, peer_settings): (&LinkRef, &AtCreation),
        raise_main: bool,
        what: String,
    ) -> Result<(), KernelError> {
        let peer_file = if peer.netns != main.netns { Some(self.connections.file(&peer.netns)?) } else { None };
        let mut peer_message = single_queue(peer_settings.apply(LinkUnspec::new_with_name(&peer.name), false));
        if let Some(file) = &peer_file {
            peer_message = peer_message.setns_by_fd(file.as_raw_fd());
        }
        let veth = LinkMessageBuilder::<LinkVeth>::new_with_info_kind(InfoKind::Veth);
        let mut message = single_queue(main_settings.apply(veth, raise_main))
            .name(main.name.clone())
            .set_info_data(InfoData::Veth(InfoVeth::Peer(peer_message.build())));
        if let Some(master) = &main_settings.master {
            message = message.controller(self.index_of(&main.netns, master).await?);
        }
        let created = self.add_link(&main.netns, message.build(), what).await;
        drop(peer_file);
        // The echo of the created end names its peer's index (IFLA_LINK, an index in the
        // peer's own namespace).
        if let Some(index) = created?.as_ref().and_then(peer_index) {
            self.remember_index(&peer.netns, &peer.name, index);
        }
        Ok(())
    }

    /// A new veth end has a carrier event pending in the kernel's link watcher (the veth
    /// driver switches both carriers off once they are registered). Processed while the
    /// end is up and its peer still down, it deactivates the end's queues and waits for an
    /// RCU grace period, holding the RTNL lock. Reading the link (RTM_GETLINK) makes the
    /// kernel process that event there and then (Linux 6.8 and later), cheaply while the end
    /// is down; older kernels just answer. About 200 such waits, 20 ms of the lock, on a
    /// 300-namespace star.
    async fn settle_link_watch(&self, link: &LinkRef) -> Result<(), KernelError> {
        self.get_link(&link.netns, &link.name).await.map(drop)
    }
}

/// A veth end asked for without a queue count is allocated one queue per possible CPU,
/// and the kernel then shrinks the queues it uses to one, waiting for an RCU grace period
/// while it holds the RTNL lock, once per end (`veth_init_queues`). Asking for the one
/// queue it would use anyway spares those waits: the 300-namespace star and chain apply
/// about 45 ms sooner (as does `ip -batch` of their veths). The only visible difference
/// is `ip -d link`'s `numtxqueues 1 numrxqueues 1`, the most `ethtool -L` can then raise
/// the channels to.
fn single_queue<T>(builder: LinkMessageBuilder<T>) -> LinkMessageBuilder<T> {
    builder.append_extra_attribute(LinkAttribute::NumTxQueues(1)).append_extra_attribute(LinkAttribute::NumRxQueues(1))
}
