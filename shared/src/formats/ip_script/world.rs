//! What the script has made so far, as the kernel keeps it: namespaces with their
//! settings and routes, and interfaces by namespace and name. The rules are the kernel's:
//! an interface moved to another namespace arrives down, without its addresses, off its
//! bridge, and the routes through it go; a name is unique in its namespace; an unnamed
//! veth end gets the lowest free `vethN`.

use std::collections::{BTreeSet, HashMap};

use crate::identity::Netns;
use crate::import::LeftOut;
use crate::lab::Route;
use crate::netem::Netem;

use super::Skip;

/// Linux interface names are at most IFNAMSIZ - 1 bytes.
const MAX_NAME: usize = 15;

/// A namespace: the host's (the first) or one `ip netns add` made.
#[derive(Debug, Clone)]
pub struct Namespace {
    pub netns: Netns,
    pub loopback_up: bool,
    pub ipv4_forwarding: Option<bool>,
    pub ipv6_forwarding: Option<bool>,
    pub routes: Vec<Route>,
    /// Its place among the nodes, in the order they were made.
    pub made: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A veth end and the index of its peer; `first` is the end the lab names `a`.
    Veth {
        peer: usize,
        first: bool,
    },
    Bridge,
    /// An interface a lab cannot hold (a dummy, a VLAN): commands on it are left out.
    Other(String),
}

#[derive(Debug, Clone)]
pub struct Interface {
    pub netns: Netns,
    pub name: String,
    pub kind: Kind,
    pub addresses: Vec<String>,
    pub mtu: Option<u32>,
    pub up: bool,
    pub mac: Option<String>,
    /// The bridge it is a port of (an index into `World::interfaces`).
    pub master: Option<usize>,
    pub netem: Option<Netem>,
    pub made: usize,
}

#[derive(Debug, Default)]
pub struct World {
    pub namespaces: Vec<Namespace>,
    /// Every interface ever made; a deleted one is None, so indexes stay.
    pub interfaces: Vec<Option<Interface>>,
    /// The live interfaces by namespace and name (a script of a thousand lines looks
    /// names up many times).
    by_name: HashMap<(Netns, String), usize>,
    /// What was left out, with its line.
    pub left_out: Vec<LeftOut>,
    /// Left out by the command being run, beside what it did (`proto static` of a route).
    notes: Vec<String>,
    made: usize,
}

impl World {
    pub fn leave_out(&mut self, line: usize, what: String) {
        self.left_out.push(LeftOut::new(format!("line {line}"), what));
    }

    /// Names `what` as left out by the command being run, which still does the rest.
    pub fn note(&mut self, what: String) {
        self.notes.push(what);
    }

    pub fn take_notes(&mut self, line: usize) {
        for what in std::mem::take(&mut self.notes) {
            self.leave_out(line, what);
        }
    }

    fn next_made(&mut self) -> usize {
        self.made += 1;
        self.made
    }

    pub fn add_namespace(&mut self, name: &str) -> Result<(), Skip> {
        check_namespace_name(name)?;
        let netns = Netns::Named(name.to_string());
        if self.namespace(&netns).is_some() {
            return Err(Skip::NotUnderstood(format!("namespace `{name}` exists already")));
        }
        let made = self.next_made();
        self.namespaces.push(Namespace {
            netns,
            loopback_up: false,
            ipv4_forwarding: None,
            ipv6_forwarding: None,
            routes: Vec::new(),
            made,
        });
        Ok(())
    }

    /// Deletes a namespace: its interfaces go, and with a veth its peer.
    pub fn delete_namespace(&mut self, name: &str) -> Result<(), Skip> {
        let netns = Netns::Named(name.to_string());
        let Some(at) = self.namespaces.iter().position(|namespace| namespace.netns == netns) else {
            return Err(no_namespace(name));
        };
        self.namespaces.remove(at);
        let inside: Vec<usize> = self.live().filter(|(_, i)| i.netns == netns).map(|(index, _)| index).collect();
        for index in inside {
            self.delete_interface(index);
        }
        Ok(())
    }

    /// The namespace, made on first use for the host's.
    pub fn namespace_mut(&mut self, netns: &Netns) -> Result<&mut Namespace, Skip> {
        if *netns == Netns::Host && self.namespace(netns).is_none() {
            self.namespaces.push(Namespace {
                netns: Netns::Host,
                loopback_up: true,
                ipv4_forwarding: None,
                ipv6_forwarding: None,
                routes: Vec::new(),
                made: 0,
            });
        }
        let name = netns.name().unwrap_or_default().to_string();
        self.namespaces.iter_mut().find(|namespace| namespace.netns == *netns).ok_or_else(|| no_namespace(&name))
    }

    pub fn namespace(&self, netns: &Netns) -> Option<&Namespace> {
        self.namespaces.iter().find(|namespace| namespace.netns == *netns)
    }

    /// Fails unless the namespace exists (the host's always does).
    pub fn check_namespace(&self, netns: &Netns) -> Result<(), Skip> {
        match netns {
            Netns::Host => Ok(()),
            Netns::Named(name) => self.namespace(netns).map(|_| ()).ok_or_else(|| no_namespace(name)),
        }
    }

    pub fn live(&self) -> impl Iterator<Item = (usize, &Interface)> {
        self.interfaces.iter().enumerate().filter_map(|(index, interface)| Some((index, interface.as_ref()?)))
    }

    pub fn interface(&self, index: usize) -> &Interface {
        self.interfaces[index].as_ref().expect("a live interface")
    }

    pub fn interface_mut(&mut self, index: usize) -> &mut Interface {
        self.interfaces[index].as_mut().expect("a live interface")
    }

    fn index_of(&self, netns: &Netns, name: &str) -> Option<usize> {
        self.by_name.get(&(netns.clone(), name.to_string())).copied()
    }

    /// The interface called `name` in `netns`, for a command to change. `lo` and an
    /// interface the lab leaves out are named as left out; one that does not exist is an
    /// error, as `ip` says "Cannot find device".
    pub fn find(&self, netns: &Netns, name: &str) -> Result<usize, Skip> {
        self.check_namespace(netns)?;
        if name == "lo" {
            return Err(Skip::LeftOut(format!("a setting of `lo` in {netns} (a lab keeps only whether `lo` is up)")));
        }
        match self.index_of(netns, name) {
            Some(index) => match &self.interface(index).kind {
                Kind::Other(kind) => Err(Skip::LeftOut(format!("a setting of `{name}`, {kind} the lab leaves out"))),
                _ => Ok(index),
            },
            None => Err(Skip::NotUnderstood(format!("there is no interface `{name}` in {netns}"))),
        }
    }

    /// The interface called `name` in `netns`, whatever its kind, for a command that
    /// deletes it.
    pub fn find_any(&self, netns: &Netns, name: &str) -> Result<usize, Skip> {
        self.check_namespace(netns)?;
        self.index_of(netns, name)
            .ok_or_else(|| Skip::NotUnderstood(format!("there is no interface `{name}` in {netns}")))
    }

    /// A name for a new interface in `netns`: `wanted`, or the first free `PREFIXN`.
    pub fn new_name(&self, netns: &Netns, wanted: Option<&str>, prefix: &str) -> Result<String, Skip> {
        let taken = |name: &str| name == "lo" || self.index_of(netns, name).is_some();
        match wanted {
            Some(name) => {
                check_interface_name(name)?;
                if taken(name) {
                    return Err(Skip::NotUnderstood(format!("{netns} has an interface `{name}` already")));
                }
                Ok(name.to_string())
            }
            None => Ok(crate::names::next_free_name(prefix, 0, taken)),
        }
    }

    pub fn add_interface(&mut self, netns: Netns, name: String, kind: Kind) -> usize {
        let made = self.next_made();
        self.by_name.insert((netns.clone(), name.clone()), self.interfaces.len());
        self.interfaces.push(Some(Interface {
            netns,
            name,
            kind,
            addresses: Vec::new(),
            mtu: None,
            up: false,
            mac: None,
            master: None,
            netem: None,
            made,
        }));
        self.interfaces.len() - 1
    }

    /// Takes back the interface made last (a veth whose second end could not be made).
    pub fn remove_last_interface(&mut self) {
        if let Some(Some(interface)) = self.interfaces.pop() {
            self.by_name.remove(&(interface.netns, interface.name));
        }
    }

    /// Deletes an interface: a veth's peer goes too, a bridge's ports leave it, and the
    /// routes through it go.
    pub fn delete_interface(&mut self, index: usize) {
        let Some(interface) = self.interfaces[index].take() else { return };
        self.by_name.remove(&(interface.netns.clone(), interface.name.clone()));
        self.drop_routes_through(&interface.netns, &interface.name);
        for port in self.interfaces.iter_mut().flatten() {
            if port.master == Some(index) {
                port.master = None;
            }
        }
        if let Kind::Veth { peer, .. } = interface.kind {
            self.delete_interface(peer);
        }
    }

    /// Moves an interface to another namespace as the kernel does: down, without its
    /// addresses and bridge, its routes gone.
    pub fn move_interface(&mut self, index: usize, to: &Netns) -> Result<(), Skip> {
        self.check_namespace(to)?;
        let interface = self.interface(index).clone();
        if interface.netns == *to {
            return Ok(());
        }
        if interface.kind == Kind::Bridge {
            return Err(Skip::NotUnderstood(format!("bridge `{}` cannot move to another namespace", interface.name)));
        }
        if self.index_of(to, &interface.name).is_some() {
            return Err(Skip::NotUnderstood(format!("{to} has an interface `{}` already", interface.name)));
        }
        self.drop_routes_through(&interface.netns, &interface.name);
        for port in self.interfaces.iter_mut().flatten() {
            if port.master == Some(index) {
                port.master = None;
            }
        }
        self.by_name.remove(&(interface.netns.clone(), interface.name.clone()));
        self.by_name.insert((to.clone(), interface.name.clone()), index);
        let moved = self.interface_mut(index);
        moved.netns = to.clone();
        moved.up = false;
        moved.addresses.clear();
        moved.master = None;
        Ok(())
    }

    pub fn rename(&mut self, index: usize, new_name: &str) -> Result<(), Skip> {
        let netns = self.interface(index).netns.clone();
        if self.interface(index).name == new_name {
            return Ok(());
        }
        let new_name = self.new_name(&netns, Some(new_name), "")?;
        let old = std::mem::replace(&mut self.interface_mut(index).name, new_name.clone());
        self.by_name.remove(&(netns.clone(), old.clone()));
        self.by_name.insert((netns.clone(), new_name.clone()), index);
        if let Some(namespace) = self.namespaces.iter_mut().find(|namespace| namespace.netns == netns) {
            for route in namespace.routes.iter_mut().filter(|route| route.dev.as_deref() == Some(old.as_str())) {
                route.dev = Some(new_name.clone());
            }
        }
        Ok(())
    }

    fn drop_routes_through(&mut self, netns: &Netns, name: &str) {
        if let Some(namespace) = self.namespaces.iter_mut().find(|namespace| namespace.netns == *netns) {
            namespace.routes.retain(|route| route.dev.as_deref() != Some(name));
        }
    }

    /// Names of the namespaces and bridges, the lab's node names so far.
    pub fn node_names(&self) -> BTreeSet<String> {
        let namespaces = self.namespaces.iter().filter_map(|namespace| namespace.netns.name().map(str::to_string));
        let bridges = self.live().filter(|(_, i)| i.kind == Kind::Bridge).map(|(_, i)| i.name.clone());
        namespaces.chain(bridges).collect()
    }
}

fn no_namespace(name: &str) -> Skip {
    Skip::NotUnderstood(format!("there is no namespace `{name}` (add it first with `ip netns add {name}`)"))
}

fn check_interface_name(name: &str) -> Result<(), Skip> {
    if name.is_empty() || name.len() > MAX_NAME {
        return Err(Skip::NotUnderstood(format!("`{name}` cannot name an interface: 1 to {MAX_NAME} bytes")));
    }
    if name.contains(['/', ':']) || name.chars().any(char::is_whitespace) || name == "." || name == ".." {
        return Err(Skip::NotUnderstood(format!(
            "`{name}` cannot name an interface: no `/`, `:` or spaces, and not `.` or `..`"
        )));
    }
    Ok(())
}

fn check_namespace_name(name: &str) -> Result<(), Skip> {
    if name.is_empty() || name.contains('/') || name == "." || name == ".." {
        return Err(Skip::NotUnderstood(format!("`{name}` cannot name a namespace")));
    }
    Ok(())
}
