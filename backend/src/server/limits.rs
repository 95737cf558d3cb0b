//! How much of the server one client may hold, and for how long: the numbers, with why
//! each is what it is. A connection costs the server a file descriptor from the moment it
//! is accepted; a client that opens many, or sends a request slowly, must not use up the
//! descriptors the API and the live view need (nor keep them past these bounds).

use std::time::Duration;

/// How long a client may take to send a request's header block (request line and
/// headers), from the moment it connects or its previous request was answered. hyper reads
/// the whole block before nslab sees the request, so before a token can be checked: this
/// bounds how long a client without one holds a connection. An idle keep-alive connection
/// is closed after it too. Browsers send their headers at once; ten seconds leaves room for
/// a slow network.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Every request body gets this long, plus the time its size takes at `BODY_MIN_RATE`.
/// Most bodies are a lab of a few kilobytes; a body that arrives slower than this is cut
/// off with 408.
pub const BODY_GRACE: Duration = Duration::from_secs(10);

/// The slowest average rate (bytes per second) a body may arrive at: the largest body
/// allowed (4 MiB) gets 64 s on top of the grace, a slow classroom network included.
pub const BODY_MIN_RATE: u64 = 64 * 1024;

/// Connections one peer may hold open at once (see `peers::Peer`: an IPv4 address or an
/// IPv6 /64). A browser opens at most six to one server, plus the event stream, and holds
/// about three. A classroom behind a school's NAT is one address for the whole class,
/// and watching the teacher's lab from every student's browser is what nslab is for: 256
/// leaves room for some eighty browsers there, while one address alone still cannot take
/// more than a quarter of all the connections (`MAX_CONNECTIONS`), each for at most the
/// header timeout when it never sends a whole request.
pub const MAX_CONNECTIONS_PER_PEER: usize = 256;

/// Connections all peers together may hold open at once. A further connection is accepted
/// and closed at once, so it holds no descriptor.
pub const MAX_CONNECTIONS: usize = 1024;

/// At most half of the descriptors the process may open go to connections: the other half
/// stays for the namespaces the live view watches, the document and the run lock.
pub fn connection_cap(open_files_limit: u64) -> usize {
    let half = usize::try_from(open_files_limit / 2).unwrap_or(usize::MAX);
    MAX_CONNECTIONS.min(half).max(1)
}

/// How long a body of `bytes` may take to arrive in full.
pub fn body_allowance(bytes: u64) -> Duration {
    BODY_GRACE + Duration::from_secs(bytes / BODY_MIN_RATE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_take_at_most_half_of_the_descriptors() {
        assert_eq!(connection_cap(20_000), MAX_CONNECTIONS);
        assert_eq!(connection_cap(1024), 512, "the default soft limit leaves half for the rest");
        assert_eq!(connection_cap(0), 1, "never none");
    }

    #[test]
    fn a_body_gets_the_grace_and_time_for_its_size() {
        assert_eq!(body_allowance(0), BODY_GRACE);
        assert_eq!(body_allowance(1000), BODY_GRACE);
        assert_eq!(body_allowance(4 * 1024 * 1024), BODY_GRACE + Duration::from_secs(64));
    }
}
