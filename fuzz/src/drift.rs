//! Changes made to a kernel behind nslab's back, read from bytes: three bytes a change,
//! each on what the kernel holds then (a namespace, an interface, an address) or on the
//! names of the two labs. Each change is an op run through the model's simulated kernel,
//! so the kernel stays one a real kernel could be; a change it refuses is left out. What
//! it makes belongs to the first lab, the second, another lab, or nobody (made by hand).

use nslab_model::address::Family;
use nslab_model::identity::{LinkRef, Netns};
use nslab_model::observed::Observed;
use nslab_model::ops::Op;
use nslab_model::simulate::simulate;
use nslab_model::{Lab, Link, Node};

const MTUS: [u32; 4] = [1280, 1400, 1500, 9000];
const ADDRESSES: [&str; 4] = ["10.0.0.1/24", "10.0.0.2/24", "172.17.0.101/16", "fd00::1/64"];
const MACS: [&str; 2] = ["02:00:00:00:00:01", "02:00:00:00:00:02"];

pub fn drift(kernel: &mut Observed, before: &Lab, lab: &Lab, bytes: &[u8]) {
    let names = names(before, lab);
    for change in bytes.chunks_exact(3) {
        let [kind, x, y] = [change[0], change[1], change[2]];
        let owner = match y >> 6 {
            0 => Some(before.name.clone()),
            1 => Some(lab.name.clone()),
            2 => Some("other".to_string()),
            _ => None,
        };
        let Some(op) = op(kernel, &names, kind, x as usize, y as usize) else { continue };
        let mut changed = kernel.clone();
        if simulate(&mut changed, owner.as_deref().unwrap_or_default(), std::slice::from_ref(&op)).is_err() {
            continue;
        }
        if matches!(op, Op::CreateNamespace { .. } | Op::CreateBridge { .. } | Op::CreateVeth { .. }) {
            mark(&mut changed, &op, owner);
        }
        *kernel = changed;
    }
}

/// Every name the labs use, and one neither does.
fn names(before: &Lab, lab: &Lab) -> Vec<String> {
    let mut names = vec!["stray".to_string()];
    for lab in [before, lab] {
        for node in &lab.nodes {
            names.push(match node {
                Node::Host(host) => host.name.clone(),
                Node::Namespace(namespace) => namespace.name.clone(),
                Node::Bridge(bridge) => bridge.name.clone(),
            });
        }
        for Link::Veth(veth) in &lab.links {
            names.extend([veth.a.name.clone(), veth.b.name.clone()]);
        }
    }
    names
}

fn pick<T: Clone>(items: &[T], at: usize) -> Option<T> {
    (!items.is_empty()).then(|| items[at % items.len()].clone())
}

fn op(kernel: &Observed, names: &[String], kind: u8, x: usize, y: usize) -> Option<Op> {
    let namespaces: Vec<Netns> = kernel.namespaces.keys().cloned().collect();
    let links: Vec<LinkRef> = kernel
        .namespaces
        .iter()
        .flat_map(|(netns, namespace)| namespace.links.keys().map(|name| LinkRef::new(netns.clone(), name)))
        .collect();
    let name = |at: usize| pick(names, at).unwrap_or_default();
    let link = || pick(&links, x);
    Some(match kind % 15 {
        0 => Op::DeleteNamespace { name: pick(&namespaces, x)?.name()?.to_string() },
        1 => Op::SetLoopback { netns: pick(&namespaces, x)?, up: y & 1 == 1 },
        2 => Op::SetForwarding {
            netns: pick(&namespaces, x)?,
            family: if y & 1 == 0 { Family::V4 } else { Family::V6 },
            enabled: y & 2 == 2,
        },
        3 => Op::DeleteLink { link: link()? },
        4 => Op::SetUp { link: link()?, up: y & 1 == 1 },
        5 => Op::SetMtu { link: link()?, mtu: MTUS[y % MTUS.len()] },
        6 => {
            let link = link()?;
            let address = pick(&kernel.link(&link)?.addresses, y)?.to_string();
            Op::DeleteAddress { link, address }
        }
        7 => Op::AddAddress { link: link()?, address: ADDRESSES[y % ADDRESSES.len()].to_string() },
        8 => Op::SetNoMaster { link: link()? },
        9 => {
            let link = link()?;
            let bridges: Vec<String> = kernel.namespaces[&link.netns]
                .links
                .iter()
                .filter(|(_, found)| found.kind == "bridge")
                .map(|(name, _)| name.clone())
                .collect();
            Op::SetMaster { master: pick(&bridges, y)?, link }
        }
        10 => Op::RenameLink { link: link()?, new_name: name(y) },
        11 => Op::CreateBridge { link: LinkRef::new(pick(&namespaces, x)?, name(y)) },
        12 => Op::CreateNamespace { name: name(x) },
        13 => Op::CreateVeth {
            a: LinkRef::new(pick(&namespaces, x)?, name(y)),
            b: LinkRef::new(pick(&namespaces, y)?, name(x + y + 1)),
        },
        _ => Op::SetMac { link: link()?, mac: MACS[y % MACS.len()].to_string() },
    })
}

/// What a change made belongs to `owner` (None: made by hand, unmarked).
fn mark(kernel: &mut Observed, op: &Op, owner: Option<String>) {
    let mut mark_link = |link: &LinkRef| {
        if let Some(found) = kernel.namespaces.get_mut(&link.netns).and_then(|ns| ns.links.get_mut(&link.name)) {
            found.owner = owner.clone();
        }
    };
    match op {
        Op::CreateBridge { link } => mark_link(link),
        Op::CreateVeth { a, b } => {
            mark_link(a);
            mark_link(b);
        }
        Op::CreateNamespace { name } => {
            if let Some(namespace) = kernel.namespaces.get_mut(&Netns::Named(name.clone())) {
                namespace.owner = owner;
            }
        }
        _ => {}
    }
}
