//! The server's limits against a real `nslab serve` in a sandbox, listening off loopback
//! with a token, and real sockets from the test's thread (inside the sandbox's network
//! namespace, from several of its loopback addresses): half-open connections, connections
//! over a peer's cap, slow bodies, requests without a token, and the tokens it starts with.
//! Every wait is bounded; the bounds are generous and nothing is asserted about time.

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use nslab::server_limits::{body_allowance, HEADER_TIMEOUT, MAX_CONNECTIONS, MAX_CONNECTIONS_PER_PEER};
use nslab_tests::sandbox::Sandbox;
use nslab_tests::server::NslabServer;

const TOKEN: &str = "teacher-token-0123456789";

/// How long something that happens at once may take here, on a loaded machine.
const AT_ONCE: Duration = Duration::from_secs(5);

/// A request whose header block never ends.
const HALF_A_REQUEST: &[u8] = b"GET /api/lab HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Still-Typing: ";

/// A sandbox with a server inside that listens on every address and wants a token.
struct Setup {
    _sandbox: Sandbox,
    _state: tempfile::TempDir,
    server: NslabServer,
}

impl Setup {
    fn new(name: &str) -> Setup {
        let sandbox = Sandbox::new();
        sandbox.enter_network_here();
        let (server, state) = NslabServer::start_in_with(&sandbox, &["--listen", "0.0.0.0:0", "--token", TOKEN], name);
        Setup { _sandbox: sandbox, _state: state, server }
    }

    /// The server at 127.0.0.1.
    fn address(&self) -> SocketAddr {
        let port = self.server.address().rsplit_once(':').and_then(|(_, port)| port.parse().ok()).expect("a port");
        SocketAddr::from((Ipv4Addr::LOCALHOST, port))
    }

    /// `GET /api/lab` as a normal client does, from 127.0.0.1: its status.
    async fn lab_status(&self) -> u16 {
        let http = reqwest::Client::builder().no_proxy().timeout(AT_ONCE).build().unwrap();
        let response = http.get(format!("http://{}/api/lab", self.address())).bearer_auth(TOKEN).send().await;
        response.expect("the server answers a normal client").status().as_u16()
    }
}

/// A connection to `server` from the loopback address `source`.
async fn connect_from(source: Ipv4Addr, server: SocketAddr) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((source, 0))).unwrap_or_else(|e| panic!("cannot bind {source}: {e}"));
    let stream = tokio::time::timeout(AT_ONCE, socket.connect(server)).await.expect("connects in time").unwrap();
    let stream = stream.into_std().unwrap();
    stream.set_nonblocking(false).unwrap();
    stream
}

/// Whether the server has closed `stream` (an end of stream, or a reset) by `deadline`;
/// what it sends before is read and dropped.
fn closed_by(stream: &mut TcpStream, deadline: Instant) -> bool {
    let mut buffer = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buffer) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => return false,
            Err(error) if error.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return true,
        }
    }
}

/// Whether `stream` is still open, without waiting: nothing to read and no end yet.
fn still_open(stream: &TcpStream) -> bool {
    stream.set_nonblocking(true).unwrap();
    let open = matches!(stream.peek(&mut [0u8; 1]), Err(error) if error.kind() == ErrorKind::WouldBlock);
    stream.set_nonblocking(false).unwrap();
    open
}

/// Reads an answer's head (up to its blank line) within `AT_ONCE`: its status line and
/// the rest as text.
fn read_answer(stream: &mut TcpStream) -> String {
    let deadline = Instant::now() + AT_ONCE;
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "no answer in time; so far: {}", String::from_utf8_lossy(&answer));
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buffer) {
            Ok(0) => panic!("closed without an answer; so far: {}", String::from_utf8_lossy(&answer)),
            Ok(n) => answer.extend_from_slice(&buffer[..n]),
            Err(error) => panic!("no answer: {error}; so far: {}", String::from_utf8_lossy(&answer)),
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

/// Lets this process open `wanted` files (up to the hard limit, which must allow it).
fn raise_open_files_limit(wanted: u64) {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    assert!(hard >= wanted, "this test needs {wanted} open files; the hard limit is {hard}");
    if soft < wanted {
        setrlimit(Resource::RLIMIT_NOFILE, wanted, hard).unwrap();
    }
}

/// Loopback addresses other than 127.0.0.1, one per attacking peer.
fn attacker(index: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 1 + (index / 250) as u8, 1 + (index % 250) as u8)
}

/// 2000 connections that never finish their headers (every other one sends nothing at all)
/// come from as many peers as the server can hold in full but one: each peer opens more
/// than its cap, the server keeps the cap's worth of each open and closes the rest at
/// once, and a normal client from 127.0.0.1 is answered meanwhile. The header timeout
/// then closes the rest.
#[tokio::test]
async fn half_open_connections_do_not_stop_a_normal_client() {
    const ATTACK: usize = 2000;
    raise_open_files_limit(ATTACK as u64 + 1000);
    let setup = Setup::new("limits-half-open");
    let peers = MAX_CONNECTIONS / MAX_CONNECTIONS_PER_PEER - 1;
    assert!(ATTACK / peers > MAX_CONNECTIONS_PER_PEER, "each peer goes over its cap");
    let mut held = Vec::with_capacity(ATTACK);
    for index in 0..ATTACK {
        let mut stream = connect_from(attacker(index % peers), setup.address()).await;
        if index % 2 == 0 {
            // A connection closed at once may refuse the write: that is the point.
            let _ = stream.write_all(HALF_A_REQUEST);
        }
        held.push(stream);
    }

    assert_eq!(setup.lab_status().await, 200);
    let open = held.iter().filter(|stream| still_open(stream)).count();
    assert!(open > 0, "the half-open connections were still held when the client was answered");
    assert!(
        open <= peers * MAX_CONNECTIONS_PER_PEER,
        "{open} connections held open: more than {MAX_CONNECTIONS_PER_PEER} for each of {peers} peers"
    );

    let deadline = Instant::now() + 3 * HEADER_TIMEOUT;
    let left = held.iter_mut().map(|stream| closed_by(stream, deadline)).filter(|closed| !closed).count();
    assert_eq!(left, 0, "connections without a whole header block are closed by the server");
}

/// A peer's connection over its cap is closed at once; its others stay open and are
/// answered when they finish their requests, and other peers are served.
#[tokio::test]
async fn a_connection_over_a_peers_cap_is_closed_at_once() {
    let setup = Setup::new("limits-per-peer");
    let peer = Ipv4Addr::new(127, 0, 0, 9);
    let mut held = Vec::new();
    for _ in 0..MAX_CONNECTIONS_PER_PEER {
        let mut stream = connect_from(peer, setup.address()).await;
        stream.write_all(HALF_A_REQUEST).unwrap();
        held.push(stream);
    }
    let mut over = connect_from(peer, setup.address()).await;
    assert!(closed_by(&mut over, Instant::now() + AT_ONCE), "the connection over the cap is closed");
    let open = held.iter().filter(|stream| still_open(stream)).count();
    assert_eq!(open, MAX_CONNECTIONS_PER_PEER, "the peer's other connections stay open");

    let first = &mut held[0];
    first.write_all(format!("yes\r\nAuthorization: Bearer {TOKEN}\r\n\r\n").as_bytes()).unwrap();
    let answer = read_answer(first);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(setup.lab_status().await, 200, "another peer is served");
}

/// A body trickled in a byte a second never arrives in full within its allowance: the
/// server cuts it off with 408 and closes the connection.
#[tokio::test]
async fn a_slow_body_is_cut_off_with_408() {
    let setup = Setup::new("limits-slow-body");
    let mut stream = TcpStream::connect(setup.address()).unwrap();
    let head = format!(
        "PUT /api/lab HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let trickles = 3 * body_allowance(1000).as_secs();
    for _ in 0..trickles {
        std::thread::sleep(Duration::from_secs(1));
        if !still_open(&stream) || stream.write_all(b" ").is_err() {
            break;
        }
    }
    let answer = read_answer(&mut stream);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("connection: close"), "{answer}");
    assert!(closed_by(&mut stream, Instant::now() + AT_ONCE), "the connection is closed after the 408");
}

/// A request without a token is refused when its headers are read, without waiting for
/// its body (none of which is sent here).
#[tokio::test]
async fn a_request_without_a_token_is_refused_before_its_body() {
    let setup = Setup::new("limits-no-token");
    let mut stream = TcpStream::connect(setup.address()).unwrap();
    let head = "POST /api/import HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4000000\r\n\r\n";
    stream.write_all(head.as_bytes()).unwrap();
    let answer = read_answer(&mut stream);
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
}

/// The same token for editing and for watching would let a viewer edit: `nslab serve`
/// exits 2 with the reason, before it listens.
#[test]
fn the_same_token_for_both_roles_is_refused_at_start() {
    let sandbox = Sandbox::new();
    let state = tempfile::tempdir().unwrap();
    let binary = nslab_tests::paths::nslab_binary();
    let mut child = sandbox
        .command(binary.to_str().unwrap())
        .args(["serve", "--listen", "0.0.0.0:0", "--token", TOKEN, "--viewer-token", TOKEN, "--state-dir"])
        .arg(state.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + 6 * AT_ONCE;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("nslab serve started with the same token for both roles");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert_eq!(output.status.code(), Some(2), "{stdout}{stderr}");
    assert!(stderr.contains("the viewer token must differ from the full token"), "{stderr}");
    assert!(!stdout.contains("serving"), "{stdout}");
}
