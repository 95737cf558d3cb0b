//! Carrying out one op through netlink. Everything created carries the lab's mark (the
//! interface alias `nslab:LAB`, on `lo` for a namespace), set in the creating request.

use std::net::IpAddr;

use futures::StreamExt;
use ipnet::IpNet;
use nslab_model::address::{parse_interface_address, parse_mac, Family};
use nslab_model::identity::{owner_marker, LinkRef, Netns, ROUTE_PROTOCOL};
use nslab_model::ops::Op;
use nslab_model::plan::WantedRoute;
use nslab_model::Route;
use rtnetlink::packet_core::{
    NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_ECHO, NLM_F_EXCL, NLM_F_REQUEST,
};
use rtnetlink::packet_route::address::{AddressAttribute, AddressFlags, AddressMessage};
use rtnetlink::packet_route::link::LinkMessage;
use rtnetlink::packet_route::route::{RouteMessage, RouteProtocol};
use rtnetlink::packet_route::AddressFamily;
use rtnetlink::packet_route::RouteNetlinkMessage;
use rtnetlink::{LinkMessageBuilder, LinkUnspec, RouteMessageBuilder};

use super::error::KernelError;
use super::netns::{self, IPV4_FORWARDING, IPV6_FORWARDING};
use super::observe::link_name;
use super::raising::RunScope;
use super::Kernel;

impl Kernel {
    /// Carries out `op` in a run for lab `scope.lab`. The error says what failed and the
    /// kernel's reason.
    pub async fn execute(&self, op: &Op, scope: &RunScope<'_>) -> Result<(), KernelError> {
        let what = format!("`{}`", op.ip_command());
        let lab = scope.lab;
        let marker = owner_marker(lab);
        match op {
            Op::CreateNamespace { name } => {
                let handle = self.connections.create_namespace(name).await?;
                let mark = LinkUnspec::new_with_name("lo").alias(marker).build();
                handle.link().set(mark).execute().await.map_err(|e| KernelError::netlink(what, e))
            }
            Op::DeleteNamespace { name } => self.delete_namespace(name).await,
            Op::SetLoopback { netns, up } => {
                self.set_link(netns, "lo", |b| if *up { b.up() } else { b.down() }, what).await
            }
            Op::SetForwarding { netns, family, enabled } => {
                let path = match family {
                    Family::V4 => IPV4_FORWARDING,
                    Family::V6 => IPV6_FORWARDING,
                };
                let on = *enabled;
                netns::run_in(netns, move || netns::write_flag(path, on)).await
            }
            Op::CreateBridge { link } => {
                self.add_link(&link.netns, self.bridge_builder(link, false, scope).build(), what.clone()).await?;
                self.mark(link, marker, what).await
            }
            Op::CreateVeth { a, b } => self.create_veth_with(a, b, &[], lab, what).await,
            Op::DeleteLink { link } => {
                let index = self.index_of(&link.netns, &link.name).await?;
                let handle = self.connections.handle(&link.netns).await?;
                let result = handle.link().del(index).execute().await;
                // The peer of a veth goes too, and indexes may be reused: forget them all.
                self.indexes.lock().expect("not poisoned").clear();
                result.map_err(|e| KernelError::netlink(what, e))
            }
            Op::SetMaster { link, master } => {
                let master_index = self.index_of(&link.netns, master).await?;
                self.set_link(&link.netns, &link.name, |b| b.controller(master_index), what).await
            }
            Op::SetNoMaster { link } => self.set_link(&link.netns, &link.name, |b| b.nocontroller(), what).await,
            Op::SetMtu { link, mtu } => self.set_link(&link.netns, &link.name, |b| b.mtu(*mtu), what).await,
            Op::SetMac { link, mac } => {
                let bytes = parse_mac(mac).map_err(|message| KernelError::Netlink { what: what.clone(), message })?;
                self.set_link(&link.netns, &link.name, |b| b.address(bytes.to_vec()), what).await
            }
            Op::SetUp { link, up: true } => {
                self.set_link(&link.netns, &link.name, |b| b.up(), what.clone()).await?;
                self.after_raising(link, what, scope).await
            }
            Op::SetUp { link, up: false } => self.set_link(&link.netns, &link.name, |b| b.down(), what).await,
            Op::AddAddress { link, address } => self.add_address(link, address, what).await,
            Op::DeleteAddress { link, address } => self.delete_address(link, address, what).await,
            Op::AddRoute { netns, route, .. } => self.change_route(netns, route, true, what).await,
            Op::DeleteRoute { netns, route, .. } => self.change_route(netns, route, false, what).await,
            Op::RenameLink { link, new_name } => {
                let index = self.index_of(&link.netns, &link.name).await?;
                let handle = self.connections.handle(&link.netns).await?;
                let message = LinkUnspec::new_with_index(index).name(new_name.clone()).build();
                handle.link().set(message).execute().await.map_err(|e| KernelError::netlink(what, e))?;
                self.forget_index(&link.netns, &link.name);
                Ok(())
            }
            Op::AdoptNamespace { name, lab } => {
                let netns = Netns::Named(name.clone());
                self.set_link(&netns, "lo", |b| b.alias(owner_marker(lab)), what).await
            }
            Op::AdoptLink { link, lab } => {
                self.set_link(&link.netns, &link.name, |b| b.alias(owner_marker(lab)), what).await
            }
            Op::SetNetem { link, netem } => self.set_netem(link, netem, what).await,
            Op::ClearNetem { link } => self.clear_netem(link, what).await,
        }
    }

    /// `ip link set dev NAME ...`: the kernel finds the interface by its name.
    pub(super) async fn set_link(
        &self,
        netns: &Netns,
        name: &str,
        change: impl FnOnce(LinkMessageBuilder<LinkUnspec>) -> LinkMessageBuilder<LinkUnspec>,
        what: String,
    ) -> Result<(), KernelError> {
        let handle = self.connections.handle(netns).await?;
        let message = change(LinkUnspec::new_with_name(name)).build();
        handle.link().set(message).execute().await.map_err(|e| KernelError::netlink(what, e))
    }

    /// `ip link add ...`. The kernel echoes the new interface back (NLM_F_ECHO): its index
    /// goes into the index cache, so the first address of a new interface needs no lookup
    /// by name, and the echo is returned (a veth's names its peer's index). A kernel that
    /// does not echo leaves the lookup to `index_of`.
    pub(super) async fn add_link(
        &self,
        netns: &Netns,
        message: LinkMessage,
        what: String,
    ) -> Result<Option<LinkMessage>, KernelError> {
        let mut handle = self.connections.handle(netns).await?;
        let mut request = NetlinkMessage::from(RouteNetlinkMessage::NewLink(message));
        request.header.flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ECHO;
        let mut answers = handle.request(request).map_err(|e| KernelError::netlink(what.clone(), e))?;
        let mut echoed = None;
        while let Some(answer) = answers.next().await {
            match answer.payload {
                NetlinkPayload::Error(error) if error.code.is_some() => {
                    return Err(KernelError::netlink(what, rtnetlink::Error::NetlinkError(error)));
                }
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(link)) => echoed = Some(link),
                _ => {}
            }
        }
        if let Some((link, name)) = echoed.as_ref().and_then(|link| Some((link, link_name(link)?))) {
            self.remember_index(netns, name, link.header.index);
        }
        Ok(echoed)
    }

    /// The kernel ignores an alias given with RTM_NEWLINK: the mark is set right after.
    pub(super) async fn mark(&self, link: &LinkRef, marker: String, what: String) -> Result<(), KernelError> {
        self.set_link(&link.netns, &link.name, |b| b.alias(marker), what).await
    }

    /// Unmounts the namespace like `ip netns delete`; the kernel destroys it, and every
    /// interface in it, once nothing holds it (our socket to it is dropped first).
    async fn delete_namespace(&self, name: &str) -> Result<(), KernelError> {
        let netns = Netns::Named(name.to_string());
        self.indexes.lock().expect("not poisoned").clear();
        if !self.teardown.is_enabled() {
            self.connections.forget(&netns);
            return netns::delete_named(name);
        }
        // Its sockets too: closed now, on another thread, they would slow the unmounts
        // just as the teardown does.
        let mut detached = self.connections.detach(&netns);
        detached.keep_file(&netns);
        netns::delete_named(name)?;
        self.teardown.keep(detached);
        Ok(())
    }

    async fn add_address(&self, link: &LinkRef, address: &str, what: String) -> Result<(), KernelError> {
        let net =
            parse_interface_address(address).map_err(|message| KernelError::Netlink { what: what.clone(), message })?;
        let index = self.index_of(&link.netns, &link.name).await?;
        let handle = self.connections.handle(&link.netns).await?;
        let mut request = handle.address().add(index, net.addr(), net.prefix_len());
        if net.addr().is_ipv6() {
            // `nodad`: the address is usable at once instead of after duplicate detection.
            request.message_mut().attributes.push(AddressAttribute::Flags(AddressFlags::Nodad));
        }
        request.execute().await.map_err(|e| KernelError::netlink(what, e))
    }

    async fn delete_address(&self, link: &LinkRef, address: &str, what: String) -> Result<(), KernelError> {
        let net =
            parse_interface_address(address).map_err(|message| KernelError::Netlink { what: what.clone(), message })?;
        let index = self.index_of(&link.netns, &link.name).await?;
        let handle = self.connections.handle(&link.netns).await?;
        handle.address().del(address_message(index, &net)).execute().await.map_err(|e| KernelError::netlink(what, e))
    }

    /// Routes are added with replace semantics: a route the kernel kept through a change
    /// the plan expected to remove it is not an error.
    async fn change_route(&self, netns: &Netns, route: &Route, add: bool, what: String) -> Result<(), KernelError> {
        let wanted = WantedRoute::of(route)
            .ok_or_else(|| KernelError::Netlink { what: what.clone(), message: "the route does not parse".into() })?;
        let oif = match &route.dev {
            Some(dev) => Some(self.index_of(netns, dev).await?),
            None => None,
        };
        let message = route_message(netns, &wanted, oif, add)
            .map_err(|message| KernelError::Netlink { what: what.clone(), message })?;
        let handle = self.connections.handle(netns).await?;
        let result = if add {
            handle.route().add(message).replace().execute().await
        } else {
            handle.route().del(message).execute().await
        };
        result.map_err(|e| KernelError::netlink(what, e))
    }
}

fn address_message(index: u32, net: &IpNet) -> AddressMessage {
    let mut message = AddressMessage::default();
    message.header.index = index;
    message.header.prefix_len = net.prefix_len();
    message.header.family = if net.addr().is_ipv6() { AddressFamily::Inet6 } else { AddressFamily::Inet };
    message.attributes.push(AddressAttribute::Address(net.addr()));
    if net.addr().is_ipv4() {
        message.attributes.push(AddressAttribute::Local(net.addr()));
    }
    message
}

/// Routes in the host carry nslab's protocol number so they can be told from the host's
/// own; inside a namespace they look like `ip route add` made them (`proto boot`).
/// A deletion names no protocol: the kernel then matches a route whoever made it.
fn route_message(netns: &Netns, wanted: &WantedRoute, oif: Option<u32>, add: bool) -> Result<RouteMessage, String> {
    let mut builder = RouteMessageBuilder::<IpAddr>::new()
        .destination_prefix(wanted.destination.network(), wanted.destination.prefix_len())
        .map_err(|e| e.to_string())?;
    if let Some(via) = wanted.via {
        builder = builder.gateway(via).map_err(|e| e.to_string())?;
    }
    if let Some(index) = oif {
        builder = builder.output_interface(index);
    }
    let protocol = match (add, netns) {
        (false, _) => RouteProtocol::Unspec,
        (true, Netns::Host) => RouteProtocol::Other(ROUTE_PROTOCOL),
        (true, Netns::Named(_)) => RouteProtocol::Boot,
    };
    builder = builder.priority(wanted.metric).protocol(protocol);
    Ok(builder.build())
}
