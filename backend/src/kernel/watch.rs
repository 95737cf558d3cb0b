//! Watching a namespace: a netlink socket inside it, subscribed to link, address and route
//! changes, so that what anyone does (`ip link set eth0 down` in a terminal included)
//! arrives as it happens.

use futures::{Stream, StreamExt};
use netlink_sys::{AsyncSocket, SocketAddr};
use nslab_model::identity::{owner_of_marker, Netns};
use rtnetlink::constants::{RTMGRP_IPV4_IFADDR, RTMGRP_IPV4_ROUTE, RTMGRP_IPV6_IFADDR, RTMGRP_IPV6_ROUTE, RTMGRP_LINK};
use rtnetlink::packet_core::NetlinkPayload;
use rtnetlink::packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use rtnetlink::packet_route::{AddressFamily, RouteNetlinkMessage};
use rtnetlink::Handle;

use super::error::KernelError;
use super::netns;
use super::Kernel;

/// rtnetlink multicast groups: links, IPv4/IPv6 addresses and routes.
const GROUPS: u32 = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_IFADDR | RTMGRP_IPV6_ROUTE;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchEvent {
    Link {
        name: String,
        up: bool,
        oper_up: bool,
        owner: Option<String>,
        removed: bool,
    },
    /// An address or a route changed.
    Other,
    /// The socket overflowed and events were lost (netlink-proto turns the ENOBUFS of a
    /// full receive buffer into an overrun message): read everything again.
    Overrun,
}

/// A subscription; dropping it closes the socket (which would otherwise keep the namespace
/// alive after someone deleted it).
pub struct Watch {
    task: tokio::task::JoinHandle<()>,
    _handle: Handle,
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Kernel {
    pub async fn watch(&self, netns: &Netns) -> Result<(Watch, impl Stream<Item = WatchEvent>), KernelError> {
        let runtime = tokio::runtime::Handle::current();
        let (connection, handle, messages) = netns::run_in(netns, move || {
            let _entered = runtime.enter();
            let (mut connection, handle, messages) = rtnetlink::new_connection()
                .map_err(|error| KernelError::system("cannot open a netlink socket", error))?;
            let socket = connection.socket_mut().socket_mut();
            // Room for bursts (an apply of hundreds of namespaces); overflow is still noticed.
            let _ = socket.set_rx_buf_sz(8 * 1024 * 1024);
            socket
                .bind(&SocketAddr::new(0, GROUPS))
                .map_err(|error| KernelError::system("cannot subscribe to link changes", error))?;
            Ok((connection, handle, messages))
        })
        .await?;
        let task = tokio::spawn(connection);
        let events = messages.map(|(message, _)| match message.payload {
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(link)) => link_event(&link, false),
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelLink(link)) => link_event(&link, true),
            NetlinkPayload::Overrun(_) | NetlinkPayload::Error(_) => WatchEvent::Overrun,
            _ => WatchEvent::Other,
        });
        Ok((Watch { task, _handle: handle }, events))
    }
}

fn link_event(link: &LinkMessage, removed: bool) -> WatchEvent {
    // A bridge sends its ports' own news (port state, leaving the bridge) as RTM_NEWLINK
    // and RTM_DELLINK of family AF_BRIDGE: without the alias, so the port would seem to
    // lose its owner, and a port leaving the bridge would seem deleted. The interface's
    // own changes come as family AF_UNSPEC; these only say that something changed.
    if link.header.interface_family == AddressFamily::Bridge {
        return WatchEvent::Other;
    }
    let mut name = String::new();
    let mut owner = None;
    for attribute in &link.attributes {
        match attribute {
            LinkAttribute::IfName(value) => name = value.clone(),
            LinkAttribute::IfAlias(alias) => owner = owner_of_marker(alias).map(str::to_string),
            _ => {}
        }
    }
    let flags = link.header.flags;
    WatchEvent::Link {
        name,
        up: flags.contains(LinkFlags::Up),
        oper_up: flags.contains(LinkFlags::LowerUp),
        owner,
        removed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(family: AddressFamily, alias: Option<&str>) -> LinkMessage {
        let mut link = LinkMessage::default();
        link.header.interface_family = family;
        link.header.flags = LinkFlags::Up | LinkFlags::LowerUp;
        link.attributes.push(LinkAttribute::IfName("veth0".into()));
        if let Some(alias) = alias {
            link.attributes.push(LinkAttribute::IfAlias(alias.into()));
        }
        link
    }

    #[test]
    fn an_interface_s_own_news_carry_its_state_and_owner() {
        let event = link_event(&port(AddressFamily::Unspec, Some("nslab:lab")), false);
        let expected = WatchEvent::Link {
            name: "veth0".into(),
            up: true,
            oper_up: true,
            owner: Some("lab".into()),
            removed: false,
        };
        assert_eq!(event, expected);
    }

    /// A bridge's news of a port carry no alias, and its RTM_DELLINK means the port left.
    #[test]
    fn a_bridge_s_news_of_a_port_neither_disown_nor_delete_it() {
        assert_eq!(link_event(&port(AddressFamily::Bridge, None), false), WatchEvent::Other);
        assert_eq!(link_event(&port(AddressFamily::Bridge, None), true), WatchEvent::Other);
    }
}
