//! What the kernel will hold after a list of ops, as far as the model knows: a pure stand-in
//! for the kernel. Tests use it to check that a plan converges (planning again plans
//! nothing); the editor can use it to preview a plan.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::address::parse_interface_address;
use crate::identity::{LinkRef, Netns};
use crate::observed::{Observed, ObservedLink, ObservedNamespace, ObservedRoute};
use crate::ops::Op;
use crate::plan::{netem_as_kernel_reports as as_reported, WantedRoute};

/// An empty kernel: the host namespace with nothing but `lo`, up.
pub fn empty_host() -> Observed {
    let mut observed = Observed::default();
    observed.namespaces.insert(Netns::Host, ObservedNamespace { loopback_up: true, ..Default::default() });
    observed
}

/// Applies `ops` made for lab `lab` to `observed`. Ops that could not run on a real kernel
/// (a missing interface, say) are errors naming the op.
pub fn simulate(observed: &mut Observed, lab: &str, ops: &[Op]) -> Result<(), String> {
    for op in ops {
        apply(observed, lab, op).map_err(|why| format!("`{}`: {why}", op.ip_command()))?;
    }
    Ok(())
}

fn apply(observed: &mut Observed, lab: &str, op: &Op) -> Result<(), String> {
    match op {
        Op::CreateNamespace { name } => {
            let netns = Netns::Named(name.clone());
            if observed.namespaces.contains_key(&netns) || observed.strays.contains(name) {
                return Err("the namespace exists".into());
            }
            let namespace = ObservedNamespace { owner: Some(lab.to_string()), ..Default::default() };
            observed.namespaces.insert(netns, namespace);
        }
        // `ip netns delete` removes an empty file too (see `Observed::strays`).
        Op::DeleteNamespace { name } if observed.strays.remove(name) => {}
        Op::DeleteNamespace { name } => {
            let netns = Netns::Named(name.clone());
            observed.namespaces.remove(&netns).ok_or("no such namespace")?;
            for namespace in observed.namespaces.values_mut() {
                namespace.links.retain(|_, link| link.peer.as_ref().is_none_or(|peer| peer.netns != netns));
            }
        }
        Op::SetLoopback { netns, up } => namespace(observed, netns)?.loopback_up = *up,
        Op::SetForwarding { netns, family, enabled } => {
            let namespace = namespace(observed, netns)?;
            match family {
                crate::address::Family::V4 => namespace.ipv4_forwarding = *enabled,
                crate::address::Family::V6 => namespace.ipv6_forwarding = *enabled,
            }
        }
        Op::CreateBridge { link } => create_link(observed, link, "bridge", lab, None)?,
        Op::CreateVeth { a, b } => {
            create_link(observed, a, "veth", lab, Some(b.clone()))?;
            create_link(observed, b, "veth", lab, Some(a.clone()))?;
        }
        Op::DeleteLink { link } => delete_link(observed, link)?,
        Op::SetMaster { link, master } => {
            let bridge = LinkRef::new(link.netns.clone(), master.clone());
            if observed.link(&bridge).is_none_or(|l| l.kind != "bridge") {
                return Err(format!("no bridge `{master}`"));
            }
            link_mut(observed, link)?.master = Some(master.clone());
        }
        Op::SetNoMaster { link } => link_mut(observed, link)?.master = None,
        Op::SetMtu { link, mtu } => link_mut(observed, link)?.mtu = *mtu,
        Op::SetMac { link, mac } => link_mut(observed, link)?.mac = mac.to_ascii_lowercase(),
        Op::AddAddress { link, address } => {
            let net = parse_interface_address(address)?;
            let found = link_mut(observed, link)?;
            if found.addresses.contains(&net) {
                return Err("the address exists".into());
            }
            found.addresses.push(net);
        }
        Op::DeleteAddress { link, address } => {
            let net = parse_interface_address(address)?;
            let found = link_mut(observed, link)?;
            let before = found.addresses.len();
            found.addresses.retain(|have| *have != net);
            if found.addresses.len() == before {
                return Err("no such address".into());
            }
        }
        Op::SetUp { link, up } => {
            link_mut(observed, link)?.up = *up;
            if !*up {
                drop_routes_through(observed, link);
            }
        }
        Op::AddRoute { netns, route, .. } => {
            let want = WantedRoute::of(route).ok_or("the route does not parse")?;
            let dev = match &want.dev {
                Some(dev) => Some(dev.clone()),
                None => Some(device_for(namespace(observed, netns)?, want.via.ok_or("no via and no dev")?)?),
            };
            let route = ObservedRoute {
                destination: want.destination,
                via: want.via,
                dev,
                metric: want.metric,
                by_nslab: *netns == Netns::Host,
                unmodelled: Vec::new(),
            };
            let routes = &mut namespace(observed, netns)?.routes;
            routes.retain(|have| {
                !(have.destination == route.destination && have.metric == route.metric && have.via == route.via)
            });
            routes.push(route);
        }
        Op::DeleteRoute { netns, route, .. } => {
            let want = WantedRoute::of(route).ok_or("the route does not parse")?;
            let routes = &mut namespace(observed, netns)?.routes;
            let at = routes.iter().position(|have| want.is(have)).ok_or("no such route")?;
            routes.remove(at);
        }
        Op::RenameLink { link, new_name } => rename(observed, link, new_name)?,
        Op::AdoptNamespace { name, lab } => {
            namespace(observed, &Netns::Named(name.clone()))?.owner = Some(lab.clone());
        }
        Op::AdoptLink { link, lab } => link_mut(observed, link)?.owner = Some(lab.clone()),
        Op::SetNetem { link, netem } => link_mut(observed, link)?.netem = Some(as_reported(netem)),
        Op::ClearNetem { link } => {
            // `tc qdisc del ... root` of a default root qdisc fails.
            link_mut(observed, link)?.netem.take().ok_or("no netem root qdisc")?;
        }
    }
    Ok(())
}

fn namespace<'o>(observed: &'o mut Observed, netns: &Netns) -> Result<&'o mut ObservedNamespace, String> {
    observed.namespaces.get_mut(netns).ok_or_else(|| format!("no {netns}"))
}

fn link_mut<'o>(observed: &'o mut Observed, link: &LinkRef) -> Result<&'o mut ObservedLink, String> {
    namespace(observed, &link.netns)?.links.get_mut(&link.name).ok_or_else(|| format!("no interface `{}`", link.name))
}

fn create_link(
    observed: &mut Observed,
    link: &LinkRef,
    kind: &str,
    lab: &str,
    peer: Option<LinkRef>,
) -> Result<(), String> {
    let namespace = namespace(observed, &link.netns)?;
    if namespace.links.contains_key(&link.name) {
        return Err(format!("interface `{}` exists", link.name));
    }
    let index = namespace.links.len() as u32 + 2;
    let mut new = ObservedLink::new(kind, index);
    new.owner = Some(lab.to_string());
    new.peer = peer;
    namespace.links.insert(link.name.clone(), new);
    Ok(())
}

fn delete_link(observed: &mut Observed, link: &LinkRef) -> Result<(), String> {
    let removed = namespace(observed, &link.netns)?.links.remove(&link.name).ok_or("no such interface")?;
    drop_routes_through(observed, link);
    if let Some(peer) = removed.peer {
        if let Some(namespace) = observed.namespaces.get_mut(&peer.netns) {
            namespace.links.remove(&peer.name);
        }
        drop_routes_through(observed, &peer);
    }
    if removed.kind == "bridge" {
        let ports = namespace(observed, &link.netns)?.links.values_mut();
        for port in ports.filter(|port| port.master.as_deref() == Some(&link.name)) {
            port.master = None;
        }
    }
    Ok(())
}

fn drop_routes_through(observed: &mut Observed, link: &LinkRef) {
    if let Some(namespace) = observed.namespaces.get_mut(&link.netns) {
        namespace.routes.retain(|route| route.dev.as_deref() != Some(&link.name));
    }
}

fn rename(observed: &mut Observed, link: &LinkRef, new_name: &str) -> Result<(), String> {
    let namespace = namespace(observed, &link.netns)?;
    if namespace.links.contains_key(new_name) {
        return Err(format!("`{new_name}` exists"));
    }
    let found = namespace.links.remove(&link.name).ok_or("no such interface")?;
    if found.up {
        return Err("the kernel renames only interfaces that are down".into());
    }
    for other in namespace.links.values_mut() {
        if other.master.as_deref() == Some(&link.name) {
            other.master = Some(new_name.to_string());
        }
    }
    for route in &mut namespace.routes {
        if route.dev.as_deref() == Some(&link.name) {
            route.dev = Some(new_name.to_string());
        }
    }
    let peer = found.peer.clone();
    namespace.links.insert(new_name.to_string(), found);
    if let Some(peer) = peer {
        let renamed = LinkRef::new(link.netns.clone(), new_name);
        link_mut(observed, &peer)?.peer = Some(renamed);
    }
    Ok(())
}

/// The interface whose subnet holds the gateway, as the kernel picks it.
fn device_for(namespace: &ObservedNamespace, gateway: IpAddr) -> Result<String, String> {
    namespace
        .links
        .iter()
        .find(|(_, link)| link.up && link.addresses.iter().any(|net: &IpNet| net.trunc().contains(&gateway)))
        .map(|(name, _)| name.clone())
        .ok_or_else(|| format!("gateway {gateway} is not on a connected subnet that is up"))
}
