//! Terminals into the lab's namespaces (`GET /api/terminal`), against the real kernel: a
//! real `nslab serve --terminals` in a sandbox with the seed bridge lab applied, and a
//! real websocket client. Every wait is bounded; the processes a test's shells started are
//! looked for in /proc afterwards.

use std::time::Duration;

use nslab_model::api::{Event, TerminalEvent};
use nslab_tests::client::{Client, Events};
use nslab_tests::sandbox::Sandbox;
use nslab_tests::server::{NslabServer, ServerOptions};
use nslab_tests::terminal::{wait_until_gone, Asking, Terminal};

const WAIT: Duration = Duration::from_secs(20);

fn start(sandbox: &Sandbox, state: &std::path::Path, extra: &[&str], log_name: &str) -> NslabServer {
    NslabServer::start_with(ServerOptions { sandbox: Some(sandbox), lab: None, state_dir: state, extra, log_name })
}

/// The server with terminals on and the seed bridge lab applied.
async fn applied(sandbox: &Sandbox, state: &std::path::Path, extra: &[&str], log_name: &str) -> NslabServer {
    let mut options = vec!["--terminals"];
    options.extend_from_slice(extra);
    let server = start(sandbox, state, &options, log_name);
    let applied = Client::new(&server).post("/api/apply").await;
    assert_eq!(applied.status(), 200, "{}", applied.text().await.unwrap_or_default());
    server
}

/// The processes of session `session` (a terminal's shell leads one), the shell included.
fn session_pids(session: i32) -> Vec<i32> {
    let pids = std::fs::read_dir("/proc").unwrap().filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok());
    pids.filter(|pid| {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let fields: Vec<&str> = stat.rfind(')').map_or(Vec::new(), |end| stat[end + 1..].split_whitespace().collect());
        fields.get(3).and_then(|sid| sid.parse::<i32>().ok()) == Some(session)
    })
    .collect()
}

/// The shell's pid, as it says itself.
async fn shell_pid(terminal: &mut Terminal) -> i32 {
    let said = terminal.run("echo \"pid=$(( $$ + 0 ))=\"", WAIT).await;
    let after = said.rsplit("pid=").next().expect("the shell says its pid");
    after.split('=').next().unwrap().trim().parse().unwrap_or_else(|_| panic!("a pid in {said:?}"))
}

/// Waits until `event` of a terminal on `node` comes (opened or closed).
async fn wait_for_terminal_event(events: &mut Events, node: &str, opened: bool) {
    let what = format!("terminal {} on {node}", if opened { "opened" } else { "closed" });
    events
        .wait_for(
            &what,
            WAIT,
            |event| matches!(event, Event::Terminal(TerminalEvent { node: n, opened: o }) if n == node && *o == opened),
        )
        .await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_shell_in_ns1_sees_its_namespace_and_ends_with_its_socket() {
    let sandbox = Sandbox::new();
    sandbox.enter_network_here();
    let state = tempfile::tempdir().unwrap();
    let server = applied(&sandbox, state.path(), &[], "terminal-ns1").await;
    let mut events = Events::connect(&server).await;
    let mut terminal = Terminal::open(&server, "ns1").await;
    wait_for_terminal_event(&mut events, "ns1", true).await;

    // `ip netns exec` semantics: the namespace's interfaces, its own /sys, the variables.
    let addresses = terminal.run("ip -br addr", WAIT).await;
    assert!(addresses.contains("eth0") && addresses.contains("172.17.0.102/16"), "{addresses}");
    assert!(!addresses.contains("docker0"), "the host's bridge is not in ns1: {addresses}");
    let sys = terminal.run("ls /sys/class/net", WAIT).await;
    assert!(sys.contains("eth0") && !sys.contains("docker0"), "/sys is ns1's: {sys}");
    let variables = terminal.run("echo \"node=$NSLAB_NODE term=$TERM\"", WAIT).await;
    assert!(variables.contains("node=ns1 term=xterm-256color"), "{variables}");
    let ping = terminal.run("ping -c 1 -W 5 172.17.0.103", WAIT).await;
    assert!(ping.contains("1 received"), "ns1 reaches ns2: {ping}");

    // The page's size is the terminal's.
    terminal.resize(123, 37).await;
    let size = terminal.run("stty size", WAIT).await;
    assert!(size.contains("37 123"), "{size}");

    // Ctrl+C interrupts the foreground job: the shell answers long before `sleep 100` ends.
    let shell = shell_pid(&mut terminal).await;
    terminal.send(b"sleep 100\r").await;
    let sleeping = wait_for_process(shell, "sleep").await;
    terminal.send(&[0x03]).await;
    terminal.run("echo interrupted", WAIT).await;
    assert!(wait_until_gone(&[sleeping], WAIT).await.is_empty(), "Ctrl+C ended `sleep 100`");

    // A namespace with a shell in it is in use: destroy refuses (as for any process).
    let refused = Client::new(&server).post("/api/destroy").await;
    assert_eq!(refused.status(), 409);
    assert!(refused.text().await.unwrap().contains("in namespace `ns1`"));

    // Jobs in the background, one deaf to SIGHUP: closing the socket ends them all.
    terminal.run("sleep 300 & (trap '' HUP; exec sleep 301) &", WAIT).await;
    let session = session_pids(shell);
    assert!(session.len() >= 3, "the shell and its two jobs: {session:?}");
    terminal.close().await;
    assert_eq!(wait_until_gone(&session, WAIT).await, Vec::<i32>::new(), "nothing of the shell's session is left");
    wait_for_terminal_event(&mut events, "ns1", false).await;
}

/// Waits until the shell `shell` has a child called `command`: its pid.
async fn wait_for_process(shell: i32, command: &str) -> i32 {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let found = session_pids(shell)
            .into_iter()
            .find(|pid| std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|comm| comm.trim() == command));
        if let Some(pid) = found {
            return pid;
        }
        assert!(std::time::Instant::now() < deadline, "`{command}` never started in the terminal");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_shell_ending_closes_the_terminal_with_its_exit_code() {
    let sandbox = Sandbox::new();
    sandbox.enter_network_here();
    let state = tempfile::tempdir().unwrap();
    let server = applied(&sandbox, state.path(), &[], "terminal-exit").await;
    let mut terminal = Terminal::open(&server, "ns0").await;
    let shell = shell_pid(&mut terminal).await;
    terminal.send(b"exit 3\r").await;
    assert!(terminal.wait_until_closed(WAIT).await, "the server closes the terminal when its shell ends");
    assert_eq!(terminal.exit.and_then(|exit| exit.code), Some(3), "{:?}", terminal.exit);
    assert!(wait_until_gone(&[shell], WAIT).await.is_empty());
}

#[tokio::test(flavor = "current_thread")]
async fn stopping_the_server_ends_every_shell_it_started() {
    let sandbox = Sandbox::new();
    sandbox.enter_network_here();
    let state = tempfile::tempdir().unwrap();
    let mut server = applied(&sandbox, state.path(), &[], "terminal-stop").await;
    let mut first = Terminal::open(&server, "ns0").await;
    let mut second = Terminal::open(&server, "ns2").await;
    first.run("(trap '' HUP; exec sleep 303) &", WAIT).await;
    let mut pids = session_pids(shell_pid(&mut first).await);
    pids.extend(session_pids(shell_pid(&mut second).await));
    assert!(pids.len() >= 3, "two shells and a job: {pids:?}");

    nix::sys::signal::kill(nix::unistd::Pid::from_raw(server.pid as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = server.wait_for_exit(WAIT).expect("the server stops within 20 s");
    assert!(status.success(), "{status}");
    assert_eq!(wait_until_gone(&pids, WAIT).await, Vec::<i32>::new(), "no shell outlives the server");
}

#[tokio::test(flavor = "current_thread")]
async fn terminals_are_refused_with_the_reason() {
    // Off unless asked for, with the way to turn them on; plainly and as a websocket.
    let (off, _state) = NslabServer::start(None, "terminal-off");
    let plain = Client::new(&off).request(reqwest::Method::GET, "/api/terminal?node=ns1").send().await.unwrap();
    assert_eq!(plain.status(), 403);
    assert!(plain.text().await.unwrap().contains("start it with `nslab serve --terminals`"));
    let refused = Terminal::try_open(&off, "ns1", Asking::default()).await.err().expect("refused");
    assert_eq!(refused.status, 403);
    assert!(refused.body.contains("--terminals"), "{}", refused.body);
    drop(off);

    let sandbox = Sandbox::new();
    sandbox.enter_network_here();
    let state = tempfile::tempdir().unwrap();
    let full = "full-token-of-the-teacher";
    let viewer = "viewer-token-of-a-student";
    let extra = ["--terminals", "--max-terminals", "2", "--token", full, "--viewer-token", viewer];
    let server = start(&sandbox, state.path(), &extra, "terminal-refused");
    let teacher = Asking { token: Some(full), origin: None };
    let refusal = |asking: Asking<'static>, node: &'static str| {
        let server = &server;
        async move { Terminal::try_open(server, node, asking).await.err().expect("refused") }
    };

    // Not applied yet: the namespace is not in the kernel.
    let absent = refusal(teacher.clone(), "ns1").await;
    assert_eq!(absent.status, 409, "{}", absent.body);
    assert!(absent.body.contains("namespace `ns1` is not in the kernel: apply the lab first"), "{}", absent.body);
    let applied = Client::new(&server).post("/api/apply").await;
    assert_eq!(applied.status(), 200);

    let unknown = refusal(teacher.clone(), "nope").await;
    assert_eq!(unknown.status, 404);
    assert!(
        unknown.body.contains("has no node `nope`; a terminal opens on `ns0`, `ns1` and `ns2`"),
        "{}",
        unknown.body
    );
    let bridge = refusal(teacher.clone(), "docker0").await;
    assert_eq!(bridge.status, 422);
    assert!(bridge.body.contains("`docker0` is a bridge"), "{}", bridge.body);
    let student = refusal(Asking { token: Some(viewer), origin: None }, "ns1").await;
    assert_eq!(student.status, 403, "a viewer token may not open a shell: {}", student.body);
    let elsewhere = refusal(Asking { token: Some(full), origin: Some("http://elsewhere.example") }, "ns1").await;
    assert_eq!(elsewhere.status, 403, "another site's page may not open a shell: {}", elsewhere.body);
    let nobody = refusal(Asking::default(), "ns1").await;
    assert_eq!(nobody.status, 401);

    // A plain request that would be served is told to open a websocket.
    let plain = Client::new(&server).request(reqwest::Method::GET, "/api/terminal?node=ns1").send().await.unwrap();
    assert_eq!(plain.status(), 426);

    // The cap (lowered to 2 here; 64 unless told): the next one is refused, and a closed
    // one makes room again.
    let first = Terminal::try_open(&server, "ns0", teacher.clone()).await.expect("the first opens");
    let _second = Terminal::try_open(&server, "ns1", teacher.clone()).await.expect("the second opens");
    let third = refusal(teacher.clone(), "ns2").await;
    assert_eq!(third.status, 429);
    assert!(third.body.contains("2 terminals are open on this server, the most it allows"), "{}", third.body);
    first.close().await;
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        match Terminal::try_open(&server, "ns2", teacher.clone()).await {
            Ok(_) => break,
            Err(refusal) if refusal.status == 429 && std::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(refusal) => panic!("a closed terminal makes room: {refusal:?}"),
        }
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_host_node_opens_in_the_server_s_own_namespace() {
    let sandbox = Sandbox::new();
    sandbox.enter_network_here();
    let state = tempfile::tempdir().unwrap();
    let server = applied(&sandbox, state.path(), &[], "terminal-host").await;
    let client = Client::new(&server);
    let view = client.lab().await;
    let mut lab = view.lab;
    lab.nodes.push(nslab_model::Node::Host(nslab_model::HostNode::new("host")));
    assert_eq!(client.put_lab(view.revision, &lab).await.status(), 200);

    let mut terminal = Terminal::open(&server, "host").await;
    let links = terminal.run("ip -br link", WAIT).await;
    assert!(links.contains("docker0") && links.contains("veth0"), "the host's bridge and its ports: {links}");
    let shell = shell_pid(&mut terminal).await;
    terminal.close().await;
    assert!(wait_until_gone(&[shell], WAIT).await.is_empty());
}
