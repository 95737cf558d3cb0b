//! The plan proper: desired lab + observed kernel -> the ops that close the difference.
//!
//! An unchanged lab plans nothing; an edit plans only what it touches. nslab changes and
//! deletes only what carries its lab's mark (see `identity::OWNER_PREFIX`); anything else
//! in the way is a conflict, unless the caller adopts it explicitly.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::creation::{bridge_creation, link_ref, settings_ops};
use super::settings::{delete_route_op, settings_diff, WantedRoute};
use crate::identity::{LinkRef, Netns};
use crate::lab::{Lab, Node};
use crate::observed::{Observed, ObservedLink, ObservedRoute};
use crate::ops::Op;
use crate::path::DocPath;
use crate::topology::{Interface, Role, Topology};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlanOptions {
    /// Take over namespaces and interfaces the lab names that nslab did not create.
    pub adopt: bool,
}

/// Something in the kernel the plan would have to change but may not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    /// The part of the lab that wants it.
    pub path: DocPath,
    pub message: String,
}

/// The ops that make the kernel hold `lab`, or the conflicts that forbid it.
pub fn plan(lab: &Lab, observed: &Observed, options: &PlanOptions) -> Result<Vec<Op>, Vec<Conflict>> {
    let mut planner = Planner::new(lab, observed, options);
    planner.namespaces();
    planner.bridges();
    planner.veths();
    planner.leftover_links();
    planner.namespace_settings();
    planner.routes();
    planner.finish()
}

/// Ops collected in buckets, joined in dependency order at the end.
#[derive(Default)]
struct Buckets {
    delete_routes: Vec<Op>,
    delete_addresses: Vec<Op>,
    delete_links: Vec<Op>,
    delete_namespaces: Vec<Op>,
    create_namespaces: Vec<Op>,
    adopt: Vec<Op>,
    namespace_settings: Vec<Op>,
    renames: Vec<Op>,
    create_links: Vec<Op>,
    /// New bridges come up after their ports joined (see `bridge_creation`).
    bridges_up: Vec<Op>,
    link_settings: Vec<Op>,
    add_routes: Vec<Op>,
}

struct Planner<'a> {
    lab: &'a Lab,
    name: &'a str,
    topology: Topology<'a>,
    observed: &'a Observed,
    adopt: bool,
    conflicts: Vec<Conflict>,
    ops: Buckets,
    /// Namespaces this plan creates: nothing in them is observed.
    fresh: HashSet<Netns>,
    /// Observed links this plan keeps (possibly renamed), by their current name.
    kept: HashSet<LinkRef>,
    /// Observed links that go away, or go down for a rename: their routes go with them.
    disturbed: HashSet<LinkRef>,
    /// Observed links that stay up but lose an address: the kernel may drop some of their
    /// routes (wanted ones are added again), and keeps the others (unwanted ones are
    /// deleted, before the addresses go).
    readdressed: HashSet<LinkRef>,
    /// Observed links this plan deletes, each veth by both ends (one delete takes both).
    deleted: HashSet<LinkRef>,
}

impl<'a> Planner<'a> {
    fn new(lab: &'a Lab, observed: &'a Observed, options: &PlanOptions) -> Self {
        Planner {
            lab,
            name: &lab.name,
            topology: Topology::of(lab),
            observed,
            adopt: options.adopt,
            conflicts: Vec::new(),
            ops: Buckets::default(),
            fresh: HashSet::new(),
            kept: HashSet::new(),
            disturbed: HashSet::new(),
            readdressed: HashSet::new(),
            deleted: HashSet::new(),
        }
    }

    fn conflict(&mut self, path: DocPath, message: String) {
        self.conflicts.push(Conflict { path, message });
    }

    /// Whose a thing is, in words, for conflict messages.
    fn not_ours(owner: Option<&str>) -> String {
        match owner {
            Some(lab) => format!("belongs to lab `{lab}`"),
            None => "was not created by nslab".to_string(),
        }
    }

    fn namespaces(&mut self) {
        for (index, node) in self.lab.nodes.iter().enumerate() {
            let Node::Namespace(namespace) = node else { continue };
            let netns = Netns::Named(namespace.name.clone());
            match self.observed.namespace(&netns) {
                None if self.observed.strays.contains(&namespace.name) => self.conflict(
                    DocPath::root().field("nodes").index(index).field("name"),
                    crate::observed::stray_note(&namespace.name),
                ),
                None => {
                    self.ops.create_namespaces.push(Op::CreateNamespace { name: namespace.name.clone() });
                    if namespace.loopback_up {
                        self.ops.create_namespaces.push(Op::SetLoopback { netns: netns.clone(), up: true });
                    }
                    self.fresh.insert(netns);
                }
                Some(found) if found.is_owned_by(self.name) => {}
                Some(found) if self.adopt && found.owner.is_none() => {
                    self.ops.adopt.push(Op::AdoptNamespace { name: namespace.name.clone(), lab: self.name.into() });
                }
                Some(found) => {
                    let whose = Self::not_ours(found.owner.as_deref());
                    let hint = if found.owner.is_none() { "; apply with --adopt to take it over" } else { "" };
                    self.conflict(
                        DocPath::root().field("nodes").index(index).field("name"),
                        format!("namespace `{}` already exists and {whose}{hint}", namespace.name),
                    );
                }
            }
        }
        let desired: HashSet<&str> = self.lab.namespace_names().collect();
        for (netns, found) in &self.observed.namespaces {
            let Netns::Named(name) = netns else { continue };
            if found.is_owned_by(self.name) && !desired.contains(name.as_str()) {
                self.ops.delete_namespaces.push(Op::DeleteNamespace { name: name.clone() });
            }
        }
    }

    /// The observed interface at `link`, unless its namespace is new.
    fn observed_link(&self, link: &LinkRef) -> Option<&'a ObservedLink> {
        if self.fresh.contains(&link.netns) {
            return None;
        }
        self.observed.link(link)
    }

    /// May the plan change or delete this observed interface? Records a conflict if not.
    fn claim(&mut self, link: &LinkRef, found: &ObservedLink, path: DocPath) -> bool {
        if found.is_owned_by(self.name) || (self.adopt && found.owner.is_none()) {
            return true;
        }
        let hint = if found.owner.is_none() { "; apply with --adopt to take it over" } else { "" };
        self.conflict(
            path.field("name"),
            format!(
                "interface name `{}` already exists in {} and {}{hint}",
                link.name,
                link.netns,
                Self::not_ours(found.owner.as_deref())
            ),
        );
        false
    }

    fn bridges(&mut self) {
        let bridges: Vec<Interface<'a>> =
            self.topology.interfaces.iter().filter(|i| matches!(i.role, Role::Bridge { .. })).cloned().collect();
        for bridge in &bridges {
            let link = link_ref(bridge);
            match self.observed_link(&link) {
                Some(found) if found.kind == "bridge" => {
                    if self.claim(&link, found, bridge.path.clone()) {
                        self.keep(&link, found);
                        self.apply_settings(bridge, (&link, &link), found, false);
                    }
                }
                Some(found) => {
                    if self.claim(&link, found, bridge.path.clone()) {
                        self.delete_link(&link, found);
                        self.create_bridge(bridge);
                    }
                }
                None => self.create_bridge(bridge),
            }
        }
    }

    fn create_bridge(&mut self, bridge: &Interface) {
        let (now, later) = bridge_creation(self.lab, bridge);
        self.ops.create_links.extend(now);
        self.ops.bridges_up.extend(later);
    }

    fn veths(&mut self) {
        for index in 0..self.lab.links.len() {
            let Some([a, b]) = self.topology.veth_ends(index) else { continue };
            let (a, b) = (a.clone(), b.clone());
            let (ref_a, ref_b) = (link_ref(&a), link_ref(&b));
            let (found_a, found_b) = (self.observed_link(&ref_a), self.observed_link(&ref_b));
            if let (Some(fa), Some(fb)) = (found_a, found_b) {
                if fa.kind == "veth" && fa.peer.as_ref() == Some(&ref_b) {
                    let claimed_a = self.claim(&ref_a, fa, a.path.clone());
                    let claimed_b = self.claim(&ref_b, fb, b.path.clone());
                    if claimed_a && claimed_b {
                        self.keep_veth_end(&a, &ref_a, fa);
                        self.keep_veth_end(&b, &ref_b, fb);
                    }
                    continue;
                }
            }
            if self.try_rename(&a, &b, found_a, found_b) || self.try_rename(&b, &a, found_b, found_a) {
                continue;
            }
            let mut clear = true;
            for (end, link, found) in [(&a, &ref_a, found_a), (&b, &ref_b, found_b)] {
                if let Some(found) = found {
                    if self.claim(link, found, end.path.clone()) {
                        self.delete_link(link, found);
                    } else {
                        clear = false;
                    }
                }
            }
            if clear {
                self.ops.create_links.push(Op::CreateVeth { a: ref_a, b: ref_b });
                self.ops.create_links.extend(settings_ops(self.lab, &[&a, &b]));
            }
        }
    }

    /// One end (`stays`) is the lab's and in place, and its peer sits in the right
    /// namespace under another name that the lab no longer uses: rename the peer.
    fn try_rename(
        &mut self,
        stays: &Interface,
        moves: &Interface,
        found_stays: Option<&'a ObservedLink>,
        found_moves: Option<&'a ObservedLink>,
    ) -> bool {
        let (Some(found), None) = (found_stays, found_moves) else { return false };
        let Some(peer) = found.peer.clone() else { return false };
        let target = link_ref(moves);
        let usable = found.kind == "veth"
            && found.is_owned_by(self.name)
            && peer.netns == target.netns
            && !self.kept.contains(&peer)
            && !self.topology.interfaces_in(&peer.netns).any(|i| i.name == peer.name);
        let Some(peer_found) = usable.then(|| self.observed.link(&peer)).flatten() else { return false };
        if !peer_found.is_owned_by(self.name) {
            return false;
        }
        if peer_found.up {
            self.ops.renames.push(Op::SetUp { link: peer.clone(), up: false });
            self.disturbed.insert(peer.clone());
        }
        self.ops.renames.push(Op::RenameLink { link: peer.clone(), new_name: target.name.clone() });
        self.kept.insert(peer.clone());
        let stays_link = link_ref(stays);
        self.keep(&stays_link, found);
        self.apply_settings(stays, (&stays_link, &stays_link), found, false);
        self.keep(&peer, peer_found);
        self.apply_settings(moves, (&peer, &target), peer_found, peer_found.up);
        true
    }

    fn keep_veth_end(&mut self, desired: &Interface, link: &LinkRef, found: &ObservedLink) {
        self.keep(link, found);
        self.apply_settings(desired, (link, link), found, false);
    }

    /// The observed interface stays: adopted first if it is not the lab's yet.
    fn keep(&mut self, link: &LinkRef, found: &ObservedLink) {
        self.kept.insert(link.clone());
        if found.owner.is_none() {
            self.ops.adopt.push(Op::AdoptLink { link: link.clone(), lab: self.name.into() });
        }
    }

    fn apply_settings(
        &mut self,
        desired: &Interface,
        names: (&LinkRef, &LinkRef),
        found: &ObservedLink,
        force_up: bool,
    ) {
        let diff = settings_diff(self.lab, desired, names, found, force_up);
        if diff.changes.iter().any(|op| matches!(op, Op::SetUp { up: false, .. })) {
            self.disturbed.insert(names.0.clone());
        } else if diff.drops_addresses {
            self.readdressed.insert(names.0.clone());
        }
        self.ops.delete_addresses.extend(diff.removals);
        self.ops.link_settings.extend(diff.changes);
    }

    /// Deletes an observed link, once: the end of a veth whose other end is already being
    /// deleted is gone with it (an edit that pairs the ends of two veths the other way
    /// round meets each old veth at both ends).
    fn delete_link(&mut self, link: &LinkRef, found: &ObservedLink) {
        self.disturbed.insert(link.clone());
        if let Some(peer) = &found.peer {
            self.disturbed.insert(peer.clone());
        }
        if !self.deleted.insert(link.clone()) {
            return;
        }
        self.deleted.extend(found.peer.clone());
        self.ops.delete_links.push(Op::DeleteLink { link: link.clone() });
    }

    /// The lab's interfaces the document no longer has. A veth goes once, by either end;
    /// namespaces about to be deleted take theirs with them.
    fn leftover_links(&mut self) {
        let dying: HashSet<Netns> = self.ops.delete_namespaces.iter().map(Op::netns).collect();
        let mut gone: HashSet<LinkRef> = self.disturbed.clone();
        let mut deletions = Vec::new();
        for (netns, namespace) in &self.observed.namespaces {
            if dying.contains(netns) {
                continue;
            }
            for (name, found) in &namespace.links {
                let link = LinkRef::new(netns.clone(), name.clone());
                if !found.is_owned_by(self.name) || self.kept.contains(&link) || gone.contains(&link) {
                    continue;
                }
                if self.ops.delete_links.iter().any(|op| *op == Op::DeleteLink { link: link.clone() }) {
                    continue;
                }
                gone.insert(link.clone());
                if let Some(peer) = &found.peer {
                    gone.insert(peer.clone());
                }
                deletions.push((link, found));
            }
        }
        for (link, found) in deletions {
            self.delete_link(&link, found);
        }
    }

    fn namespace_settings(&mut self) {
        for node in &self.lab.nodes {
            match node {
                Node::Namespace(namespace) => {
                    let netns = Netns::Named(namespace.name.clone());
                    let found = if self.fresh.contains(&netns) { None } else { self.observed.namespace(&netns) };
                    let fresh = found.is_none();
                    let (lo, v4, v6) =
                        found.map_or((false, false, false), |f| (f.loopback_up, f.ipv4_forwarding, f.ipv6_forwarding));
                    // A new namespace's loopback is raised with its creation.
                    if !fresh && lo != namespace.loopback_up {
                        let op = Op::SetLoopback { netns: netns.clone(), up: namespace.loopback_up };
                        self.ops.namespace_settings.push(op);
                    }
                    self.forwarding(&netns, (namespace.ipv4_forwarding, v4), (namespace.ipv6_forwarding, v6));
                }
                Node::Host(host) => {
                    let found = self.observed.namespace(&Netns::Host);
                    let (v4, v6) = found.map_or((false, false), |f| (f.ipv4_forwarding, f.ipv6_forwarding));
                    let want4 = host.ipv4_forwarding.unwrap_or(v4);
                    let want6 = host.ipv6_forwarding.unwrap_or(v6);
                    self.forwarding(&Netns::Host, (want4, v4), (want6, v6));
                }
                Node::Bridge(_) => {}
            }
        }
    }

    /// `(wanted, current)` for IPv4 and IPv6.
    fn forwarding(&mut self, netns: &Netns, v4: (bool, bool), v6: (bool, bool)) {
        use crate::address::Family;
        for (family, (want, have)) in [(Family::V4, v4), (Family::V6, v6)] {
            if want != have {
                self.ops.namespace_settings.push(Op::SetForwarding { netns: netns.clone(), family, enabled: want });
            }
        }
    }

    fn routes(&mut self) {
        let mut handled: HashSet<Netns> = HashSet::new();
        for node in &self.lab.nodes {
            if !matches!(node, Node::Host(_) | Node::Namespace(_)) {
                continue;
            }
            let Some(netns) = self.topology.netns_of_node(node.name()).cloned() else { continue };
            let wanted: Vec<WantedRoute> = node.routes().iter().filter_map(WantedRoute::of).collect();
            self.routes_of(&netns, &wanted);
            handled.insert(netns);
        }
        // The host's own routes that nslab made for this lab, when the lab names no host.
        if !handled.contains(&Netns::Host) {
            self.routes_of(&Netns::Host, &[]);
        }
    }

    /// Routes through an interface that goes away or goes down are gone by then; they are
    /// not deleted, and wanted ones are added again (also through an interface that loses
    /// an address, whose unwanted routes stay and are deleted). Only routes the lab owns are deleted:
    /// all of an owned namespace's, and in the host those nslab made through the lab's
    /// own interfaces.
    fn routes_of(&mut self, netns: &Netns, wanted: &[WantedRoute]) {
        let found = if self.fresh.contains(netns) { None } else { self.observed.namespace(netns) };
        let Some(found) = found else {
            self.ops.add_routes.extend(wanted.iter().map(|want| want.add_op(netns)));
            return;
        };
        let whole_namespace_is_ours = found.is_owned_by(self.name);
        let device = |route: &ObservedRoute| route.dev.clone().map(|dev| LinkRef::new(netns.clone(), dev));
        let through =
            |route: &ObservedRoute, links: &HashSet<LinkRef>| device(route).is_some_and(|d| links.contains(&d));
        let present: Vec<&ObservedRoute> =
            found.routes.iter().filter(|route| !through(route, &self.disturbed)).collect();
        let surviving: Vec<&ObservedRoute> =
            present.iter().copied().filter(|route| !through(route, &self.readdressed)).collect();
        for route in &present {
            let ours = whole_namespace_is_ours
                || (route.by_nslab
                    && device(route)
                        .and_then(|dev| self.observed.link(&dev))
                        .is_some_and(|l| l.is_owned_by(self.name)));
            if ours && !wanted.iter().any(|want| want.is(route)) {
                self.ops.delete_routes.push(delete_route_op(netns, route));
            }
        }
        for want in wanted {
            if !surviving.iter().any(|route| want.is(route)) {
                self.ops.add_routes.push(want.add_op(netns));
            }
        }
    }

    fn finish(self) -> Result<Vec<Op>, Vec<Conflict>> {
        if !self.conflicts.is_empty() {
            return Err(self.conflicts);
        }
        let b = self.ops;
        Ok([
            b.delete_routes,
            b.delete_addresses,
            b.delete_links,
            b.delete_namespaces,
            b.create_namespaces,
            b.adopt,
            b.namespace_settings,
            b.renames,
            b.create_links,
            b.bridges_up,
            b.link_settings,
            b.add_routes,
        ]
        .concat())
    }
}
