//! The journal of a run: written before a run changes the kernel, removed when it ends.
//! The kernel takes a new interface's mark (its alias) only in a request after the one
//! that creates it, and a namespace is a file in /run/netns before its namespace is bound
//! onto it: a run killed between the two (SIGKILL, a power cut of the process) leaves
//! objects no mark says are the lab's, or an empty file. The journal names them first, so
//! that the next run (which holds the machine's run lock, so a journal it finds is that of
//! a dead run) can finish the interrupted one: it marks what was created as the lab's and
//! removes the empty files. Then a plain apply converges, and destroy removes it all.

use serde::{Deserialize, Serialize};

use crate::identity::{LinkRef, Netns};
use crate::observed::Observed;
use crate::ops::Op;

/// What a run may leave half-done, named before it starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journal {
    pub lab: String,
    /// `apply` or `destroy`, for the message.
    pub work: String,
    /// The process that ran it, for the message.
    pub pid: u32,
    /// The namespaces the run creates or deletes: an empty file under /run/netns of one of
    /// these names is the run's, half-made or half-deleted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
    /// The namespaces among `namespaces` it creates (and may have left unmarked).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub created_namespaces: Vec<String>,
    /// The interfaces it creates, both ends of a veth (each may be left unmarked).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub created_links: Vec<LinkRef>,
}

impl Journal {
    /// The journal of a run of `ops` for `lab`; None when the run creates and deletes no
    /// namespace and creates no interface (nothing it does can be left unmarked).
    pub fn of_run(lab: &str, work: &str, pid: u32, ops: &[Op]) -> Option<Journal> {
        let mut journal = Journal {
            lab: lab.to_string(),
            work: work.to_string(),
            pid,
            namespaces: Vec::new(),
            created_namespaces: Vec::new(),
            created_links: Vec::new(),
        };
        for op in ops {
            match op {
                Op::CreateNamespace { name } => {
                    journal.namespaces.push(name.clone());
                    journal.created_namespaces.push(name.clone());
                }
                Op::DeleteNamespace { name } => journal.namespaces.push(name.clone()),
                Op::CreateBridge { link } => journal.created_links.push(link.clone()),
                Op::CreateVeth { a, b } => journal.created_links.extend([a.clone(), b.clone()]),
                _ => {}
            }
        }
        let empty = journal.namespaces.is_empty() && journal.created_links.is_empty();
        (!empty).then_some(journal)
    }

    /// What finishes the interrupted run in the kernel as `observed` now: the empty files
    /// of its namespaces are deleted (`ip netns delete` removes such a file), what it
    /// created and left unmarked is marked as the lab's. What another lab's mark claims is
    /// left alone. Deletions first: a namespace's file must be gone before anything else.
    pub fn recovery(&self, observed: &Observed) -> Vec<Op> {
        let mut ops: Vec<Op> = self
            .namespaces
            .iter()
            .filter(|name| observed.strays.contains(name.as_str()))
            .map(|name| Op::DeleteNamespace { name: name.clone() })
            .collect();
        for name in &self.created_namespaces {
            let unmarked = observed.namespace(&Netns::Named(name.clone())).is_some_and(|found| found.owner.is_none());
            if unmarked {
                ops.push(Op::AdoptNamespace { name: name.clone(), lab: self.lab.clone() });
            }
        }
        for link in &self.created_links {
            if observed.link(link).is_some_and(|found| found.owner.is_none()) {
                ops.push(Op::AdoptLink { link: link.clone(), lab: self.lab.clone() });
            }
        }
        ops
    }

    /// How the interrupted run is named to a person.
    pub fn describe(&self) -> String {
        format!("an {} of lab `{}` by process {} that was killed", self.work, self.lab, self.pid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observed::{ObservedLink, ObservedNamespace};

    fn named(name: &str) -> Netns {
        Netns::Named(name.to_string())
    }

    fn run() -> Journal {
        let ops = [
            Op::CreateNamespace { name: "a".into() },
            Op::CreateNamespace { name: "b".into() },
            Op::DeleteNamespace { name: "old".into() },
            Op::CreateBridge { link: LinkRef::new(Netns::Host, "br0") },
            Op::CreateVeth { a: LinkRef::new(named("a"), "eth0"), b: LinkRef::new(Netns::Host, "va") },
            Op::SetUp { link: LinkRef::new(Netns::Host, "br0"), up: true },
        ];
        Journal::of_run("lab", "apply", 7, &ops).expect("it creates things")
    }

    #[test]
    fn a_run_that_creates_and_deletes_nothing_needs_no_journal() {
        let ops = [Op::SetUp { link: LinkRef::new(Netns::Host, "br0"), up: true }];
        assert_eq!(Journal::of_run("lab", "apply", 7, &ops), None);
        let journal = run();
        assert_eq!(journal.namespaces, ["a", "b", "old"]);
        assert_eq!(journal.created_namespaces, ["a", "b"]);
        assert_eq!(journal.created_links.len(), 3, "the bridge and both veth ends");
    }

    #[test]
    fn recovery_removes_the_runs_empty_files_and_marks_what_it_left_unmarked_only() {
        let mut observed = Observed::default();
        observed.namespaces.insert(Netns::Host, ObservedNamespace::default());
        observed.namespaces.insert(named("a"), ObservedNamespace::default());
        observed.strays.insert("b".into());
        observed.strays.insert("old".into());
        observed.strays.insert("someone-elses".into());
        let host = observed.namespaces.get_mut(&Netns::Host).unwrap();
        host.links.insert("br0".into(), ObservedLink { owner: Some("lab".into()), ..ObservedLink::new("bridge", 3) });
        host.links.insert("va".into(), ObservedLink { owner: Some("other".into()), ..ObservedLink::new("veth", 4) });
        let inside = observed.namespaces.get_mut(&named("a")).unwrap();
        inside.links.insert("eth0".into(), ObservedLink::new("veth", 2));

        assert_eq!(
            run().recovery(&observed),
            [
                Op::DeleteNamespace { name: "b".into() },
                Op::DeleteNamespace { name: "old".into() },
                Op::AdoptNamespace { name: "a".into(), lab: "lab".into() },
                Op::AdoptLink { link: LinkRef::new(named("a"), "eth0"), lab: "lab".into() },
            ],
            "another's file, a marked bridge and another lab's interface are left alone"
        );
    }

    #[test]
    fn a_journal_reads_back_as_written() {
        let journal = run();
        let text = serde_json::to_string(&journal).unwrap();
        assert_eq!(serde_json::from_str::<Journal>(&text).unwrap(), journal);
        assert!(journal.describe().contains("apply of lab `lab` by process 7"));
    }
}
