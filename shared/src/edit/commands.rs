//! The teaching view: the iproute2 commands an edit stands for.

use crate::lab::Lab;
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
    if before == after || has_errors(&validate(after)) {
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
