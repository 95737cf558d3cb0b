//! Kernel errors in words: what failed, where, and the kernel's reason.

use nslab_model::identity::Netns;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum KernelError {
    /// The kernel refused a netlink request.
    #[error("{what}: {}", errno_words(*errno))]
    Refused { what: String, errno: i32 },
    /// A system call (namespace, mount, file) failed.
    #[error("{what}: {source}")]
    System { what: String, source: std::io::Error },
    #[error("{what}: {message}")]
    Netlink { what: String, message: String },
    #[error("there is no interface `{name}` in {netns}")]
    NoSuchLink { netns: Netns, name: String },
    /// `/run/netns/NAME` holds no namespace: it is gone (deleted meanwhile), or it is an
    /// empty file (`stray`: one being made or deleted right now, or left so by one that died).
    #[error("{}", no_namespace(.name, *.stray))]
    NoNamespace { name: String, stray: bool },
}

fn no_namespace(name: &str, stray: bool) -> String {
    if stray {
        nslab_model::observed::stray_note(name)
    } else {
        format!("namespace `{name}` is gone")
    }
}

impl KernelError {
    pub fn system(what: impl Into<String>, source: impl Into<std::io::Error>) -> Self {
        KernelError::System { what: what.into(), source: source.into() }
    }

    /// Wraps an rtnetlink error; errno-carrying ones keep their errno.
    pub fn netlink(what: impl Into<String>, error: rtnetlink::Error) -> Self {
        let what = what.into();
        match &error {
            rtnetlink::Error::NetlinkError(message) => match message.code {
                Some(code) => KernelError::Refused { what, errno: -code.get() },
                None => KernelError::Netlink { what, message: error.to_string() },
            },
            _ => KernelError::Netlink { what, message: error.to_string() },
        }
    }

    /// Why it failed, without what was being done (for messages that name the op already).
    pub fn reason(&self) -> String {
        match self {
            KernelError::Refused { errno, .. } => errno_words(*errno),
            KernelError::System { source, .. } => source.to_string(),
            KernelError::Netlink { message, .. } => message.clone(),
            KernelError::NoSuchLink { .. } | KernelError::NoNamespace { .. } => self.to_string(),
        }
    }

    pub fn errno(&self) -> Option<i32> {
        match self {
            KernelError::Refused { errno, .. } => Some(*errno),
            KernelError::System { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }
}

/// The kernel's reason in a sentence, with the errno name for searching.
pub fn errno_words(errno: i32) -> String {
    use nix::errno::Errno;
    let known = Errno::from_raw(errno);
    let words = match known {
        Errno::EEXIST => "it already exists",
        Errno::ENODEV => "there is no such interface",
        Errno::ENOENT => "there is no such object",
        Errno::EPERM | Errno::EACCES => "not permitted: run as root, or with --sandbox",
        Errno::EBUSY => "the device or resource is busy",
        Errno::EINVAL => "the kernel refused the request as invalid",
        Errno::EADDRNOTAVAIL => "the address is not available on this interface",
        Errno::ENETUNREACH => "the gateway is not reachable through a connected subnet",
        Errno::ENETDOWN => "the interface is down",
        Errno::ERANGE => "a value is out of range",
        Errno::EOPNOTSUPP => "the kernel does not support this here",
        Errno::ENOSPC => "a kernel limit was reached",
        Errno::ENOBUFS => "the kernel ran out of buffer space",
        Errno::ENOMEM => "the kernel ran out of memory",
        _ => "the kernel refused the request",
    };
    format!("{words} ({known})")
}
