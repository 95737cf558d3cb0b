//! The `ip` renderer: never panics on any lab (the editor shows the commands of half-typed
//! labs too). For a lab that validates (the export needs one), the script's header is only
//! comments whatever the name and description say, it holds every creation and teardown
//! op's command in order, and each command reads, to a shell, as exactly its words: the
//! names the lab gave, each one word, with nothing for the shell to act on.

use nslab_model::export::to_ip_script;
use nslab_model::identity::{owner_marker, Netns};
use nslab_model::ops::Op;
use nslab_model::plan::{creation_ops, teardown_ops};

use crate::shell_words::words;

pub fn ip_renderer(data: &[u8]) {
    let Some(lab) = crate::load(data) else { return };
    let script = to_ip_script(&lab);
    if !crate::is_valid(&lab) {
        return;
    }
    let (header, body) = script.split_once("set -e\n").expect("the script sets -e");
    assert!(header.lines().all(|line| line.starts_with('#')), "the header runs something:\n{header}");
    let mut rest = body;
    for op in creation_ops(&lab).iter().chain(&teardown_ops(&lab)) {
        let command = op.ip_command();
        let line = format!("  {command}\n");
        let at = rest.find(&line).unwrap_or_else(|| panic!("`{command}` is not in the script (in order):\n{script}"));
        rest = &rest[at + line.len()..];
        check_command(op, &command);
    }
}

/// The command reads as words that start with `ip`, `sysctl` or `tc` and hold each of the op's
/// names as one word.
fn check_command(op: &Op, command: &str) {
    let read = words(command).unwrap_or_else(|| panic!("the shell would act on `{command}` ({op:?})"));
    // `ip netns exec NS sysctl ...` runs sysctl in a namespace.
    let program = match read.as_slice() {
        [ip, netns, exec, _, program, ..] if ip == "ip" && netns == "netns" && exec == "exec" => program.as_str(),
        [program, ..] => program.as_str(),
        [] => "",
    };
    assert!(matches!(program, "ip" | "sysctl" | "tc"), "`{command}` runs {program}");
    for name in op_words(op) {
        assert!(read.contains(&name), "`{command}` does not hold {name:?} as one word: {read:?}");
    }
}

/// The names and values of an op that its command must pass through unchanged.
fn op_words(op: &Op) -> Vec<String> {
    let netns = |netns: &Netns| netns.name().map(str::to_string);
    let mut found: Vec<Option<String>> = Vec::new();
    match op {
        Op::CreateNamespace { name } | Op::DeleteNamespace { name } => found.push(Some(name.clone())),
        Op::AdoptNamespace { name, lab } => found.extend([Some(name.clone()), Some(owner_marker(lab))]),
        Op::SetLoopback { netns: at, .. } | Op::SetForwarding { netns: at, .. } => found.push(netns(at)),
        Op::CreateVeth { a, b } => {
            found.extend([netns(&a.netns), netns(&b.netns), Some(a.name.clone()), Some(b.name.clone())])
        }
        Op::CreateBridge { link }
        | Op::DeleteLink { link }
        | Op::SetUp { link, .. }
        | Op::SetNoMaster { link }
        | Op::SetNetem { link, .. }
        | Op::ClearNetem { link } => found.extend([netns(&link.netns), Some(link.name.clone())]),
        Op::SetMtu { link, mtu } => found.extend([netns(&link.netns), Some(link.name.clone()), Some(mtu.to_string())]),
        Op::SetMaster { link, master: value }
        | Op::SetMac { link, mac: value }
        | Op::AddAddress { link, address: value }
        | Op::DeleteAddress { link, address: value }
        | Op::RenameLink { link, new_name: value } => {
            found.extend([netns(&link.netns), Some(link.name.clone()), Some(value.clone())])
        }
        Op::AdoptLink { link, lab } => {
            found.extend([netns(&link.netns), Some(link.name.clone()), Some(owner_marker(lab))])
        }
        Op::AddRoute { netns: at, route, .. } | Op::DeleteRoute { netns: at, route, .. } => {
            found.extend([netns(at), Some(route.to.clone()), route.via.clone(), route.dev.clone()]);
            found.push(route.metric.map(|metric| metric.to_string()));
        }
    }
    found.into_iter().flatten().collect()
}
