//! One netlink connection per namespace, opened once on a thread inside that namespace
//! and reused (a socket keeps the namespace it was created in).

use std::collections::HashMap;
use std::fs::File;
use std::sync::Mutex;

use nslab_model::topology::Netns;
use rtnetlink::Handle;

use super::error::KernelError;
use super::netns;

/// Netlink handles and namespace files, per namespace.
pub struct Connections {
    runtime: tokio::runtime::Handle,
    handles: Mutex<HashMap<Netns, Handle>>,
    files: Mutex<HashMap<Netns, std::sync::Arc<File>>>,
    /// A netlink socket runs one dump at a time (a second one gets EBUSY).
    dump_locks: Mutex<HashMap<Netns, std::sync::Arc<tokio::sync::Mutex<()>>>>,
}

type Opened = (rtnetlink::proto::Connection<rtnetlink::packet_route::RouteNetlinkMessage>, Handle);

impl Connections {
    /// Must be called inside a tokio runtime: sockets register with its reactor.
    pub fn new() -> Self {
        Connections {
            runtime: tokio::runtime::Handle::current(),
            handles: Mutex::new(HashMap::new()),
            files: Mutex::new(HashMap::new()),
            dump_locks: Mutex::new(HashMap::new()),
        }
    }

    /// A host socket with strict checking on (NETLINK_GET_STRICT_CHK): only such a socket
    /// honours a target namespace in address dumps. Opened in the calling thread, which is
    /// in the host namespace (nslab never moves its runtime's threads).
    pub fn strict_host(&self) -> Result<Handle, KernelError> {
        let key = Netns::Named(String::new());
        if let Some(handle) = self.handles.lock().expect("not poisoned").get(&key) {
            return Ok(handle.clone());
        }
        let (connection, handle, _) = rtnetlink::new_connection_with_strict_check()
            .map_err(|error| KernelError::system("cannot open a netlink socket", error))?;
        Ok(self.register(&key, (connection, handle)))
    }

    /// Hold this while dumping through `netns`'s socket.
    pub async fn dump_guard(&self, netns: &Netns) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = self.dump_locks.lock().expect("not poisoned").entry(netns.clone()).or_default().clone();
        lock.lock_owned().await
    }

    /// The handle for `netns`, opening a connection on first use.
    pub async fn handle(&self, netns: &Netns) -> Result<Handle, KernelError> {
        if let Some(handle) = self.handles.lock().expect("not poisoned").get(netns) {
            return Ok(handle.clone());
        }
        let runtime = self.runtime.clone();
        let opened = netns::run_in(netns, move || open_connection(&runtime)).await?;
        Ok(self.register(netns, opened))
    }

    /// The handle for `netns` and the result of `job` run inside it, in one trip into the
    /// namespace when the connection is new.
    pub async fn handle_with<T: Send + 'static>(
        &self,
        netns: &Netns,
        job: impl FnOnce() -> Result<T, KernelError> + Send + 'static,
    ) -> Result<(Handle, T), KernelError> {
        // Bound first: a guard in an `if let` scrutinee would live across the await.
        let cached = self.handles.lock().expect("not poisoned").get(netns).cloned();
        if let Some(handle) = cached {
            return Ok((handle, netns::run_in(netns, job).await?));
        }
        let runtime = self.runtime.clone();
        let (opened, result) = netns::run_in(netns, move || Ok((open_connection(&runtime)?, job()?))).await?;
        Ok((self.register(netns, opened), result))
    }

    /// Creates a named namespace and its connection in one trip into it.
    pub async fn create_namespace(&self, name: &str) -> Result<Handle, KernelError> {
        let runtime = self.runtime.clone();
        let opened = netns::create_named(name, move || open_connection(&runtime)).await?;
        Ok(self.register(&Netns::Named(name.to_string()), opened))
    }

    fn register(&self, netns: &Netns, (connection, handle): Opened) -> Handle {
        self.runtime.spawn(connection);
        self.handles.lock().expect("not poisoned").insert(netns.clone(), handle.clone());
        handle
    }

    /// Drops the connection to a namespace (before deleting it: the socket would keep it alive).
    pub fn forget(&self, netns: &Netns) {
        self.handles.lock().expect("not poisoned").remove(netns);
        self.files.lock().expect("not poisoned").remove(netns);
    }

    /// An open file of the namespace, for requests that name a namespace by fd.
    pub fn file(&self, netns: &Netns) -> Result<std::sync::Arc<File>, KernelError> {
        let mut files = self.files.lock().expect("not poisoned");
        if let Some(file) = files.get(netns) {
            return Ok(file.clone());
        }
        let file = std::sync::Arc::new(netns::open_netns(netns)?);
        files.insert(netns.clone(), file.clone());
        Ok(file)
    }
}

fn open_connection(runtime: &tokio::runtime::Handle) -> Result<Opened, KernelError> {
    // The socket registers with the runtime's reactor as it is made, on this thread.
    let _entered = runtime.enter();
    let (connection, handle, _) =
        rtnetlink::new_connection().map_err(|error| KernelError::system("cannot open a netlink socket", error))?;
    Ok((connection, handle))
}
