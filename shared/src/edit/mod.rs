//! The editor's domain logic: every user action as a pure function from the lab before to
//! the lab after. The editor keeps the results for undo/redo (see [`History`]), so no edit
//! mutates its input and there is no editor state here beyond the [`Selection`].
//!
//! Conventions, so event handlers stay one line:
//!
//! - An edit takes `&Lab` and returns a new `Lab`. Edits that can be refused return
//!   `Result<Lab, String>` (or the lab with what was made, e.g. the new node's name); the
//!   error is a sentence to show the student as it is. Edits that cannot go wrong (moving
//!   nodes, deleting a selection) return the lab directly; names or indexes that do not
//!   exist are ignored.
//! - Names: an empty name, or one already taken (a node name anywhere, an interface name
//!   in the same namespace), is refused. Every other issue of what the user typed (too
//!   long, odd characters, a half-typed address) is kept as typed and left to
//!   [`validate`](crate::validate()), which reports it at its place. Names the editor
//!   proposes always pass validation.
//! - Interfaces follow the kernel: renaming an interface renames it in the routes of its
//!   namespace (`dev eth0` becomes `dev eth1`), and removing one removes the routes through
//!   it, as the kernel does. Deleting a namespace deletes the bridges that live in it (the
//!   kernel destroys them with the namespace); deleting the host node moves its bridges to
//!   "the host namespace" (`namespace` absent), which is the same place.
//! - Positions are the centres of the node cards, in world coordinates, kept in
//!   `editor.x`/`editor.y` and snapped to [`GRID`]. A node without a position is drawn at
//!   the origin; [`place_missing`] gives such nodes a place. During a drag the editor moves
//!   its own position signals and calls [`move_nodes`] once at the drop, so the drag is one
//!   undo step.
//! - Link indexes shift when links are deleted: a [`Selection`] refers to the lab it was
//!   made on; after an edit, undo or remote change, [`Selection::valid_in`] drops what no
//!   longer exists.
//! - [`commands_for_edit`] is the teaching view: the iproute2 commands that take a kernel
//!   holding one lab to the next.

mod commands;
mod delete;
mod history;
mod links;
mod nodes;
mod selection;

use crate::identity::Netns;
use crate::lab::{Lab, Node};
use crate::topology::Topology;

pub use crate::layout::{
    auto_layout, bounds, cards, fit, free_spot, node_position, place_in_free_space, place_missing, position, snap,
    Card, Point, Rect, FIT_MARGIN, GAP_X, GAP_Y, GRID, MAX_FIT_SCALE,
};
use crate::layout::{editor_mut, set_position};
pub use crate::names::{next_free_name, port_name_base, unique_interface_name};
pub use crate::topology::Side;
pub use commands::commands_for_edit;
pub use delete::{delete, deleted_by};
pub use history::{History, HISTORY_LIMIT};
pub use links::{
    addresses_from_text, addresses_to_text, connect, mtu_from_text, reconnect, set_bridge, set_interface,
    InterfaceChange,
};
pub use nodes::{
    add_host, add_node, add_node_avoiding, move_nodes, place_node, rename_node, set_node, NodeChange, NodeKind,
};
pub use selection::Selection;

fn node_name_mut(node: &mut Node) -> &mut String {
    match node {
        Node::Host(host) => &mut host.name,
        Node::Namespace(namespace) => &mut namespace.name,
        Node::Bridge(bridge) => &mut bridge.name,
    }
}

/// The interface names taken in a namespace, `lo` included.
fn interface_names_in(topology: &Topology, netns: &Netns) -> std::collections::HashSet<String> {
    let mut names: std::collections::HashSet<String> =
        topology.interfaces_in(netns).map(|interface| interface.name.to_string()).collect();
    names.insert("lo".to_string());
    names
}

/// Interface names used twice in one namespace (as validation counts them).
fn duplicate_interfaces(lab: &Lab) -> std::collections::HashSet<(Netns, String)> {
    let topology = Topology::of(lab);
    let mut seen = std::collections::HashSet::new();
    let mut twice = std::collections::HashSet::new();
    for interface in &topology.interfaces {
        let key = (interface.netns.clone(), interface.name.to_string());
        if !interface.name.is_empty() && !seen.insert(key.clone()) {
            twice.insert(key);
        }
    }
    twice
}

/// Refuses an edit that made a name clash that was not there before.
fn refuse_new_clash(before: &Lab, after: Lab) -> Result<Lab, String> {
    let old = duplicate_interfaces(before);
    let mut new: Vec<(Netns, String)> = duplicate_interfaces(&after).into_iter().filter(|d| !old.contains(d)).collect();
    new.sort();
    match new.first() {
        None => Ok(after),
        Some((netns, name)) => Err(format!(
            "{} already has an interface called `{name}`; names must differ within a namespace",
            crate::problem::capitalised(&netns.to_string())
        )),
    }
}
