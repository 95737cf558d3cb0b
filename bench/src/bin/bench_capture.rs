//! `scripts/bench --only capture`: live packet capture
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
//! the server's CPU time (utime + stime of /proc/PID/stat) over the flood and how much of
//! it was the capture's reading thread (the `nslab-cap-*` task), the client's own CPU
//! time, and how busy the machine's cores were (/proc/stat: what a flood leaves the
//! capture).
//!
//! Then the reference, in the same run: `tcpdump -w FILE` on the same interface under the
//! same flood (its own, as long), its packets captured per second, its drops, its CPU
//! time and the machine's; and the ratio of what nslab's reading client got per second to
//! what tcpdump wrote.
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
use nslab_bench::reference::{tcpdump_flood, MachineCpu, MachineShares};
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
        let mut reads = None;
        for client in [Client::Reads, Client::Filtered, Client::Stalled] {
            let rate = flood(server, sandbox, client, args.seconds).await?;
            reads = reads.or(Some(rate));
        }
        against_tcpdump(sandbox, args.seconds, reads.unwrap_or_default())
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

/// What a client got per second of a flood, and the server's share of a core meanwhile.
#[derive(Default, Clone, Copy)]
struct Rate {
    per_second: f64,
    lost: u64,
    cpu_percent: f64,
}

async fn flood(server: &NslabServer, sandbox: &Sandbox, client: Client, length: Duration) -> Result<Rate, String> {
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
    let cpu_before = ServerCpu::of(server.pid);
    let client_before = cpu_ms(std::process::id());
    let machine_before = MachineCpu::now();
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
    let server_cpu = ServerCpu::of(server.pid).since(cpu_before);
    let client_cpu = cpu_ms(std::process::id()) - client_before;
    let machine = MachineCpu::now().zip(machine_before).map(|(after, before)| after.since(before)).unwrap_or_default();
    let cpu = server_cpu.all_ms;
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
    let percent = |ms: f64| ms / 10.0 / seconds;
    println!(
        "{}: {} packets reached the client ({} during the flood, {:.0}/s), missed {}, dropped at the socket {}; \
         ping: {counts}; server CPU {:.2} s over {:.1} s ({:.0} % of one core: the reading thread {:.0} %, the \
         rest, decoding, JSON and websocket, {:.0} %); the client's CPU {:.0} %; {}",
        client.words(),
        seen.packets,
        during,
        during as f64 / seconds,
        seen.missed,
        seen.dropped,
        cpu / 1000.0,
        seconds,
        percent(cpu),
        percent(server_cpu.reading_ms),
        percent(cpu - server_cpu.reading_ms),
        percent(client_cpu),
        machine_words(machine)
    );
    // Let the capture end before the next one starts (its thread polls every 200 ms).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rate = Rate {
        per_second: during as f64 / seconds,
        lost: seen.missed + seen.dropped,
        cpu_percent: cpu / 10.0 / seconds,
    };
    Ok(rate)
}

/// `tcpdump -w` under the same flood, and nslab's reading client beside it.
fn against_tcpdump(sandbox: &Sandbox, length: Duration, nslab: Rate) -> Result<(), String> {
    println!();
    println!("## the reference: `tcpdump -w FILE` on ns1's eth0 under the same `ping -f` for {} s", length.as_secs());
    let dump = tcpdump_flood(sandbox, "ns1", "172.17.0.103", length.as_secs())?;
    let seconds = length.as_secs_f64();
    let per_second = dump.captured as f64 / seconds;
    println!(
        "tcpdump -w: {} packets captured ({per_second:.0}/s), dropped by the kernel {}; ping: {}; tcpdump CPU {:.2} s \
         ({:.0} % of one core); {}",
        dump.captured,
        dump.dropped,
        dump.ping,
        dump.cpu_ms / 1000.0,
        dump.cpu_ms / 10.0 / seconds,
        machine_words(dump.machine)
    );
    println!(
        "nslab / tcpdump: packets per second {:.2}x ({:.0}/s with {} lost against {per_second:.0}/s with {} lost), \
         CPU {:.2}x ({:.0} % against {:.0} % of one core)",
        nslab.per_second / per_second,
        nslab.per_second,
        nslab.lost,
        dump.dropped,
        nslab.cpu_percent / (dump.cpu_ms / 10.0 / seconds),
        nslab.cpu_percent,
        dump.cpu_ms / 10.0 / seconds
    );
    Ok(())
}

/// How busy the cores were over a flood.
fn machine_words(machine: MachineShares) -> String {
    let cores = std::thread::available_parallelism().map_or(1, |cores| cores.get());
    format!(
        "the machine's {cores} cores {:.0} % busy ({:.0} % in softirq)",
        machine.busy * 100.0,
        machine.softirq * 100.0
    )
}

/// The server's CPU time: all its threads', and its capture reading threads'.
#[derive(Clone, Copy)]
struct ServerCpu {
    all_ms: f64,
    reading_ms: f64,
}

impl ServerCpu {
    fn of(pid: u32) -> ServerCpu {
        let reading = std::fs::read_dir(format!("/proc/{pid}/task"))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|task| {
                let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
                comm.starts_with("nslab-cap-")
            })
            .map(|task| std::fs::read_to_string(task.path().join("stat")).unwrap_or_default())
            .filter_map(|stat| stat_cpu_ms(&stat).map(|(user, system)| user + system))
            .sum();
        ServerCpu { all_ms: cpu_ms(pid), reading_ms: reading }
    }

    fn since(self, before: ServerCpu) -> ServerCpu {
        ServerCpu { all_ms: self.all_ms - before.all_ms, reading_ms: self.reading_ms - before.reading_ms }
    }
}

fn cpu_ms(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat_cpu_ms(&stat).map_or(0.0, |(user, system)| user + system)
}
