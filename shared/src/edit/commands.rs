//! The teaching view: the iproute2 commands an edit stands for.

use crate::lab::{Lab, Link};
use crate::ops::Op;
use crate::plan::{creation_ops, plan, PlanOptions};
use crate::problem::has_errors;
use crate::simulate::{empty_host, simulate};
use crate::validate;

/// The iproute2 commands that take a kernel holding `before` to one holding `after`, as
/// `nslab apply` would run them: a simulated kernel is built from `before`, and `after` is
/// planned against it.
///
/// - `after` with validation errors (a half-typed address) cannot be applied: no commands.
///   The next edit that makes it valid again shows everything since.
/// - `before` with errors: the kernel is built from the parts of it that make sense (what
///   cannot be built is skipped), so going from a half-typed address to a whole one shows
///   the one `ip addr add`. The editor may as well pass the last lab that was valid.
/// - The kernel is built under `after`'s lab name, so renaming the lab plans nothing.
///
/// Never panics, whatever the labs hold.
pub fn commands_for_edit(before: &Lab, after: &Lab) -> Vec<String> {
    // Moving nodes is most edits: it must not cost a plan of the whole lab.
    if before == after || kernel_part(before) == kernel_part(after) || has_errors(&validate(after)) {
        return Vec::new();
    }
    let mut kernel = empty_host();
    for op in creation_ops(before) {
        // An op that cannot run (a name used twice in a broken lab) is skipped, as the
        // kernel would refuse it and go on with the rest.
        let _ = simulate(&mut kernel, &after.name, std::slice::from_ref(&op));
    }
    match plan(after, &kernel, &PlanOptions::default()) {
        Ok(ops) => ops.iter().map(Op::ip_command).collect(),
        Err(_) => Vec::new(),
    }
}

/// The lab without what only people and the editor read: positions and other editor data,
/// the description, the name (a renamed lab plans nothing, see above).
fn kernel_part(lab: &Lab) -> Lab {
    let mut lab = lab.clone();
    lab.name.clear();
    lab.description.clear();
    lab.editor = None;
    for node in &mut lab.nodes {
        *super::editor_mut(node) = None;
    }
    for Link::Veth(veth) in &mut lab.links {
        veth.editor = None;
    }
    lab
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::{move_nodes, Point};

    fn seed_bridge() -> Lab {
        crate::load::load_lab_str(include_str!("../../../examples/seed-bridge.json")).unwrap()
    }

    #[test]
    fn moving_nodes_or_renaming_the_lab_stands_for_no_command() {
        let lab = seed_bridge();
        let moved = move_nodes(&lab, &["ns0".to_string()], Point::new(40.0, 20.0));
        assert_ne!(moved, lab);
        assert!(commands_for_edit(&lab, &moved).is_empty());
        let mut described = lab.clone();
        described.description = "for Tuesday".into();
        described.name = "tuesday".into();
        assert!(commands_for_edit(&lab, &described).is_empty());
    }

    #[test]
    fn an_address_change_next_to_a_move_still_shows_its_command() {
        let lab = seed_bridge();
        let mut changed = move_nodes(&lab, &["ns0".to_string()], Point::new(40.0, 20.0));
        let Link::Veth(veth) = &mut changed.links[0];
        let end = if veth.a.node == "ns0" { &mut veth.a } else { &mut veth.b };
        end.addresses = vec!["172.17.0.201/16".into()];
        let commands = commands_for_edit(&lab, &changed);
        assert!(commands.iter().any(|c| c.contains("172.17.0.201/16")), "{commands:?}");
    }
}
