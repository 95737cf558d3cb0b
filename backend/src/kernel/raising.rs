//! Raising a new bridge once its ports are in. A bridge coming up enables each of its
//! ports, and each enabling walks all the ports and re-arms two multicast snooping timers
//! per port (br_port_state_selection -> br_multicast_enable_port): N^2 timer operations,
//! 20 ms of kernel time under RTNL for 300 ports and 190 ms for 1000 (measured with `ip link
//! set br0 up` on the benchmark's star). A bridge created with snooping off skips that
//! walk's timer work, and switching snooping on afterwards arms each port once: 8 + 3 ms
//! for 300 ports, 47 + 4 ms for 1000. So a bridge this run creates and brings up later is
//! created with `mcast_snooping 0`, and snooping is switched on right after it is up: the
//! kernel ends as `ip link add br0 type bridge` + `ip link set br0 up` leave it, which is
//! what the plan shows. Only a run killed between the two would leave snooping off.

use std::collections::HashSet;
use std::sync::Mutex;

use nslab_model::identity::LinkRef;
use nslab_model::ops::Op;
use rtnetlink::{LinkBridge, LinkMessageBuilder};

use super::error::KernelError;
use super::Kernel;

/// The bridges `ops` create and bring up: those a run creates with snooping off (unless
/// the creating request itself brings them up, see `Kernel::bridge_builder`).
pub fn raised_bridges(ops: &[Op]) -> HashSet<LinkRef> {
    let created: HashSet<&LinkRef> = ops
        .iter()
        .filter_map(|op| match op {
            Op::CreateBridge { link } => Some(link),
            _ => None,
        })
        .collect();
    ops.iter()
        .filter_map(|op| match op {
            Op::SetUp { link, up: true } if created.contains(link) => Some(link.clone()),
            _ => None,
        })
        .collect()
}

/// What one run's ops share: the lab they are done for (whose mark they set) and the
/// bridges the run creates with snooping off and raises later (see the module's doc). It
/// lives as long as the run; a failed run's bridges are deleted by its undo.
pub struct RunScope<'l> {
    pub lab: &'l str,
    raising: Mutex<HashSet<LinkRef>>,
}

impl<'l> RunScope<'l> {
    /// The scope of a run of `ops` for lab `lab`.
    pub fn new(lab: &'l str, ops: &[Op]) -> Self {
        RunScope { lab, raising: Mutex::new(raised_bridges(ops)) }
    }

    /// The scope of undoing a failed run: it only deletes.
    pub fn undoing(lab: &'l str) -> Self {
        RunScope { lab, raising: Mutex::default() }
    }
}

impl Kernel {
    /// `ip link add NAME type bridge`, created down; with snooping off when the run raises
    /// it later, once its ports are in. A bridge its creating request brings up has no
    /// ports yet and keeps the kernel's default.
    pub(super) fn bridge_builder(
        &self,
        link: &LinkRef,
        up_at_creation: bool,
        scope: &RunScope<'_>,
    ) -> LinkMessageBuilder<LinkBridge> {
        let mut raising = scope.raising.lock().expect("not poisoned");
        // rtnetlink's `LinkBridge::new` also brings it up, which a lab with the bridge down
        // must not get.
        let builder = LinkMessageBuilder::<LinkBridge>::new(&link.name);
        if up_at_creation || !raising.contains(link) {
            raising.remove(link);
            return builder;
        }
        builder.mcast_snooping(false)
    }

    /// After `link` came up: switches snooping on if it was created with it off.
    pub(super) async fn after_raising(
        &self,
        link: &LinkRef,
        what: String,
        scope: &RunScope<'_>,
    ) -> Result<(), KernelError> {
        if !scope.raising.lock().expect("not poisoned").remove(link) {
            return Ok(());
        }
        let handle = self.connections.handle(&link.netns).await?;
        let snooping = LinkMessageBuilder::<LinkBridge>::new(&link.name).mcast_snooping(true).build();
        handle.link().change(snooping).execute().await.map_err(|e| KernelError::netlink(what, e))
    }
}

#[cfg(test)]
mod tests {
    use nslab_model::identity::Netns;

    use super::*;

    fn host(name: &str) -> LinkRef {
        LinkRef::new(Netns::Host, name)
    }

    #[test]
    fn only_bridges_the_run_creates_and_raises_are_raised() {
        let ops = vec![
            Op::CreateBridge { link: host("br0") },
            Op::CreateBridge { link: host("br1") },
            Op::SetUp { link: host("v0"), up: true },
            Op::SetUp { link: host("br0"), up: true },
            Op::SetUp { link: host("br1"), up: false },
            Op::SetUp { link: host("br2"), up: true },
        ];
        assert_eq!(raised_bridges(&ops), HashSet::from([host("br0")]));
    }

    #[test]
    fn a_run_without_bridges_raises_none() {
        let ops = vec![Op::SetUp { link: host("br0"), up: true }, Op::DeleteLink { link: host("br1") }];
        assert!(raised_bridges(&ops).is_empty());
    }
}
