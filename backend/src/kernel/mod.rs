//! The kernel driver: the only code that speaks netlink or enters namespaces. It reads
//! the kernel into `Observed` and carries out `Op`s; deciding what to do is the model's.

mod attributes;
pub mod capture;
mod connection;
pub mod error;
mod execute;
mod neighbours;
mod netem;
pub mod netns;
mod nsid;
pub mod observe;
mod packet_ring;
pub mod ping;
mod raising;
mod reading;
pub mod shell;
mod step;
pub mod teardown;
mod unmodelled;
pub mod users;
pub mod vouch;
pub mod watch;
pub mod workers;

use std::collections::HashMap;
use std::sync::Mutex;

use futures::TryStreamExt;
use nslab_model::identity::Netns;
use rtnetlink::packet_route::link::LinkMessage;

use connection::Connections;
pub use error::KernelError;
pub use raising::RunScope;

pub struct Kernel {
    connections: Connections,
    /// Interface indexes by name, per namespace: filled by `observe`, kept up to date by
    /// the ops, and asked of the kernel when missing.
    indexes: Mutex<HashMap<Netns, HashMap<String, u32>>>,
    /// The host's ids of the namespaces as the last full observe read them: a namespace
    /// keeps its id for as long as it lives.
    ids: Mutex<std::sync::Arc<nsid::NamespaceIds>>,
    /// The namespaces the current run deleted, when they are kept until it ends.
    teardown: teardown::KeptForTeardown,
}

impl Kernel {
    /// Must be called inside a tokio runtime.
    #[allow(clippy::new_without_default)] // needs the current runtime: no Default
    pub fn new() -> Self {
        Kernel {
            connections: Connections::new(),
            indexes: Mutex::new(HashMap::new()),
            ids: Mutex::default(),
            teardown: teardown::KeptForTeardown::default(),
        }
    }

    /// Keeps each namespace a run deletes until the run ends (see `teardown`): for a
    /// process with other threads, whose unmounts would otherwise crawl beside the
    /// kernel's teardown of the namespaces unmounted before.
    pub fn keeping_deleted(self) -> Self {
        Kernel { teardown: teardown::KeptForTeardown::enabled(), ..self }
    }

    /// For a run: the namespaces it deletes are let go when the guard is dropped.
    pub fn releasing_deleted(&self) -> teardown::Release<'_> {
        teardown::Release(&self.teardown)
    }

    /// Keeps `keep` (what else holds namespaces the next run deletes: a watch's socket)
    /// until that run has ended: call it right before the run. When deleted namespaces are
    /// not kept, it goes at once.
    pub fn keep_until_run_ends(&self, keep: impl Send + 'static) {
        if self.teardown.is_enabled() {
            self.teardown.keep(keep);
        }
    }

    /// Ends the threads that enter namespaces until a later job needs them again (see
    /// `workers::stop`): for a one-shot process before it deletes many namespaces.
    pub fn stop_workers(&self) {
        workers::stop();
    }

    fn remember_indexes(&self, by_index: &HashMap<Netns, HashMap<u32, String>>) {
        let mut indexes = self.indexes.lock().expect("not poisoned");
        indexes.clear();
        for (netns, names) in by_index {
            indexes.insert(netns.clone(), names.iter().map(|(index, name)| (name.clone(), *index)).collect());
        }
    }

    fn forget_index(&self, netns: &Netns, name: &str) {
        if let Some(names) = self.indexes.lock().expect("not poisoned").get_mut(netns) {
            names.remove(name);
        }
    }

    /// The index of interface `name` in `netns`.
    async fn index_of(&self, netns: &Netns, name: &str) -> Result<u32, KernelError> {
        if let Some(index) = self.indexes.lock().expect("not poisoned").get(netns).and_then(|names| names.get(name)) {
            return Ok(*index);
        }
        let index = match self.get_link(netns, name).await? {
            Some(link) => link.header.index,
            None => return Err(KernelError::NoSuchLink { netns: netns.clone(), name: name.to_string() }),
        };
        self.remember_index(netns, name, index);
        Ok(index)
    }

    /// `ip link show dev NAME` in `netns` (RTM_GETLINK by name): None when there is none.
    async fn get_link(&self, netns: &Netns, name: &str) -> Result<Option<LinkMessage>, KernelError> {
        let handle = self.connections.handle(netns).await?;
        Ok(handle.link().get().match_name(name.to_string()).execute().try_next().await.ok().flatten())
    }

    fn remember_index(&self, netns: &Netns, name: &str, index: u32) {
        self.indexes.lock().expect("not poisoned").entry(netns.clone()).or_default().insert(name.to_string(), index);
    }
}
