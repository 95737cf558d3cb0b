//! `scripts/bench --only reach`: how long the predicted reachability matrix takes (the
//! `nslab_model::reach` walk of every source namespace to every address), natively and in
//! the browser's wasm, against the real matrix (`POST /api/matrix`: every namespace pings
//! every address in the kernel) of the same lab applied in a sandbox. A measurement, not a
//! test: it prints a table and asserts nothing about the times.
//!
//! The labs:
//! - star: N namespaces on one bridge (`br0`, in the host, with the subnet's first
//!   address), one /16: every pair reaches.
//! - chain: N routers in a line, each joined to the next by a veth on a /30 of its own,
//!   all forwarding; each has a default route to the right and a route to every /30 on its
//!   left through its left neighbour: every pair has a way; those more than 64 hops apart
//!   do not reach, as a ping's TTL of 64 runs out (63 routers forward it at most).
//!
//! Natively: the median of --repeat predictions (release build). In the browser: the page
//! of a `nslab serve` (on the host, nothing applied) in headless Chromium runs the editor's
//! own prediction (`window.wasmBindings.time_predicted_matrix`, timed in the page with
//! `performance.now()`) --repeat times; the median. The real matrix: the lab applied in a
//! sandbox, then `POST /api/matrix` timed at the client (once; its own bounds apply: 0.5 s
//! a probe, at most 5 s a wave of sources), and the pairs where it and the prediction
//! disagree counted (skipped with --no-kernel, or when not root).

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;
use nslab_bench::args::{command_line, default_nslab, nslab_or_exit, number};
use nslab_bench::client::Api;
use nslab_bench::labs::star;
use nslab_bench::machine::Header;
use nslab_bench::{check_valid, median, ms, Server};
use nslab_model::api::MatrixReport;
use nslab_model::reach::predict_matrix;
use nslab_model::Lab;
use nslab_tests::browser::Browser;
use nslab_tests::labs::router_chain;
use nslab_tests::sandbox::Sandbox;

/// The predicted matrix of a star and of a chain of routers: natively, in the browser's
/// wasm, and against the real matrix of the same lab in the kernel.
#[derive(Parser)]
#[command(name = "bench_reach")]
struct Args {
    /// Namespaces of the star.
    #[arg(long, value_name = "N", default_value_t = 300, value_parser = number(2..=2000))]
    star: usize,
    /// Routers of the chain.
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = number(2..=1000))]
    chain: usize,
    /// Predictions timed per lab, natively and in the browser.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = number(1..=100))]
    repeat: usize,
    /// Do not apply the labs and run the real matrix (no root needed then).
    #[arg(long = "no-kernel")]
    no_kernel: bool,
    /// Do not time the prediction in the browser.
    #[arg(long = "no-browser")]
    no_browser: bool,
    /// The nslab binary to serve.
    #[arg(long, value_name = "PATH", default_value_os_t = default_nslab())]
    nslab: PathBuf,
}

/// One lab's row of the table; None where the part did not run (or failed, said above).
struct Row {
    name: String,
    pairs: usize,
    native_ms: f64,
    wasm_ms: Option<f64>,
    real: Option<Real>,
}

/// The real matrix: its time at the client and how many pairs disagree with the prediction.
struct Real {
    ms: f64,
    disagreeing: usize,
}

fn main() {
    let mut args = Args::parse();
    args.nslab = nslab_or_exit("bench_reach", &args.nslab);
    let header =
        Header::print("nslab reach benchmark: the predicted matrix", &command_line("scripts/bench --only reach"));
    let kernel = !args.no_kernel && nix::unistd::Uid::effective().is_root();
    if !args.no_kernel && !kernel {
        println!("not root: the real matrix is skipped (run as root, or pass --no-kernel)");
    }
    let labs = [
        (format!("star of {}", args.star), star_lab(args.star)),
        (format!("chain of {}", args.chain), chain_lab(args.chain)),
    ];
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let mut rows = Vec::new();
    for (name, lab) in labs {
        if let Err(error) = check_valid(&lab) {
            eprintln!("bench_reach: {name}: {error}");
            std::process::exit(1);
        }
        let (native_ms, pairs, reaching) = native(&lab, args.repeat);
        println!("{name}: {pairs} pairs, {reaching} reach; native median {native_ms:.1} ms");
        let wasm_ms = (!args.no_browser)
            .then(|| runtime.block_on(in_browser(&args, &lab)))
            .and_then(|result| result.map_err(|error| println!("{name}: in the browser: {error}")).ok());
        let real = kernel
            .then(|| real_matrix(&args, &lab))
            .and_then(|result| result.map_err(|error| println!("{name}: the real matrix: {error}")).ok());
        rows.push(Row { name, pairs, native_ms, wasm_ms, real });
    }
    print_table(&rows, &header);
}

/// The star of `n` namespaces on `br0` (see the module comment).
fn star_lab(n: usize) -> Lab {
    star(format!("reach-star-{n}"), n, Ipv4Addr::new(10, 0, 0, 0), 16)
}

/// The chain of `n` forwarding routers (see the module comment).
fn chain_lab(n: usize) -> Lab {
    router_chain(&format!("reach-chain-{n}"), n)
}

/// The median of `repeat` native predictions, the pairs, and how many reach.
fn native(lab: &Lab, repeat: usize) -> (f64, usize, usize) {
    let mut times = Vec::new();
    let mut counts = (0, 0);
    for _ in 0..repeat {
        let started = Instant::now();
        let matrix = predict_matrix(lab);
        times.push(ms(started.elapsed()));
        counts = (matrix.pairs.len(), matrix.pairs.iter().filter(|pair| pair.reach).count());
    }
    (median(&times).unwrap_or_default(), counts.0, counts.1)
}

/// The median of `repeat` predictions by the editor's wasm in headless Chromium.
async fn in_browser(args: &Args, lab: &Lab) -> Result<f64, String> {
    let server = Server::start(None, &args.nslab, None, Duration::from_secs(30))?;
    let browser = Browser::start().await;
    let outcome = async {
        let client = &browser.client;
        client.goto(&server.url).await.map_err(|e| format!("the page does not load: {e}"))?;
        let ready = "return typeof window.wasmBindings?.time_predicted_matrix === 'function';";
        let deadline = Instant::now() + Duration::from_secs(30);
        while client.execute(ready, vec![]).await.map_err(|e| e.to_string())?.as_bool() != Some(true) {
            if Instant::now() > deadline {
                return Err("the editor's wasm did not start in 30 s".to_string());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let text = serde_json::to_string(lab).map_err(|e| e.to_string())?;
        let mut times = Vec::new();
        for _ in 0..args.repeat {
            let answer = client
                .execute(
                    "return Array.from(window.wasmBindings.time_predicted_matrix(arguments[0]));",
                    vec![text.clone().into()],
                )
                .await
                .map_err(|e| format!("the prediction in the page: {e}"))?;
            let numbers: Vec<f64> = serde_json::from_value(answer).map_err(|e| e.to_string())?;
            times.push(numbers.first().copied().ok_or("no time")?);
        }
        Ok(median(&times).unwrap_or_default())
    }
    .await;
    browser.close().await;
    drop(server);
    outcome
}

/// The lab applied in a fresh sandbox, then the real matrix, timed at the client; the
/// client runs on a thread of its own that enters the sandbox's network, where the server
/// listens.
fn real_matrix(args: &Args, lab: &Lab) -> Result<Real, String> {
    let sandbox = Sandbox::new();
    let file = tempfile::Builder::new().prefix("bench-reach-").suffix(".json").tempfile().map_err(|e| e.to_string())?;
    std::fs::write(file.path(), serde_json::to_vec_pretty(lab).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let server = Server::start(Some(&sandbox), &args.nslab, Some(file.path()), Duration::from_secs(30))?;
    let measured = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                sandbox.enter_network_here();
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
                runtime.block_on(async {
                    let api = Api::new(&server, Duration::from_secs(900));
                    let _: serde_json::Value = api.post("/api/apply").await?;
                    let started = Instant::now();
                    let report: MatrixReport = api.post("/api/matrix").await?;
                    let elapsed = ms(started.elapsed());
                    let _: serde_json::Value = api.post("/api/destroy").await?;
                    Ok::<_, String>((report, elapsed))
                })
            })
            .join()
            .unwrap_or_else(|_| Err("the measuring thread panicked".into()))
    });
    let (report, elapsed) =
        measured.map_err(|error| format!("{error}\n  the server's log ends:\n{}", server.log_tail()))?;
    let predicted = predict_matrix(lab);
    let disagreeing = predicted
        .pairs
        .iter()
        .filter(|pair| {
            let source = nslab_model::ping::source_of(lab, &pair.from).ok();
            let real = report.cells.iter().find(|cell| Some(&cell.source) == source.as_ref() && cell.target == pair.to);
            real.is_none_or(|cell| cell.reachable != pair.reach)
        })
        .count();
    if let Some(warning) = &report.warning {
        println!("the real matrix warned: {warning}");
    }
    Ok(Real { ms: elapsed, disagreeing })
}

fn print_table(rows: &[Row], header: &Header) {
    println!();
    println!("| lab | pairs | predicted, native | predicted, browser wasm | real matrix (kernel) | real / native | disagreeing pairs |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let or_dash = |value: Option<String>| value.unwrap_or_else(|| "–".to_string());
    for row in rows {
        println!(
            "| {} | {} | {:.1} ms | {} | {} | {} | {} |",
            row.name,
            row.pairs,
            row.native_ms,
            or_dash(row.wasm_ms.map(|ms| format!("{ms:.1} ms"))),
            or_dash(row.real.as_ref().map(|real| format!("{:.0} ms", real.ms))),
            or_dash(row.real.as_ref().map(|real| format!("{:.0}×", real.ms / row.native_ms.max(0.001)))),
            or_dash(row.real.as_ref().map(|real| real.disagreeing.to_string())),
        );
    }
    println!();
    println!("({}, {}; medians of the predictions; the real matrix once)", header.commit_note(), header.date);
}
