//! `scripts/bench --only terminal`: the browser's terminals (`GET /api/terminal`) through
//! the real websocket, as a page uses them. A measurement, not a test: it prints times and
//! memory and asserts nothing about them; it fails only when something is wrong (a key
//! never echoed, the server died).
//!
//! 1. Keypress to echo: one key at a time into bash's prompt in ns1 of the seed bridge
//!    lab, timed from the websocket send to the first binary frame back (readline echoes
//!    each key itself, so this is the whole path: websocket, server, pseudo-terminal, the
//!    shell, and back). A warm-up first; Ctrl+U clears the line every 40 keys.
//! 2. `yes` in a terminal: the server's RSS (VmRSS, sampled every second) while a client
//!    reads as fast as it can, then while a client reads nothing at all (back-pressure: the
//!    server stops reading the terminal, `yes` blocks in its write). Also the bytes that
//!    reached the client and the server's CPU time.
//!
//! 3. The reference, in the same run: bash in ns1 on a local pseudo-terminal (python3's
//!    `pty` module running `ip netns exec ns1 bash -i`, as a terminal emulator on the
//!    machine would), the same keys timed the same way, and `yes` read as fast as it comes
//!    for as long; the ratios of nslab's figures to these.
//!
//! It runs in a fresh sandbox with its own `nslab serve --terminals` (the release build
//! next to this binary); the thread that talks to the server enters the sandbox's network
//! namespace and ends before the sandbox is dropped.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;
use nslab_bench::args::{command_line, default_nslab, nslab_or_exit, number, seconds};
use nslab_bench::machine::Header;
use nslab_bench::process::stat_cpu_ms;
use nslab_bench::reference::local_pty;
use nslab_bench::seed_lab::on_applied_seed_lab;
use nslab_bench::{ms, Stats};
use nslab_tests::server::NslabServer;
use nslab_tests::terminal::Terminal;

/// Measures the editor's terminals: keypress-to-echo latency and the server's memory under
/// `yes`. Needs root.
#[derive(Debug, Parser)]
#[command(name = "bench_terminal")]
struct Args {
    /// Keys timed (after 20 of warm-up).
    #[arg(long, default_value_t = 500, value_parser = number(1..=100_000))]
    keys: usize,
    /// How long `yes` runs for each reader, fast and stalled.
    #[arg(long, default_value = "30", value_parser = seconds(1..=600))]
    yes_seconds: Duration,
    /// The nslab binary to serve with.
    #[arg(long, default_value_os_t = default_nslab())]
    nslab: PathBuf,
    #[arg(skip)]
    command_line: String,
}

fn main() {
    let mut args = Args::parse();
    args.nslab = nslab_or_exit("bench_terminal", &args.nslab);
    args.command_line = command_line("scripts/bench --only terminal");
    let header = Header::print("nslab terminals", &args.command_line);
    println!("build:    {}", header.commit_note());
    on_applied_seed_lab("bench_terminal", &args.nslab, &["--terminals"], async |server, sandbox| {
        let nslab_keys = latency(server, args.keys).await?;
        let nslab_yes = memory_under_yes(server, args.yes_seconds).await?;
        let local = local_pty(sandbox, "ns1", args.keys, args.yes_seconds)?;
        let local_keys = Stats::of(local.key_ms);
        let local_yes = local.yes_bytes as f64 / 1e6 / local.yes_seconds;
        println!();
        println!("## the reference: bash in ns1 on a local pty (`ip netns exec ns1 bash -i`, python3's pty module)");
        println!(
            "keypress to echo: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms ({} keys); `yes` read {:.1} MB/s",
            local_keys.p(50.0),
            local_keys.p(99.0),
            local_keys.max(),
            local_keys.len(),
            local_yes
        );
        println!(
            "nslab / local pty: keypress to echo p50 {:.1}x, p99 {:.1}x; `yes` throughput {:.2}x",
            nslab_keys.p(50.0) / local_keys.p(50.0),
            nslab_keys.p(99.0) / local_keys.p(99.0),
            nslab_yes / local_yes
        );
        Ok(())
    });
}

const ECHO_WAIT: Duration = Duration::from_secs(10);

/// Keypress to echo through nslab: the times' statistics.
async fn latency(server: &NslabServer, keys: usize) -> Result<Stats, String> {
    let mut terminal = Terminal::open(server, "ns1").await;
    terminal.wait_for("the prompt", ECHO_WAIT, |text| text.contains("[ns1]")).await;
    let mut times = Vec::with_capacity(keys);
    for index in 0..keys + 20 {
        if index % 40 == 39 {
            terminal.send(&[0x15]).await; // Ctrl+U: the line starts again.
            terminal.next_chunk(ECHO_WAIT).await.ok_or("no answer to Ctrl+U")?;
        }
        let key = b'a' + (index % 26) as u8;
        let sent = Instant::now();
        terminal.send(&[key]).await;
        let echo = terminal.next_chunk(ECHO_WAIT).await.ok_or("a key was never echoed")?;
        let took = sent.elapsed();
        if !echo.contains(&key) {
            return Err(format!("the echo of `{}` was {:?}", key as char, String::from_utf8_lossy(&echo)));
        }
        if index >= 20 {
            times.push(ms(took));
        }
    }
    terminal.close().await;
    let stats = Stats::of(times);
    println!();
    println!("## keypress to echo (bash in ns1, {} keys after 20 of warm-up)", stats.len());
    println!("p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms", stats.p(50.0), stats.p(99.0), stats.max());
    Ok(stats)
}

/// The server's memory under `yes`; what a client reading as fast as it can got, in MB/s.
async fn memory_under_yes(server: &NslabServer, seconds: Duration) -> Result<f64, String> {
    let mut fast_mb_per_s = 0.0;
    println!();
    println!("## `yes` in a terminal: the server's RSS, sampled every second");
    println!("idle (a terminal open, nothing running): {} KiB", rss_kib(server.pid));
    for reader in [Reader::Fast, Reader::Stalled] {
        let mut terminal = Terminal::open(server, "ns0").await;
        terminal.wait_for("the prompt", ECHO_WAIT, |text| text.contains("[ns0]")).await;
        terminal.send(b"yes\r").await;
        let cpu_before = cpu_ms(server.pid);
        let started = Instant::now();
        let mut samples = Vec::new();
        let mut received = 0usize;
        while started.elapsed() < seconds {
            let second = Instant::now() + Duration::from_secs(1);
            match reader {
                Reader::Fast => {
                    while let Some(left) = second.checked_duration_since(Instant::now()) {
                        received += terminal.next_chunk(left).await.map_or(0, |chunk| chunk.len());
                    }
                }
                Reader::Stalled => tokio::time::sleep_until(second.into()).await,
            }
            samples.push(rss_kib(server.pid) as f64);
        }
        let cpu = cpu_ms(server.pid) - cpu_before;
        if matches!(reader, Reader::Fast) {
            fast_mb_per_s = received as f64 / 1e6 / started.elapsed().as_secs_f64();
        }
        terminal.send(&[0x03]).await;
        terminal.close().await;
        let stats = Stats::of(samples.clone());
        let first = samples.first().copied().unwrap_or_default();
        let last = samples.last().copied().unwrap_or_default();
        println!(
            "{}: {} samples over {:.0} s: RSS first {first:.0} KiB, min {:.0}, max {:.0}, last {last:.0}; \
             {:.1} MB reached the client ({:.1} MB/s); server CPU {:.1} s",
            reader.words(),
            stats.len(),
            started.elapsed().as_secs_f64(),
            stats.p(0.0),
            stats.max(),
            received as f64 / 1e6,
            received as f64 / 1e6 / started.elapsed().as_secs_f64(),
            cpu / 1000.0
        );
    }
    println!("after both (terminals closed): {} KiB", rss_kib(server.pid));
    Ok(fast_mb_per_s)
}

#[derive(Debug, Clone, Copy)]
enum Reader {
    Fast,
    Stalled,
}

impl Reader {
    fn words(self) -> &'static str {
        match self {
            Reader::Fast => "a client reading as fast as it can",
            Reader::Stalled => "a client reading nothing",
        }
    }
}

/// VmRSS of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// User and system CPU time of a process so far, in ms.
fn cpu_ms(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat_cpu_ms(&stat).map_or(0.0, |(user, system)| user + system)
}
