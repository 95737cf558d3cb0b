//! Live packet capture against the real kernel: a real `nslab serve` in a sandbox with the
//! seed bridge lab applied, a real websocket client, real pings between the lab's
//! namespaces (`ip netns exec ... ping` inside the sandbox), and Debian's tshark reading
//! the downloaded pcapng file.

use std::time::{Duration, Instant};

use futures::StreamExt;
use nslab_model::api::ErrorBody;
use nslab_model::capture::{CaptureMessage, CapturedPacket, Direction, Protocol};
use nslab_model::Lab;
use nslab_tests::client::Client;
use nslab_tests::sandbox::Sandbox;
use nslab_tests::server::NslabServer;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

const WAIT: Duration = Duration::from_secs(10);
const NS2: &str = "172.17.0.103";

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct Setup {
    sandbox: Sandbox,
    _state: tempfile::TempDir,
    server: NslabServer,
}

impl Setup {
    /// A sandbox with a server inside (serving the seed bridge lab), applied.
    async fn applied(name: &str, extra: &[&str]) -> Setup {
        let sandbox = Sandbox::new();
        sandbox.enter_network_here();
        let (server, state) = NslabServer::start_in_with(&sandbox, extra, name);
        let setup = Setup { sandbox, _state: state, server };
        let response = setup.client().post("/api/apply").await;
        assert_eq!(response.status(), 200, "{:?}", response.text().await);
        setup
    }

    fn client(&self) -> Client {
        Client::new(&self.server)
    }

    fn capture_url(&self, query: &str) -> String {
        let token = self.server.token.as_ref().map(|token| format!("&token={token}")).unwrap_or_default();
        format!("{}/api/capture?{query}{token}", self.server.url.replacen("http://", "ws://", 1))
    }

    async fn capture(&self, query: &str) -> Socket {
        let (socket, _) = tokio_tungstenite::connect_async(self.capture_url(query)).await.expect("the capture opens");
        socket
    }

    /// The capture threads the server runs now, by their names in /proc.
    fn capture_threads(&self) -> usize {
        let tasks = std::fs::read_dir(format!("/proc/{}/task", self.server.pid)).expect("the server runs");
        tasks
            .filter_map(Result::ok)
            .filter_map(|task| std::fs::read_to_string(task.path().join("comm")).ok())
            .filter(|name| name.starts_with("nslab-cap-"))
            .count()
    }

    async fn wait_for_threads(&self, wanted: usize) {
        let deadline = Instant::now() + WAIT;
        while self.capture_threads() != wanted {
            assert!(Instant::now() < deadline, "{} capture threads, not {wanted}", self.capture_threads());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `count` pings from ns1 to ns2, its neighbour entries forgotten first so ARP goes too.
    fn ping_ns2(&self, count: u32) {
        let script =
            format!("ip netns exec ns1 ip neigh flush all; ip netns exec ns1 ping -c {count} -i 0.2 -W 1 {NS2}");
        let output = self.sandbox.try_sh(&script);
        assert!(output.status.success(), "the ping: {}", String::from_utf8_lossy(&output.stdout));
    }
}

/// The packets of a capture until `enough` holds of them (bounded by `WAIT`).
async fn packets_until(socket: &mut Socket, enough: impl Fn(&[CapturedPacket]) -> bool) -> Vec<CapturedPacket> {
    let deadline = Instant::now() + WAIT;
    let mut packets = Vec::new();
    while !enough(&packets) {
        let left = deadline.saturating_duration_since(Instant::now());
        let message = match tokio::time::timeout(left, socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => text,
            Ok(Some(Ok(_))) => continue,
            other => panic!("the capture ended or went quiet ({other:?}) with {}", lines(&packets)),
        };
        match serde_json::from_str::<CaptureMessage>(&message).expect("a capture message") {
            CaptureMessage::Packet(packet) => packets.push(*packet),
            other => panic!("no packet should be missed or dropped here: {other:?}"),
        }
    }
    packets
}

fn lines(packets: &[CapturedPacket]) -> String {
    packets
        .iter()
        .map(|packet| {
            let port = packet.port.as_deref().unwrap_or("-");
            format!("\n  #{} {port} {:?} {}", packet.seq, packet.direction, packet.summary)
        })
        .collect()
}

fn echoes(packets: &[CapturedPacket], kind: &str) -> usize {
    packets.iter().filter(|packet| packet.fields.icmp.as_deref() == Some(kind)).count()
}

fn position(packets: &[CapturedPacket], what: impl Fn(&CapturedPacket) -> bool) -> usize {
    packets.iter().position(what).unwrap_or_else(|| panic!("not found in {}", lines(packets)))
}

#[tokio::test]
async fn a_ping_shows_arp_then_its_echoes_on_the_namespace_and_on_the_bridge() {
    let setup = Setup::applied("capture-ping", &[]).await;
    let mut ns1 = setup.capture("node=ns1&iface=eth0").await;
    let mut bridge = setup.capture("node=docker0&iface=docker0").await;
    let mut port = setup.capture("node=docker0&iface=veth2").await;
    setup.ping_ns2(3);
    let three_replies = |packets: &[CapturedPacket]| echoes(packets, "echo reply") >= 3;
    let seen = packets_until(&mut ns1, three_replies).await;
    let who_has = position(&seen, |p| p.summary == format!("ARP, Request who-has {NS2} tell 172.17.0.102, length 42"));
    let request = position(&seen, |p| p.fields.icmp.as_deref() == Some("echo request"));
    assert!(who_has < request, "ARP first: {}", lines(&seen));
    assert_eq!(seen[who_has].direction, Direction::Out);
    assert!(seen.iter().any(|p| p.protocol == Protocol::Arp && p.summary.contains(&format!("Reply {NS2} is-at"))));
    assert_eq!(echoes(&seen, "echo request"), 3, "{}", lines(&seen));
    for packet in seen.iter().filter(|p| p.fields.echo_id.is_some() && p.fields.src.is_some_and(|ip| ip.is_ipv4())) {
        let out = packet.fields.icmp.as_deref() == Some("echo request");
        assert_eq!(packet.direction, if out { Direction::Out } else { Direction::In }, "{}", packet.summary);
        assert!(packet.summary.starts_with(if out {
            "IP 172.17.0.102 > 172.17.0.103: ICMP echo request, id "
        } else {
            "IP 172.17.0.103 > 172.17.0.102: ICMP echo reply, id "
        }));
        assert_eq!(packet.fields.src_port, None);
    }
    // ns1's port sees the same exchange; the bridge's capture sees it on ns1's port and
    // on ns2's, each packet tagged with its port.
    let seen = packets_until(&mut port, three_replies).await;
    assert_eq!(echoes(&seen, "echo request"), 3, "the port: {}", lines(&seen));
    assert!(seen.iter().any(|p| p.fields.arp.as_deref() == Some("request")), "the port: {}", lines(&seen));
    assert!(seen.iter().all(|p| p.port.is_none()), "a port's own capture tags nothing: {}", lines(&seen));
    let on_both_ports = |packets: &[CapturedPacket]| echoes(packets, "echo reply") >= 6;
    let seen = packets_until(&mut bridge, on_both_ports).await;
    for port in ["veth2", "veth4"] {
        let on_port: Vec<CapturedPacket> = seen.iter().filter(|p| p.port.as_deref() == Some(port)).cloned().collect();
        assert_eq!(echoes(&on_port, "echo request"), 3, "the bridge, on {port}: {}", lines(&seen));
    }
    setup.ping_ns2(1);
    let seen = packets_until(&mut port, |packets| echoes(packets, "echo request") >= 1).await;
    let request = &seen[position(&seen, |p| p.fields.icmp.as_deref() == Some("echo request"))];
    assert_eq!(request.direction, Direction::In, "from ns1 into the bridge");
}

#[tokio::test]
async fn the_pcapng_file_holds_the_echoes_tshark_finds() {
    let setup = Setup::applied("capture-pcapng", &[]).await;
    let client = setup.client();
    let download = tokio::spawn({
        let request = client.request(reqwest::Method::GET, "/api/capture.pcapng?node=ns1&iface=eth0&seconds=3");
        async move { request.send().await.expect("the download") }
    });
    // The capture starts with the request; the ping waits until its thread runs.
    setup.wait_for_threads(1).await;
    setup.ping_ns2(4);
    let response = download.await.unwrap();
    assert_eq!(response.status(), 200);
    let disposition = response.headers()["content-disposition"].to_str().unwrap().to_string();
    assert_eq!(disposition, "attachment; filename=\"ns1-eth0.pcapng\"");
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), response.bytes().await.unwrap()).unwrap();
    let tshark = std::process::Command::new("tshark")
        .args(["-r", file.path().to_str().unwrap(), "-Y", "icmp"])
        .output()
        .expect("tshark runs (scripts/setup installs it)");
    let listed = String::from_utf8_lossy(&tshark.stdout);
    assert!(tshark.status.success(), "tshark: {}", String::from_utf8_lossy(&tshark.stderr));
    assert_eq!(listed.matches("Echo (ping) request").count(), 4, "{listed}");
    assert_eq!(listed.matches("Echo (ping) reply").count(), 4, "{listed}");
    assert!(
        listed.contains("172.17.0.102 → 172.17.0.103") || listed.contains("172.17.0.102 -> 172.17.0.103"),
        "{listed}"
    );
    // The times are today's (the file says its timestamps are nanoseconds).
    let times = std::process::Command::new("tshark")
        .args(["-r", file.path().to_str().unwrap(), "-T", "fields", "-e", "frame.time_epoch"])
        .output()
        .unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    for time in String::from_utf8_lossy(&times.stdout).lines() {
        let time: f64 = time.trim().parse().expect("a time");
        assert!((now - time).abs() < 120.0, "a frame at {time}, now is {now}");
    }
    // The capture ended with the download.
    setup.wait_for_threads(0).await;

    for (seconds, why) in [("0", "zero"), ("61", "over a minute"), ("x", "not a number"), ("", "empty")] {
        let path = format!("/api/capture.pcapng?node=ns1&iface=eth0&seconds={seconds}");
        let response = client.request(reqwest::Method::GET, &path).send().await.unwrap();
        assert_eq!(response.status(), 400, "{why}");
        let body: ErrorBody = response.json().await.unwrap();
        assert_eq!(body.message, "`seconds` must be a whole number from 1 to 60");
    }
}

async fn refusal(client: &Client, query: &str) -> (u16, String) {
    let response = client.request(reqwest::Method::GET, &format!("/api/capture?{query}")).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json::<ErrorBody>().await.expect("errors are JSON").message)
}

#[tokio::test]
async fn filters_and_bad_requests() {
    let setup = Setup::applied("capture-filters", &[]).await;
    let mut icmp_only = setup.capture("node=ns1&iface=eth0&filter=icmp%20and%20host%20172.17.0.103").await;
    let mut arp_only = setup.capture("node=ns1&iface=eth0&filter=arp").await;
    setup.ping_ns2(2);
    let seen = packets_until(&mut icmp_only, |packets| echoes(packets, "echo reply") >= 2).await;
    assert!(seen.iter().all(|p| p.protocol == Protocol::Icmp), "{}", lines(&seen));
    let seen = packets_until(&mut arp_only, |packets| packets.len() >= 2).await;
    assert!(seen.iter().all(|p| p.protocol == Protocol::Arp), "{}", lines(&seen));

    let client = setup.client();
    assert_eq!(
        refusal(&client, "node=ns1&iface=eth0&filter=tcp%20port").await,
        (400, "the filter does not parse: at column 9: expected a port number after `port`".into())
    );
    // Over the websocket too: the handshake is refused with the same answer.
    let refused = tokio_tungstenite::connect_async(setup.capture_url("node=ns1&iface=eth0&filter=icmpp")).await;
    match refused {
        Err(WsError::Http(response)) => {
            assert_eq!(response.status(), 400);
            let body: ErrorBody = serde_json::from_slice(response.body().as_deref().unwrap()).unwrap();
            assert!(body.message.starts_with("the filter does not parse: at column 1: `icmpp` is not a filter word"));
        }
        other => panic!("a bad filter must be refused: {other:?}"),
    }
    assert_eq!(
        refusal(&client, "node=ns9&iface=eth0").await,
        (404, "lab `seed-bridge` has no node `ns9`; its nodes are `docker0`, `ns0`, `ns1` and `ns2`".into())
    );
    assert_eq!(
        refusal(&client, "node=ns1&iface=eth1").await,
        (404, "node `ns1` has no interface `eth1`; its interfaces are `eth0`".into())
    );
    // A namespace that exists in the kernel but not in this lab (another lab's) is no node.
    setup.sandbox.sh("ip netns add other; ip -n other link set lo up");
    let (status, message) = refusal(&client, "node=other&iface=lo").await;
    assert_eq!(status, 404, "{message}");
    setup.sandbox.sh("ip netns delete other");
    let (status, message) = refusal(&client, "node=ns1").await;
    assert_eq!((status, message.contains("`?node=NAME&iface=IFACE`")), (400, true), "{message}");
    // Not a websocket: said so.
    let (status, message) = refusal(&client, "node=ns1&iface=eth0").await;
    assert_eq!((status, message.contains("is a websocket")), (400, true), "{message}");
    // The lab destroyed, a capture of it is refused with the kernel's reason. (Of ns1: its
    // name goes with destroy, while the host's ends of its veths go when the kernel has
    // freed the namespace, which may come a moment later.)
    drop((icmp_only, arp_only));
    setup.wait_for_threads(0).await;
    assert_eq!(client.post("/api/destroy").await.status(), 200);
    let refused = tokio_tungstenite::connect_async(setup.capture_url("node=ns1&iface=eth0")).await;
    assert!(matches!(refused, Err(WsError::Http(ref r)) if r.status() == 409), "{refused:?}");
    assert_eq!(setup.capture_threads(), 0);
}

#[tokio::test]
async fn viewers_share_one_capture_which_ends_with_the_last_and_with_destroy() {
    let setup = Setup::applied("capture-viewers", &[]).await;
    assert_eq!(setup.capture_threads(), 0);
    let mut first = setup.capture("node=ns1&iface=eth0").await;
    let mut second = setup.capture("node=ns1&iface=eth0&filter=icmp").await;
    assert_eq!(setup.capture_threads(), 1, "one socket for both viewers");
    setup.ping_ns2(1);
    packets_until(&mut first, |packets| echoes(packets, "echo reply") >= 1).await;
    packets_until(&mut second, |packets| echoes(packets, "echo reply") >= 1).await;
    first.close(None).await.unwrap();
    drop(first);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(setup.capture_threads(), 1, "the second viewer still watches");
    drop(second);
    setup.wait_for_threads(0).await;
    // ns1's packet sockets went with the thread.
    assert_eq!(setup.sandbox.sh("ip netns exec ns1 ss -0 -a -H | wc -l").trim(), "0");

    // A capture running when the lab is destroyed ends, and does not keep ns1 alive.
    let mut watching = setup.capture("node=ns1&iface=eth0").await;
    setup.wait_for_threads(1).await;
    assert_eq!(setup.client().post("/api/destroy").await.status(), 200);
    let deadline = Instant::now() + WAIT;
    loop {
        match tokio::time::timeout(deadline.saturating_duration_since(Instant::now()), watching.next()).await {
            Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => break,
            Ok(Some(Ok(_))) => {}
            Err(_) => panic!("the capture did not end with its namespace"),
        }
    }
    setup.wait_for_threads(0).await;
    let left = setup.sandbox.sh("ip netns list; ip -o link show | grep -v ': lo:' || true");
    assert_eq!(left.trim(), "", "destroy left things behind");
}

/// The seed bridge lab with `more` further namespaces on the bridge.
fn bigger_bridge(lab: &Lab, more: usize) -> Lab {
    let mut value = serde_json::to_value(lab).unwrap();
    for index in 3..3 + more {
        value["nodes"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({"kind": "namespace", "name": format!("ns{index}")}));
        value["links"].as_array_mut().unwrap().push(serde_json::json!({
            "kind": "veth",
            "a": {"node": "docker0", "name": format!("vb{index}")},
            "b": {"node": format!("ns{index}"), "name": "eth0", "addresses": [format!("172.17.0.{}/16", 101 + index)]},
        }));
    }
    serde_json::from_value(value).unwrap()
}

#[tokio::test]
async fn captures_are_capped() {
    let setup = Setup::applied("capture-cap", &[]).await;
    let client = setup.client();
    let view = client.lab().await;
    let lab = bigger_bridge(&view.lab, 6);
    assert_eq!(client.put_lab(view.revision, &lab).await.status(), 200);
    assert_eq!(client.post("/api/apply").await.status(), 200);
    let mut places: Vec<String> = (0..9).map(|index| format!("node=ns{index}&iface=eth0")).collect();
    places.extend(["veth0", "veth2", "veth4"].map(|port| format!("node=docker0&iface={port}")));
    places.extend((3..9).map(|index| format!("node=docker0&iface=vb{index}")));
    places.push("node=docker0&iface=docker0".into());
    assert_eq!(places.len(), 19);
    let mut open = Vec::new();
    for place in &places[..16] {
        open.push(setup.capture(place).await);
    }
    assert_eq!(setup.capture_threads(), 16);
    // A further viewer of a running capture is no further capture.
    open.push(setup.capture(&places[0]).await);
    let refused = tokio_tungstenite::connect_async(setup.capture_url(&places[16])).await;
    match refused {
        Err(WsError::Http(response)) => {
            assert_eq!(response.status(), 429);
            let body: ErrorBody = serde_json::from_slice(response.body().as_deref().unwrap()).unwrap();
            assert_eq!(body.message, "16 captures are running, as many as this server runs at once; close one first");
        }
        other => panic!("the 17th capture must be refused: {other:?}"),
    }
    open.remove(3);
    setup.wait_for_threads(15).await;
    open.push(setup.capture(&places[16]).await);
    assert_eq!(setup.capture_threads(), 16);
    drop(open);
    setup.wait_for_threads(0).await;
}

#[tokio::test]
async fn a_viewer_token_and_a_foreign_origin_are_refused() {
    let (token, viewer) = ("teacher-token-0123456789", "student-token-0123456789");
    let setup =
        Setup::applied("capture-access", &["--listen", "0.0.0.0:0", "--token", token, "--viewer-token", viewer]).await;
    let ws = setup.server.url.replacen("http://", "ws://", 1);
    let connect = |token: &str, origin: Option<&str>, path: &str| {
        let mut request =
            format!("{ws}{path}?node=ns1&iface=eth0&seconds=1&token={token}").into_client_request().unwrap();
        if let Some(origin) = origin {
            request.headers_mut().insert("Origin", origin.parse().unwrap());
        }
        tokio_tungstenite::connect_async(request)
    };
    let status = |result: Result<_, WsError>| match result {
        Ok(_) => 101,
        Err(WsError::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("{other}"),
    };
    assert_eq!(status(connect(viewer, None, "/api/capture").await), 403, "a viewer may not capture");
    assert_eq!(status(connect(token, Some("http://evil.example"), "/api/capture").await), 403);
    assert_eq!(status(connect(token, None, "/api/capture").await), 101);
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let file = format!("{}/api/capture.pcapng?node=ns1&iface=eth0&seconds=1", setup.server.url);
    assert_eq!(http.get(&file).bearer_auth(viewer).send().await.unwrap().status(), 403);
    assert_eq!(
        http.get(&file).bearer_auth(token).header("Origin", "http://evil.example").send().await.unwrap().status(),
        403
    );
    assert_eq!(http.get(&file).bearer_auth(token).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn a_client_that_reads_too_slowly_is_told_what_it_missed() {
    let setup = Setup::applied("capture-slow", &[]).await;
    // A small receive buffer: the server's sends back up after a few kilobytes unread.
    let address = setup.server.url.trim_start_matches("http://");
    let target = tokio::net::lookup_host(address).await.unwrap().next().unwrap();
    let tcp = tokio::net::TcpSocket::new_v4().unwrap();
    tcp.set_recv_buffer_size(4096).unwrap();
    let stream = tcp.connect(target).await.unwrap();
    let url = setup.capture_url("node=ns1&iface=eth0");
    let (mut slow, _) =
        tokio_tungstenite::client_async(url, tokio_tungstenite::MaybeTlsStream::Plain(stream)).await.unwrap();
    // Floods of two seconds, not read meanwhile, until more packets crossed eth0 than the
    // ring and the sockets' buffers between server and client hold (about 15 000 here;
    // a loaded machine floods more slowly): at most five.
    let mut sent: u64 = 0;
    for _ in 0..5 {
        let flood = setup.sandbox.try_sh("ip netns exec ns1 ping -f -q -w 2 172.17.0.103");
        let summary = String::from_utf8_lossy(&flood.stdout);
        assert!(flood.status.success(), "{summary}");
        sent += summary
            .split(" packets transmitted")
            .next()
            .and_then(|head| head.rsplit(|c: char| !c.is_ascii_digit()).next())
            .and_then(|count| count.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("ping's summary: {summary}"));
        if 2 * sent > 60_000 {
            break;
        }
    }
    // Now it reads: until the server has nothing more for it (bounded).
    let (mut packets, mut missed) = (0u64, 0u64);
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        let message = match tokio::time::timeout(Duration::from_millis(1500), slow.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => text,
            Ok(Some(Ok(_))) => continue,
            Ok(other) => panic!("the capture ended: {other:?}"),
            Err(_) => break,
        };
        match serde_json::from_str::<CaptureMessage>(&message).unwrap() {
            CaptureMessage::Packet(_) => packets += 1,
            CaptureMessage::Missed(count) => missed += count,
            CaptureMessage::Dropped(_) => {}
        }
    }
    // It was told that it missed packets, and was not sent the whole flood (each echo
    // request is two packets on eth0): what waited for it was bounded.
    assert!(missed > 0, "never told of a miss ({packets} packets read of {sent} requests)");
    assert!(packets < 2 * sent, "read {packets} of the flood's {} packets", 2 * sent);
}

const NS0: &str = "172.17.0.101";
const NS1: &str = "172.17.0.102";

/// The ports (and directions) `what` was seen on, sorted.
fn ports_of(packets: &[CapturedPacket], what: impl Fn(&CapturedPacket) -> bool) -> Vec<(String, Direction)> {
    let mut ports: Vec<(String, Direction)> = packets
        .iter()
        .filter(|packet| what(packet))
        .map(|packet| (packet.port.clone().expect("a bridge's packets name their port"), packet.direction))
        .collect();
    ports.sort_by(|a, b| a.0.cmp(&b.0));
    ports
}

#[tokio::test]
async fn a_bridge_capture_tags_each_packet_with_the_port_it_crossed_and_its_direction() {
    let setup = Setup::applied("capture-bridge-ports", &[]).await;
    let mut bridge = setup.capture(&format!("node=docker0&iface=docker0&filter=host%20{NS0}")).await;
    // One thread for the bridge's three sockets.
    assert_eq!(setup.capture_threads(), 1);
    // ns0 pings ns1, every namespace's neighbours forgotten: ns0's ARP request is a
    // broadcast, the echo is unicast the bridge has learnt.
    setup.sandbox.sh("for ns in ns0 ns1 ns2; do ip netns exec $ns ip neigh flush all; done");
    let ping = setup.sandbox.try_sh(&format!("ip netns exec ns0 ping -c 1 -W 2 {NS1}"));
    assert!(ping.status.success(), "the ping: {}", String::from_utf8_lossy(&ping.stdout));
    let who_has = |p: &CapturedPacket| p.summary.starts_with(&format!("ARP, Request who-has {NS1} tell {NS0}"));
    let seen = packets_until(&mut bridge, |packets| {
        echoes(packets, "echo reply") >= 2 && packets.iter().filter(|p| who_has(p)).count() >= 3
    })
    .await;

    let into_bridge = |port: &str| (port.to_string(), Direction::In);
    let out_of_bridge = |port: &str| (port.to_string(), Direction::Out);
    assert_eq!(
        ports_of(&seen, who_has),
        [into_bridge("veth0"), out_of_bridge("veth2"), out_of_bridge("veth4")],
        "the broadcast goes out to every other port: {}",
        lines(&seen)
    );
    let request = |p: &CapturedPacket| p.fields.icmp.as_deref() == Some("echo request");
    let reply = |p: &CapturedPacket| p.fields.icmp.as_deref() == Some("echo reply");
    assert_eq!(ports_of(&seen, request), [into_bridge("veth0"), out_of_bridge("veth2")], "{}", lines(&seen));
    assert_eq!(ports_of(&seen, reply), [out_of_bridge("veth0"), into_bridge("veth2")], "{}", lines(&seen));
    assert!(seen.windows(2).all(|pair| pair[0].seq < pair[1].seq), "numbers rise: {}", lines(&seen));

    // The file of what the viewer was sent: one interface per port, each frame on its own.
    let range = format!("{}-{}", seen[0].seq, seen[seen.len() - 1].seq);
    let response = setup
        .client()
        .request(reqwest::Method::GET, &format!("/api/capture.pcapng?node=docker0&iface=docker0&held={range}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let file = saved(response).await;
    let fields = tshark(&file, &["-Y", "icmp", "-T", "fields", "-e", "frame.interface_name", "-e", "icmp.type"]);
    let mut seen_in_file: Vec<&str> = fields.lines().collect();
    seen_in_file.sort();
    assert_eq!(seen_in_file, ["veth0\t0", "veth0\t8", "veth2\t0", "veth2\t8"], "{fields}");
}

/// The response's body in a file, for tshark.
async fn saved(response: reqwest::Response) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), response.bytes().await.unwrap()).unwrap();
    file
}

/// What tshark prints reading `file` with `args`; it must read it.
fn tshark(file: &tempfile::NamedTempFile, args: &[&str]) -> String {
    let output = std::process::Command::new("tshark")
        .args(["-r", file.path().to_str().unwrap()])
        .args(args)
        .output()
        .expect("tshark runs (scripts/setup installs it)");
    assert!(output.status.success(), "tshark: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

async fn held_download(setup: &Setup, query: &str) -> reqwest::Response {
    let path = format!("/api/capture.pcapng?{query}");
    setup.client().request(reqwest::Method::GET, &path).send().await.unwrap()
}

#[tokio::test]
async fn the_held_download_is_the_packets_a_viewer_was_sent_and_says_what_went() {
    let setup = Setup::applied("capture-held", &[]).await;
    let mut viewer = setup.capture("node=ns1&iface=eth0").await;
    setup.ping_ns2(3);
    let first_ping = packets_until(&mut viewer, |packets| echoes(packets, "echo reply") >= 3).await;
    let (first, last) = (first_ping[0].seq, first_ping[first_ping.len() - 1].seq);

    // All of the range, read by tshark: the same echoes as the viewer saw, and as many frames.
    let response = held_download(&setup, &format!("node=ns1&iface=eth0&held={first}-{last}")).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("nslab-not-held").is_none(), "everything is held");
    assert_eq!(response.headers()["content-disposition"], "attachment; filename=\"ns1-eth0.pcapng\"");
    let file = saved(response).await;
    let listed = tshark(&file, &[]);
    assert_eq!(listed.lines().count(), first_ping.len(), "{listed}\nthe viewer saw {}", lines(&first_ping));
    assert_eq!(listed.matches("Echo (ping) request").count(), 3, "{listed}");
    assert_eq!(listed.matches("Echo (ping) reply").count(), 3, "{listed}");

    // A cleared panel names only what came after: the next ping's packets.
    setup.ping_ns2(1);
    let second_ping = packets_until(&mut viewer, |packets| echoes(packets, "echo reply") >= 1).await;
    let (after, newest) = (second_ping[0].seq, second_ping[second_ping.len() - 1].seq);
    assert!(after > last, "numbers go on rising: {after} after {last}");
    let file = saved(held_download(&setup, &format!("node=ns1&iface=eth0&held={after}-{newest}")).await).await;
    let listed = tshark(&file, &["-Y", "icmp"]);
    assert_eq!(listed.matches("Echo (ping) request").count(), 1, "{listed}");
    // With the viewer's filter, only what it matches.
    let query = format!("node=ns1&iface=eth0&filter=arp&held={first}-{newest}");
    let file = saved(held_download(&setup, &query).await).await;
    let listed = tshark(&file, &[]);
    assert!(listed.lines().count() >= 2 && listed.lines().all(|line| line.contains("ARP")), "{listed}");

    // A flood of 1100 echoes (2200 frames) pushes the first ping out of what the capture
    // holds: the file says which packets went, in a header and in its own comment.
    let flood = setup.sandbox.try_sh(&format!("ip netns exec ns1 ping -f -q -c 1100 {NS2}"));
    assert!(flood.status.success(), "{}", String::from_utf8_lossy(&flood.stdout));
    // (The capture's thread may still be reading the flood's last frames: asked again
    // until they have pushed the range out, bounded.)
    let deadline = Instant::now() + WAIT;
    let response = loop {
        let response = held_download(&setup, &format!("node=ns1&iface=eth0&held={first}-{newest}")).await;
        assert_eq!(response.status(), 200);
        if response.headers().contains_key("nslab-not-held") || Instant::now() > deadline {
            break response;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(response.headers()["nslab-not-held"], format!("{first}-{newest}").as_str());
    let file = saved(response).await;
    assert_eq!(tshark(&file, &[]).lines().count(), 0, "none of the range is held");
    let comments = std::process::Command::new("capinfos").args(["-k", file.path().to_str().unwrap()]).output();
    let comments =
        String::from_utf8_lossy(&comments.expect("capinfos runs (it comes with tshark)").stdout).into_owned();
    assert!(
        comments.contains(&format!("the server no longer holds packets {first} to {newest} of those asked for")),
        "{comments}"
    );

    // A capture that ended holds nothing: a download of it is refused.
    drop(viewer);
    setup.wait_for_threads(0).await;
    let response = held_download(&setup, &format!("node=ns1&iface=eth0&held={first}-{newest}")).await;
    assert_eq!(response.status(), 404);
    let body: ErrorBody = response.json().await.unwrap();
    assert_eq!(
        body.message,
        "no capture runs on eth0 of ns1: `held=` downloads what a running capture holds; `seconds=N` captures anew"
    );
}

async fn held_refusal(setup: &Setup, query: &str) -> (u16, String) {
    let response = held_download(setup, query).await;
    let status = response.status().as_u16();
    (status, response.json::<ErrorBody>().await.expect("errors are JSON").message)
}

#[tokio::test]
async fn a_held_download_refuses_bad_ranges_and_unknown_places() {
    let setup = Setup::applied("capture-held-refusals", &[]).await;
    let _viewer = setup.capture("node=ns1&iface=eth0").await;
    for range in ["9-5", "a-b", "5-", "-5", "1-2-3", "", "5%20-%209"] {
        let (status, message) = held_refusal(&setup, &format!("node=ns1&iface=eth0&held={range}")).await;
        assert_eq!(status, 400, "{range:?}: {message}");
        assert!(message.starts_with("`held` must be FIRST-LAST, two packet numbers"), "{range:?}: {message}");
    }
    let (status, message) = held_refusal(&setup, "node=ns1&iface=eth0&held=1-5&seconds=3").await;
    assert_eq!((status, message.as_str()), (400, "name `seconds=N` or `held=FIRST-LAST`, not both"));
    let (status, message) = held_refusal(&setup, "node=ns1&iface=eth0").await;
    assert_eq!(status, 400);
    assert!(message.starts_with("name what to download: `seconds=N`"), "{message}");
    assert_eq!(
        held_refusal(&setup, "node=ns9&iface=eth0&held=1-5").await,
        (404, "lab `seed-bridge` has no node `ns9`; its nodes are `docker0`, `ns0`, `ns1` and `ns2`".into())
    );
    // ns2's eth0 is in the lab, but nothing captures it.
    let (status, message) = held_refusal(&setup, "node=ns2&iface=eth0&held=1-5").await;
    assert_eq!(status, 404, "{message}");
    assert!(message.starts_with("no capture runs on eth0 of ns2"), "{message}");
    assert_eq!(setup.capture_threads(), 1, "a held download starts no capture");
}
