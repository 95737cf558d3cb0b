//! One netlink connection per namespace, opened once on a thread inside that namespace
//! and reused (a socket keeps the namespace it was created in).

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::sync::Mutex;

use nslab_model::identity::Netns;
use rtnetlink::Handle;

use super::error::KernelError;
use super::netns;
use super::reading::{HostSocket, ReadingSocket};

/// Netlink handles and namespace files, per namespace.
pub struct Connections {
    runtime: tokio::runtime::Handle,
    handles: Mutex<HashMap<Netns, Handle>>,
    files: Mutex<HashMap<Netns, std::sync::Arc<File>>>,
    /// Plain netlink sockets for an observe's reads inside namespaces (see `reading.rs`).
    reading: Mutex<HashMap<Netns, std::sync::Arc<ReadingSocket>>>,
    /// Host sockets for the readings' jobs on the namespace workers: no more jobs than
    /// workers run at once, so each finds one free.
    host_sockets: HostSockets,
    host_sockets_opened: Mutex<bool>,
}

/// A namespace's connections and file, out of `Connections`: each keeps the namespace alive.
pub struct Detached {
    _handle: Option<Handle>,
    _reading: Option<std::sync::Arc<ReadingSocket>>,
    file: Option<std::sync::Arc<File>>,
}

impl Detached {
    #[cfg(test)]
    pub fn of_file(file: std::sync::Arc<File>) -> Detached {
        Detached { _handle: None, _reading: None, file: Some(file) }
    }

    /// Opens the namespace's file unless it is held already (when it cannot be opened, the
    /// namespace is simply not held by it).
    pub fn keep_file(&mut self, netns: &Netns) {
        if self.file.is_none() {
            self.file = netns::open_netns(netns).ok().map(std::sync::Arc::new);
        }
    }
}

/// Host sockets a reading job takes one of and gives back.
pub type HostSockets = std::sync::Arc<Mutex<Vec<HostSocket>>>;

type Opened = (rtnetlink::proto::Connection<rtnetlink::packet_route::RouteNetlinkMessage>, Handle);

impl Connections {
    /// Must be called inside a tokio runtime: sockets register with its reactor.
    pub fn new() -> Self {
        Connections {
            runtime: tokio::runtime::Handle::current(),
            handles: Mutex::new(HashMap::new()),
            files: Mutex::new(HashMap::new()),
            reading: Mutex::new(HashMap::new()),
            host_sockets: HostSockets::default(),
            host_sockets_opened: Mutex::new(false),
        }
    }

    /// The handle for `netns`, opening a connection on first use.
    pub async fn handle(&self, netns: &Netns) -> Result<Handle, KernelError> {
        if let Some(handle) = self.handles.lock().expect("not poisoned").get(netns) {
            return Ok(handle.clone());
        }
        let runtime = self.runtime.clone();
        let opened = self.run_in(netns, move || open_connection(&runtime)).await?;
        Ok(self.register(netns, opened))
    }

    /// The host sockets, one per namespace worker, opened on first use here, on a runtime
    /// thread, which is in the host namespace (nslab never moves its runtime's threads).
    pub fn host_sockets(&self) -> Result<HostSockets, KernelError> {
        let mut opened = self.host_sockets_opened.lock().expect("not poisoned");
        if !*opened {
            let mut sockets = self.host_sockets.lock().expect("not poisoned");
            for _ in 0..super::workers::WORKERS {
                sockets.push(HostSocket::open().map_err(|e| KernelError::system("cannot open a netlink socket", e))?);
            }
            *opened = true;
        }
        Ok(self.host_sockets.clone())
    }

    /// Runs `read` with the reading socket of `netns` on a namespace worker, opening the
    /// socket there first when the namespace has none yet: one trip to a worker either way.
    pub async fn read_in<T: Send + 'static>(
        &self,
        netns: &Netns,
        read: impl FnOnce(&ReadingSocket) -> Result<T, KernelError> + Send + 'static,
    ) -> Result<T, KernelError> {
        let known = self.reading.lock().expect("not poisoned").get(netns).cloned();
        if let Some(socket) = known {
            // The socket reads its own namespace from any thread.
            return netns::run_in(&Netns::Host, move || read(&socket)).await;
        }
        let (socket, value) = self
            .run_in(netns, move || {
                let socket = std::sync::Arc::new(open_reading()?);
                let value = read(&socket)?;
                Ok((socket, value))
            })
            .await?;
        self.reading.lock().expect("not poisoned").insert(netns.clone(), socket);
        Ok(value)
    }

    /// `netns::run_in` with the namespace's kept file, not a fresh one each time.
    async fn run_in<T: Send + 'static>(
        &self,
        netns: &Netns,
        job: impl FnOnce() -> Result<T, KernelError> + Send + 'static,
    ) -> Result<T, KernelError> {
        let target = match netns {
            Netns::Host => None,
            Netns::Named(_) => Some(self.file(netns)?),
        };
        netns::run_in_file(target, netns, job).await
    }

    /// Creates a named namespace and its sockets in one trip into it (the apply's verify
    /// reads it through both: opening them later would take another trip).
    pub async fn create_namespace(&self, name: &str) -> Result<Handle, KernelError> {
        let runtime = self.runtime.clone();
        let (opened, reading) =
            netns::create_named(name, move || Ok((open_connection(&runtime)?, open_reading()?))).await?;
        let netns = Netns::Named(name.to_string());
        // A file opened while the name was being made (by a concurrent reader) is stale.
        self.files.lock().expect("not poisoned").remove(&netns);
        self.reading.lock().expect("not poisoned").insert(netns.clone(), std::sync::Arc::new(reading));
        Ok(self.register(&netns, opened))
    }

    fn register(&self, netns: &Netns, (connection, handle): Opened) -> Handle {
        self.runtime.spawn(connection);
        self.handles.lock().expect("not poisoned").insert(netns.clone(), handle.clone());
        handle
    }

    /// Drops the connection to a namespace (before deleting it: the socket would keep it alive).
    pub fn forget(&self, netns: &Netns) {
        drop(self.detach(netns));
    }

    /// Takes the namespace's connections and file out, for the caller to drop when it
    /// chooses (see `teardown`).
    pub fn detach(&self, netns: &Netns) -> Detached {
        Detached {
            _handle: self.handles.lock().expect("not poisoned").remove(netns),
            _reading: self.reading.lock().expect("not poisoned").remove(netns),
            file: self.files.lock().expect("not poisoned").remove(netns),
        }
    }

    /// Drops every connection to a namespace that is not in `present`: someone deleted it,
    /// and our sockets must not keep it (and the veth peers it holds) alive.
    /// Every kind of socket and file counts: another process's namespaces that this one
    /// only ever read (a second server on the same host) are held by reading sockets alone.
    pub fn forget_all_but(&self, present: &HashSet<Netns>) {
        let mut held: Vec<Netns> = self.handles.lock().expect("not poisoned").keys().cloned().collect();
        held.extend(self.reading.lock().expect("not poisoned").keys().cloned());
        held.extend(self.files.lock().expect("not poisoned").keys().cloned());
        held.sort();
        held.dedup();
        for netns in held {
            if netns.name().is_some_and(|name| !name.is_empty()) && !present.contains(&netns) {
                self.forget(&netns);
            }
        }
    }

    /// Whether a file of the namespace is open already.
    pub fn has_file(&self, netns: &Netns) -> bool {
        self.files.lock().expect("not poisoned").contains_key(netns)
    }

    /// An open file of the namespace, for requests that name a namespace by fd.
    pub fn file(&self, netns: &Netns) -> Result<std::sync::Arc<File>, KernelError> {
        let mut files = self.files.lock().expect("not poisoned");
        if let Some(file) = files.get(netns) {
            return Ok(file.clone());
        }
        let no_namespace = |stray| KernelError::NoNamespace { name: netns.name().unwrap_or_default().into(), stray };
        let file = match netns::open_netns(netns) {
            Err(error) if error.errno() == Some(libc::ENOENT) => return Err(no_namespace(false)),
            opened => opened?,
        };
        // Between `ip netns add` making the file and binding the namespace onto it, the file
        // is an empty plain file (and stays so when the `ip netns add` died): never keep it.
        if !netns::is_namespace_file(&file) {
            return Err(no_namespace(true));
        }
        let file = std::sync::Arc::new(file);
        files.insert(netns.clone(), file.clone());
        Ok(file)
    }
}

/// A reading socket in the calling thread's namespace.
fn open_reading() -> Result<ReadingSocket, KernelError> {
    ReadingSocket::open().map_err(|e| KernelError::system("cannot open a netlink socket", e))
}

fn open_connection(runtime: &tokio::runtime::Handle) -> Result<Opened, KernelError> {
    // The socket registers with the runtime's reactor as it is made, on this thread.
    let _entered = runtime.enter();
    let (connection, handle, _) =
        rtnetlink::new_connection().map_err(|error| KernelError::system("cannot open a netlink socket", error))?;
    Ok((connection, handle))
}
