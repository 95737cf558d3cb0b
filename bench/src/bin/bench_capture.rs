//! `target/release/bench_capture` (after `cargo build --release -p nslab -p nslab-bench`;
//! scripts/bench does not run it yet): live packet capture
//! (`GET /api/capture`) under a ping flood, through the real websocket. A measurement, not
//! a test: it prints rates and counts and asserts nothing about them; it fails only when
//! something is wrong (the lab did not apply, the capture did not open).
//!
//! `ping -f` from ns1 to ns2 of the seed bridge lab for `--seconds` (iputils' flood: a
//! request as soon as the last reply came, or 100 a second without replies), captured on
//! ns1's eth0 by a websocket client in each of three ways:
//!
//! - `reads`: a client that reads every message as fast as it comes;
//! - `filtered`: the same, with the filter `arp`, so the server decodes every packet but
//!   sends almost none (what the capture thread alone keeps up with);
//! - `stalled`: a client that reads nothing until the flood is over (its receive buffer
//!   kept small), then reads what it is sent.
//!
//! For each: the packets that reached the client (and per second of the flood), the
//! `{"missed": N}` the server told it, the packets the kernel dropped at the socket
//! (`{"dropped": N}`, from PACKET_STATISTICS), the flood's own count from ping's summary,
//! and the server's CPU time (utime + stime of /proc/PID/stat) over the flood.
//!
//! It runs in a fresh sandbox with its own `nslab serve` (the release build next to this
//! binary, or `--nslab`); the thread that talks to the server enters the sandbox's network
//! namespace and ends before the sandbox is dropped.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;
use futures::StreamExt;
use nslab_bench::args::{command_line, default_nslab, nslab_or_exit, seconds};
use nslab_bench::machine::Header;
use nslab_bench::process::stat_cpu_ms;
use nslab_bench::seed_lab::on_applied_seed_lab;
use nslab_model::capture::CaptureMessage;
use nslab_tests::sandbox::Sandbox;
use nslab_tests::server::NslabServer;
use tokio_tungstenite::tungstenite::Message;

/// Measures live capture under `ping -f`. Needs root.
#[derive(Debug, Parser)]
#[command(name = "bench_capture")]
struct Args {
    /// How long each flood runs.
    #[arg(long, default_value = "5", value_parser = seconds(1..=60))]
    seconds: Duration,
    /// The nslab binary to serve with.
    #[arg(long, default_value_os_t = default_nslab())]
    nslab: PathBuf,
    #[arg(skip)]
    command_line: String,
}

/// After the flood: how long the client keeps reading what is still on its way.
const DRAIN: Duration = Duration::from_secs(2);

fn main() {
    let mut args = Args::parse();
    args.nslab = nslab_or_exit("bench_capture", &args.nslab);
    args.command_line = command_line("target/release/bench_capture");
    let header = Header::print("nslab live capture", &args.command_line);
    println!("build:    {}", header.commit_note());
    on_applied_seed_lab("bench_capture", &args.nslab, &[], async |server, sandbox| {
        println!();
        println!("## `ping -f` ns1 -> ns2 for {} s, captured on ns1's eth0", args.seconds.as_secs());
        for client in [Client::Reads, Client::Filtered, Client::Stalled] {
            flood(server, sandbox, client, args.seconds).await?;
        }
        Ok(())
    });
}

#[derive(Debug, Clone, Copy)]
enum Client {
    Reads,
    Filtered,
    Stalled,
}

impl Client {
    fn words(self) -> &'static str {
        match self {
            Client::Reads => "reads (no filter)",
            Client::Filtered => "filtered (`arp`)",
            Client::Stalled => "stalled, then reads",
        }
    }
}

/// What one client saw of one flood.
#[derive(Default)]
struct Seen {
    packets: u64,
    missed: u64,
    dropped: u64,
}

impl Seen {
    fn take(&mut self, message: Message) {
        let Message::Text(text) = message else { return };
        match serde_json::from_str::<CaptureMessage>(&text) {
            Ok(CaptureMessage::Packet(_)) => self.packets += 1,
            Ok(CaptureMessage::Missed(count)) => self.missed += count,
            Ok(CaptureMessage::Dropped(count)) => self.dropped += count,
            Err(_) => {}
        }
    }
}

async fn flood(server: &NslabServer, sandbox: &Sandbox, client: Client, length: Duration) -> Result<(), String> {
    let filter = if matches!(client, Client::Filtered) { "&filter=arp" } else { "" };
    let url = format!("{}/api/capture?node=ns1&iface=eth0{filter}", server.url.replacen("http://", "ws://", 1));
    let (mut socket, _) = match client {
        Client::Stalled => {
            // A small receive buffer, so the server's sends back up after a few kilobytes.
            let address = server.url.trim_start_matches("http://");
            let target =
                tokio::net::lookup_host(address).await.map_err(|e| e.to_string())?.next().ok_or("no address")?;
            let tcp = tokio::net::TcpSocket::new_v4().map_err(|e| e.to_string())?;
            tcp.set_recv_buffer_size(4096).map_err(|e| e.to_string())?;
            let stream = tcp.connect(target).await.map_err(|e| e.to_string())?;
            tokio_tungstenite::client_async(url, tokio_tungstenite::MaybeTlsStream::Plain(stream))
                .await
                .map_err(|e| format!("the capture did not open: {e}"))?
        }
        _ => tokio_tungstenite::connect_async(url).await.map_err(|e| format!("the capture did not open: {e}"))?,
    };
    let cpu_before = cpu_ms(server.pid);
    let deadline = length.as_secs().to_string();
    let ping = sandbox
        .command("sh")
        .args(["-c", &format!("ip netns exec ns1 ping -f -q -w {deadline} 172.17.0.103")])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start ping: {e}"))?;
    let started = Instant::now();
    let ping_done = tokio::task::spawn_blocking(move || ping.wait_with_output());
    let mut seen = Seen::default();
    let flood_end = started + length;
    if !matches!(client, Client::Stalled) {
        while let Some(left) = flood_end.checked_duration_since(Instant::now()) {
            match tokio::time::timeout(left, socket.next()).await {
                Ok(Some(Ok(message))) => seen.take(message),
                Ok(_) => return Err("the capture ended during the flood".into()),
                Err(_) => break,
            }
        }
    }
    let output = ping_done.await.map_err(|e| e.to_string())?.map_err(|e| e.to_string())?;
    let flooded = started.elapsed();
    let cpu = cpu_ms(server.pid) - cpu_before;
    let during = seen.packets;
    // What was still on its way (all of it, for the stalled client).
    let drained = Instant::now() + DRAIN;
    while let Some(left) = drained.checked_duration_since(Instant::now()) {
        match tokio::time::timeout(left, socket.next()).await {
            Ok(Some(Ok(message))) => seen.take(message),
            _ => break,
        }
    }
    let _ = socket.close(None).await;
    let summary = String::from_utf8_lossy(&output.stdout);
    let counts = summary.lines().find(|line| line.contains("packets transmitted")).unwrap_or("(no summary)").trim();
    let seconds = flooded.as_secs_f64();
    println!(
        "{}: {} packets reached the client ({} during the flood, {:.0}/s), missed {}, dropped at the socket {}; \
         ping: {counts}; server CPU {:.2} s over {:.1} s ({:.0} % of one core)",
        client.words(),
        seen.packets,
        during,
        during as f64 / seconds,
        seen.missed,
        seen.dropped,
        cpu / 1000.0,
        seconds,
        cpu / 10.0 / seconds
    );
    // Let the capture end before the next one starts (its thread polls every 200 ms).
    tokio::time::sleep(Duration::from_millis(500)).await;
    Ok(())
}

fn cpu_ms(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat_cpu_ms(&stat).map_or(0.0, |(user, system)| user + system)
}
