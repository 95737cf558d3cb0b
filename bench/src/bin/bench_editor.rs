//! `scripts/bench --only editor`: how smooth the editor (the Leptos app in dist/) stays on a
//! big lab, measured in real headless Chromium driven by chromedriver. A measurement, not a
//! test: it prints times and never asserts on them; it fails only when something does not
//! work (the nodes never appear, a drag does not move the node, no frames were recorded).
//!
//! For each size N it writes a star (bridge `br0` in the host, namespaces ns1..ns(N-1) each
//! on a veth to it, placed by `nslab_model::layout::auto_layout`) to a temporary file, starts
//! `nslab serve` on it (the release build next to this binary, on the host: nothing is
//! applied) and a fresh Chromium, then measures:
//!
//! 1. First render, cold (new profile, empty cache) and warm (the median of 3 reloads): from
//!    navigation start until all N `g.node` are in the DOM, and until the frame that shows
//!    them has been painted (the task after the next requestAnimationFrame). A probe put in
//!    every new document before its own scripts (through chromedriver's DevTools endpoint)
//!    watches with a MutationObserver, so the page's load event does not hide the moment.
//! 2. A node drag with real pointer input (WebDriver actions: chromedriver sends the events
//!    through Chromium's input pipeline): press on `ns1`'s box, `--moves` steps of 2x1 px
//!    as fast as chromedriver sends them (about one per frame here), release. A
//!    requestAnimationFrame loop records frame intervals; listeners around the app's own
//!    time each pointermove; `long-animation-frame` entries say where the time of slow
//!    frames went (scripts or style/layout/paint). The frame of the drop, where the edit is
//!    committed to the document, is reported on its own.
//! 3. Zooming with the wheel over the canvas (10 notches in, 10 out), and panning by
//!    dragging the background with the same moves as the node drag.
//!
//! Frame intervals are the differences between consecutive requestAnimationFrame
//! timestamps (frame begin times): 16.7 ms is a frame on time, 33.3 ms one frame dropped.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;
use fantoccini::actions::{InputSource, MouseActions, PointerAction, WheelAction, WheelActions, MOUSE_BUTTON_LEFT};
use fantoccini::{Client, Locator};
use nslab_bench::args::{default_nslab, nslab_or_exit, number, seconds};
use nslab_bench::process::{children, stat_cpu_ms};
use nslab_bench::{check_valid, load_average, shell_line, Server, Stats};
use nslab_model::{BridgeNode, Endpoint, Lab, Link, NamespaceNode, Node, VethLink};
use nslab_tests::browser::Browser;
use serde_json::{json, Value};

/// How smooth the editor stays on a big lab, in headless Chromium.
///
/// Measures the editor in headless Chromium on a star lab of N nodes (bridge br0 and N-1
/// namespaces), for each N of --sizes: first render (cold and warm), a node drag of
/// --moves pointer moves of 2x1 px, each given --move-ms to chromedriver (0: as fast as it
/// sends them), a wheel zoom and a background pan (the same moves), with frame times read
/// from requestAnimationFrame. Needs dist/ built (trunk build --release) and
/// target/release/nslab; scripts/bench --only editor builds both.
#[derive(Parser)]
#[command(name = "bench_editor")]
struct Args {
    /// The numbers of nodes, 2..=5000.
    #[arg(long, value_name = "N,...", value_delimiter = ',', default_values_t = [100, 300],
          value_parser = number(2..=5000))]
    sizes: Vec<usize>,
    /// Pointer moves per drag and per pan.
    #[arg(long, value_name = "N", default_value_t = 60, value_parser = number(5..=2000))]
    moves: usize,
    /// The duration of each pointer move; 0 sends them as fast as chromedriver goes.
    #[arg(long = "move-ms", value_name = "MS", default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=1000))]
    move_ms: u64,
    /// The nslab binary to serve the editor with.
    #[arg(long, value_name = "PATH", default_value_os_t = default_nslab())]
    nslab: PathBuf,
    /// Bounds every wait for the page (seconds); a whole size is given four times this.
    #[arg(long = "timeout-secs", value_name = "SECS", default_value = "60", value_parser = seconds(5..=3600))]
    timeout: Duration,
}

fn main() {
    let mut args = Args::parse();
    args.nslab = nslab_or_exit("bench_editor", &args.nslab);
    if !nslab_tests::paths::dist_path().join("index.html").is_file() {
        eprintln!("bench_editor: dist/index.html is missing: run `trunk build --release` (scripts/bench does)");
        std::process::exit(2);
    }
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a tokio runtime");
    // Every server and browser lives inside `run`: they are dropped (and their processes
    // killed) before the exit below, also on an error, a panic or Ctrl-C.
    let status = runtime.block_on(async {
        tokio::select! {
            status = run(&args) => status,
            _ = tokio::signal::ctrl_c() => {
                eprintln!("bench_editor: interrupted");
                130
            }
        }
    });
    drop(runtime);
    std::process::exit(status);
}

// ---------------------------------------------------------------------------------------
// The lab.

/// Bridge br0 (10.0.0.1/16) in the host and namespaces ns1..ns(n-1), each with eth0 on a
/// veth to it: n nodes in all, placed by the editor's own layout.
fn star(n: usize) -> Lab {
    let address = |i: usize| format!("{}/16", Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 0, 0, 1)) + i as u32));
    let mut lab = Lab::new(format!("bench-editor-{n}"));
    lab.description = format!("scripts/bench --only editor: {} namespaces on one bridge.", n - 1);
    let mut bridge = BridgeNode::new("br0");
    bridge.addresses = vec![address(0)];
    lab.nodes.push(Node::Bridge(bridge));
    for i in 1..n {
        lab.nodes.push(Node::Namespace(NamespaceNode::new(format!("ns{i}"))));
        let mut end = Endpoint::new(format!("ns{i}"), "eth0");
        end.addresses = vec![address(i)];
        lab.links.push(Link::Veth(VethLink { a: Endpoint::new("br0", format!("veth{i}")), b: end, editor: None }));
    }
    nslab_model::layout::auto_layout(&lab)
}

// ---------------------------------------------------------------------------------------
// The measurements.

async fn run(args: &Args) -> i32 {
    println!("bench_editor: star labs of {:?} nodes; {} pointer moves per drag", args.sizes, args.moves);
    println!(
        "chromium: {}; {} cores; load {}",
        shell_line("chromium", &["--version"]),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average()
    );
    let mut results = Vec::new();
    for &n in &args.sizes {
        println!("\n== {n} nodes ==");
        let result = match tokio::time::timeout(args.timeout * 4, measure(args, n)).await {
            Ok(result) => result,
            Err(_) => Err(format!("the {n}-node run took longer than {:?}", args.timeout * 4)),
        };
        match result {
            Ok(result) => results.push(result),
            Err(message) => {
                eprintln!("bench_editor: {n} nodes: {message}");
                return 1;
            }
        }
    }
    print_table(&results);
    0
}

struct Result1 {
    nodes: usize,
    cold: Render,
    /// The median of the warm loads, by paint time.
    warm: Render,
    drag: Frames,
    drag_wall_ms: f64,
    drag_moves: Stats,
    release_ms: f64,
    zoom: Frames,
    pan: Frames,
}

async fn measure(args: &Args, n: usize) -> Result<Result1, String> {
    let lab = star(n);
    check_valid(&lab)?;
    let file =
        tempfile::Builder::new().prefix("bench-editor-").suffix(".json").tempfile().map_err(|e| e.to_string())?;
    std::fs::write(file.path(), serde_json::to_vec_pretty(&lab).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    // On the host: nothing is applied.
    let server = Server::start(None, &args.nslab, Some(file.path()), Duration::from_secs(30))?;
    let browser = Browser::start().await;
    let outcome = measure_in(args, n, &server, &browser.client).await;
    if outcome.is_err() {
        if let Ok(png) = browser.client.screenshot().await {
            let path =
                nslab_tests::paths::repo_root().join("tests").join("artifacts").join(format!("bench-editor-{n}.png"));
            if std::fs::create_dir_all(path.parent().unwrap()).is_ok() && std::fs::write(&path, png).is_ok() {
                eprintln!("bench_editor: screenshot in {}", path.display());
            }
        }
    }
    browser.close().await;
    drop(server);
    outcome
}

async fn measure_in(args: &Args, n: usize, server: &Server, client: &Client) -> Result<Result1, String> {
    install_probe(client, n).await?;
    client.goto(&server.url).await.map_err(|e| format!("the page does not load: {e}"))?;
    let cold = first_render(client, n, args.timeout).await?;
    println!("first render, cold: {}", cold.describe());
    let mut warm = Vec::new();
    for _ in 0..WARM_LOADS {
        client.refresh().await.map_err(|e| format!("reload: {e}"))?;
        let render = first_render(client, n, args.timeout).await?;
        println!("first render, warm: {}", render.describe());
        warm.push(render);
    }
    warm.sort_by(|a, b| a.painted.total_cmp(&b.painted));
    let warm = warm.swap_remove(WARM_LOADS / 2);
    // Let the page settle (the live websocket's first messages, the server's first reading).
    tokio::time::sleep(Duration::from_millis(1000)).await;

    // The drag.
    let node = "g.node[data-name='ns1']";
    let before = attribute(client, node, "transform").await?;
    let scale = viewport_scale(client).await?;
    let body = client.find(Locator::Css(&format!("{node} rect.body"))).await.map_err(|e| format!("{node}: {e}"))?;
    let (step_x, step_y) = (2.0, 1.0);
    let move_duration = (args.move_ms > 0).then(|| Duration::from_millis(args.move_ms));
    let mut mouse = MouseActions::new("mouse".into())
        .then(PointerAction::MoveToElement { element: body, duration: None, x: 0.0, y: 0.0 })
        .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT });
    for _ in 0..args.moves {
        mouse = mouse.then(PointerAction::MoveBy { duration: move_duration, x: step_x, y: step_y });
    }
    mouse = mouse.then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
    start_recording(client).await?;
    let cpu = thread_cpu();
    let started = Instant::now();
    client.perform_actions(mouse).await.map_err(|e| format!("the drag: {e}"))?;
    let drag_wall_ms = started.elapsed().as_secs_f64() * 1000.0;
    let drag_cpu = cpu_used(&cpu, drag_wall_ms);
    client.release_actions().await.map_err(|e| format!("release: {e}"))?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let record = stop_recording(client).await?;
    let after = attribute(client, node, "transform").await?;
    let moved = translation(&after).zip(translation(&before)).map(|(a, b)| (a.0 - b.0, a.1 - b.1));
    let expected = (args.moves as f64 * step_x / scale, args.moves as f64 * step_y / scale);
    println!(
        "drag of ns1: transform `{before}` -> `{after}`; moved {:?}, expected about ({:.0}, {:.0}) at scale {scale:.3}",
        moved, expected.0, expected.1
    );
    match moved {
        Some((dx, dy)) if (dx - expected.0).abs() <= 20.0 + 0.1 * expected.0 && (dy - expected.1).abs() <= 20.0 + 0.1 * expected.1 => {}
        _ => {
            return Err(format!(
                "the drag did not move ns1 as the pointer did (transform `{before}` -> `{after}`, expected a move of about ({:.0}, {:.0}))",
                expected.0, expected.1
            ))
        }
    }
    let drag = record.frames_until_up()?;
    let drag_moves = Stats::of(record.moves.iter().map(|m| m.2 - m.1).collect());
    if record.moves.len() < args.moves / 2 {
        return Err(format!(
            "only {} pointermove events reached the page for {} moves",
            record.moves.len(),
            args.moves
        ));
    }
    let release_ms = record.release_frame();
    println!("drag: {} (wall {drag_wall_ms:.0} ms for {} moves)", drag.describe(), args.moves);
    println!("  {drag_cpu}");
    println!(
        "  pointermove: {} events, the app's handling p50 {:.2} / p95 {:.2} / max {:.2} ms; input to handler p50 {:.1} / max {:.1} ms",
        record.moves.len(),
        drag_moves.p(50.0),
        drag_moves.p(95.0),
        drag_moves.max(),
        Stats::of(record.moves.iter().map(|m| m.1 - m.0).collect()).p(50.0),
        Stats::of(record.moves.iter().map(|m| m.1 - m.0).collect()).max(),
    );
    println!(
        "  drop: the pointerup (the edit is committed) handled in {:.1} ms; the frame then took {release_ms:.1} ms",
        record.up_handling
    );
    record.print_slow_frames("  ");

    // Wheel zoom over the middle of the canvas: 10 notches in, 10 out.
    let (cx, cy) = canvas_centre(client).await?;
    let transform_before = viewport_transform(client).await?;
    let mut wheel = WheelActions::new("wheel".into());
    for i in 0..20 {
        let delta = if i < 10 { -100 } else { 100 };
        wheel = wheel
            .then(WheelAction::Scroll { duration: None, x: cx as i64, y: cy as i64, delta_x: 0, delta_y: delta })
            .pause(Duration::from_millis(50));
    }
    start_recording(client).await?;
    let cpu = thread_cpu();
    let started = Instant::now();
    client.perform_actions(wheel).await.map_err(|e| format!("the zoom: {e}"))?;
    let zoom_cpu = cpu_used(&cpu, started.elapsed().as_secs_f64() * 1000.0);
    client.release_actions().await.map_err(|e| format!("release: {e}"))?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let record = stop_recording(client).await?;
    if record.wheels == 0 {
        return Err(format!("no wheel event reached the page (viewport `{transform_before}`)"));
    }
    if record.max_scale <= scale * 1.01 {
        return Err(format!("the wheel did not zoom in (scale stayed at or under {:.3})", record.max_scale));
    }
    let zoom = record.all_frames()?;
    println!(
        "zoom: {} ({} wheel events, scale {scale:.3} -> up to {:.3} and back)",
        zoom.describe(),
        record.wheels,
        record.max_scale
    );
    println!("  {zoom_cpu}");
    record.print_slow_frames("  ");

    // Pan: drag the background.
    let (bx, by) = background_point(client).await?;
    let transform_before = viewport_transform(client).await?;
    let mut mouse = MouseActions::new("mouse".into())
        .then(PointerAction::MoveTo { duration: None, x: bx, y: by })
        .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT });
    for _ in 0..args.moves {
        mouse = mouse.then(PointerAction::MoveBy { duration: move_duration, x: -2.0, y: -1.0 });
    }
    mouse = mouse.then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
    start_recording(client).await?;
    let cpu = thread_cpu();
    let started = Instant::now();
    client.perform_actions(mouse).await.map_err(|e| format!("the pan: {e}"))?;
    let pan_cpu = cpu_used(&cpu, started.elapsed().as_secs_f64() * 1000.0);
    client.release_actions().await.map_err(|e| format!("release: {e}"))?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let record = stop_recording(client).await?;
    let transform_after = viewport_transform(client).await?;
    if transform_after == transform_before {
        return Err(format!("dragging the background at ({bx}, {by}) did not pan (`{transform_before}`)"));
    }
    let pan = record.frames_until_up()?;
    println!("pan: {} (viewport `{transform_before}` -> `{transform_after}`)", pan.describe());
    println!("  {pan_cpu}");
    record.print_slow_frames("  ");

    Ok(Result1 { nodes: n, cold, warm, drag, drag_wall_ms, drag_moves, release_ms, zoom, pan })
}

// ---------------------------------------------------------------------------------------
// First render.

/// Reloads after the first (cold) load; the table shows the median.
const WARM_LOADS: usize = 3;

struct Render {
    /// ms from navigation start until all nodes were in the DOM.
    dom: f64,
    /// ms from navigation start until the frame showing them was painted.
    painted: f64,
    wasm_end: f64,
    lab_end: f64,
    /// Long animation frames before the paint: count and the longest, ms.
    long_frames: usize,
    longest_frame: f64,
}

impl Render {
    fn describe(&self) -> String {
        format!(
            "nodes in the DOM at {:.0} ms, painted at {:.0} ms (wasm fetched at {:.0} ms, /api/lab at {:.0} ms; {} long frames, the longest {:.0} ms)",
            self.dom, self.painted, self.wasm_end, self.lab_end, self.long_frames, self.longest_frame
        )
    }
}

/// Runs in every new document before its own scripts (Page.addScriptToEvaluateOnNewDocument):
/// notes when `N` nodes are in the DOM (the microtask after the task that put them there)
/// and when the frame after that has been painted (the task after its
/// requestAnimationFrame), in ms from navigation start.
const PROBE_JS: &str = r#"
(() => {
  const n = __N__;
  const count = () => document.querySelectorAll('g.node').length;
  const observer = new MutationObserver(() => {
    if (count() < n) { return; }
    observer.disconnect();
    const dom = performance.now();
    requestAnimationFrame(() => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => { window.__firstRender = { dom, painted: performance.now() }; };
      channel.port2.postMessage(0);
    });
  });
  observer.observe(document, { childList: true, subtree: true });
})();
"#;

/// Waits for the probe's result in the page just navigated to.
const FIRST_RENDER_JS: &str = r#"
const [timeout, done] = arguments;
const started = performance.now();
const resource = (part) => {
  const entry = performance.getEntriesByType('resource').find((e) => e.name.includes(part));
  return entry ? entry.responseEnd : -1;
};
const check = () => {
  const result = window.__firstRender;
  if (result) {
    let frames = [];
    try { frames = performance.getEntriesByType('long-animation-frame').filter((f) => f.startTime < result.painted); } catch (e) {}
    done(Object.assign({}, result, {
      wasm: resource('_bg.wasm'), lab: resource('/api/lab'),
      long_frames: frames.length, longest: frames.reduce((m, f) => Math.max(m, f.duration), 0),
    }));
  } else if (performance.now() - started > timeout) {
    done({ error: document.querySelectorAll('g.node').length + ' nodes after ' + timeout + ' ms' });
  } else {
    setTimeout(check, 20);
  }
};
check();
"#;

/// Makes every page loaded from now on note when it shows `n` nodes.
async fn install_probe(client: &Client, n: usize) -> Result<(), String> {
    let source = PROBE_JS.replace("__N__", &n.to_string());
    nslab_tests::browser::cdp(client, "Page.addScriptToEvaluateOnNewDocument", json!({ "source": source }))
        .await
        .map(|_| ())
        .map_err(|e| format!("installing the first-render probe through chromedriver's CDP endpoint: {e}"))
}

async fn first_render(client: &Client, n: usize, timeout: Duration) -> Result<Render, String> {
    let value = client
        .execute_async(FIRST_RENDER_JS, vec![json!(timeout.as_millis() as u64)])
        .await
        .map_err(|e| format!("first render probe: {e}"))?;
    if let Some(error) = value.get("error") {
        return Err(format!("the editor did not render the lab's {n} nodes: {error}"));
    }
    let number = |key: &str| value.get(key).and_then(Value::as_f64).unwrap_or(f64::NAN);
    Ok(Render {
        dom: number("dom"),
        painted: number("painted"),
        wasm_end: number("wasm"),
        lab_end: number("lab"),
        long_frames: number("long_frames") as usize,
        longest_frame: number("longest"),
    })
}

// ---------------------------------------------------------------------------------------
// Frame recording.

/// Installs a requestAnimationFrame loop and listeners that bracket the app's own handling
/// of pointer and wheel events (a capturing listener on window runs first, a bubbling one
/// last), and a `long-animation-frame` observer.
const RECORD_JS: &str = r#"
const old = window.__bench;
if (old) { old.stop(); }
const b = { frames: [], moves: [], up: null, upHandling: 0, wheels: 0, maxScale: 0, long: [], recording: true };
const scale = () => {
  const g = document.querySelector('svg.canvas > g[transform]');
  const m = g && /scale\(([^)]+)\)/.exec(g.getAttribute('transform') || '');
  return m ? parseFloat(m[1]) : 0;
};
let last = null;
const tick = (t) => {
  if (last !== null) { b.frames.push([last, t]); }
  last = t;
  b.maxScale = Math.max(b.maxScale, scale());
  if (b.recording) { requestAnimationFrame(tick); }
};
requestAnimationFrame(tick);
let moveStart = 0, moveStamp = 0, upStart = 0;
const listeners = [
  ['pointermove', (e) => { moveStart = performance.now(); moveStamp = e.timeStamp; }, true],
  ['pointermove', () => { b.moves.push([moveStamp, moveStart, performance.now()]); }, false],
  ['pointerup', () => { upStart = performance.now(); }, true],
  ['pointerup', () => { b.up = performance.now(); b.upHandling = b.up - upStart; }, false],
  ['wheel', () => { b.wheels += 1; }, true],
];
for (const [type, f, capture] of listeners) { addEventListener(type, f, capture); }
let observer = null;
try {
  observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const scripts = e.scripts.reduce((sum, s) => sum + s.duration, 0);
      const top = e.scripts.slice().sort((x, y) => y.duration - x.duration)[0];
      b.long.push([e.startTime, e.duration, scripts, e.startTime + e.duration - e.renderStart,
                   top ? (top.invoker + ' ' + Math.round(top.duration) + ' ms') : '']);
    }
  });
  observer.observe({ type: 'long-animation-frame' });
} catch (e) {}
b.stop = () => {
  b.recording = false;
  for (const [type, f, capture] of listeners) { removeEventListener(type, f, capture); }
  if (observer) { observer.disconnect(); }
};
b.start = performance.now();
window.__bench = b;
"#;

const STOP_JS: &str = r#"
const b = window.__bench;
b.stop();
return { start: b.start, frames: b.frames, moves: b.moves, up: b.up, upHandling: b.upHandling,
         wheels: b.wheels, maxScale: b.maxScale, long: b.long, now: performance.now() };
"#;

async fn start_recording(client: &Client) -> Result<(), String> {
    client.execute(RECORD_JS, vec![]).await.map(|_| ()).map_err(|e| format!("installing the frame recorder: {e}"))?;
    // Two frames, so that the loop runs before the input starts.
    client
        .execute_async(
            "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done(0)));",
            vec![],
        )
        .await
        .map(|_| ())
        .map_err(|e| format!("waiting for frames: {e}"))
}

struct Record {
    /// When the recording started, ms from navigation start.
    start: f64,
    /// (previous frame's time, this frame's time), ms from navigation start.
    frames: Vec<(f64, f64)>,
    /// (event timestamp, handling start, handling end) per pointermove.
    moves: Vec<(f64, f64, f64)>,
    /// When the pointerup's handling ended.
    up: Option<f64>,
    up_handling: f64,
    wheels: u64,
    max_scale: f64,
    /// (start, duration, script ms, render ms, the longest script) per long animation frame.
    long: Vec<(f64, f64, f64, f64, String)>,
}

async fn stop_recording(client: &Client) -> Result<Record, String> {
    let value = client.execute(STOP_JS, vec![]).await.map_err(|e| format!("reading the frames: {e}"))?;
    let numbers = |item: &Value| -> Vec<f64> {
        item.as_array().map(|a| a.iter().map(|v| v.as_f64().unwrap_or(f64::NAN)).collect()).unwrap_or_default()
    };
    let list = |key: &str| value.get(key).and_then(Value::as_array).cloned().unwrap_or_default();
    Ok(Record {
        start: value.get("start").and_then(Value::as_f64).unwrap_or(0.0),
        frames: list("frames").iter().map(numbers).map(|v| (v[0], v[1])).collect(),
        moves: list("moves").iter().map(numbers).map(|v| (v[0], v[1], v[2])).collect(),
        up: value.get("up").and_then(Value::as_f64),
        up_handling: value.get("upHandling").and_then(Value::as_f64).unwrap_or(0.0),
        wheels: value.get("wheels").and_then(Value::as_u64).unwrap_or(0),
        max_scale: value.get("maxScale").and_then(Value::as_f64).unwrap_or(0.0),
        long: list("long")
            .iter()
            .map(|v| {
                let n = |i: usize| v.get(i).and_then(Value::as_f64).unwrap_or(f64::NAN);
                (n(0), n(1), n(2), n(3), v.get(4).and_then(Value::as_str).unwrap_or("").to_string())
            })
            .collect(),
    })
}

impl Record {
    /// When the pointerup's handling started.
    fn up_start(&self) -> Option<f64> {
        self.up.map(|end| end - self.up_handling)
    }

    /// The frames from the first pointermove until the pointerup is handled.
    fn frames_until_up(&self) -> Result<Frames, String> {
        let first = self.moves.first().map(|m| m.1).ok_or("no pointermove reached the page")?;
        let up = self.up_start().ok_or("no pointerup reached the page")?;
        let intervals: Vec<f64> =
            self.frames.iter().filter(|(_, t)| *t > first && *t <= up).map(|(before, t)| t - before).collect();
        Frames::of(intervals)
    }

    fn all_frames(&self) -> Result<Frames, String> {
        Frames::of(self.frames.iter().map(|(before, t)| t - before).collect())
    }

    /// The drop, where the edit is committed: the longest frame interval that ends after the
    /// pointerup's handling started and no later than 50 ms after it ended.
    fn release_frame(&self) -> f64 {
        let (Some(start), Some(end)) = (self.up_start(), self.up) else { return f64::NAN };
        self.frames
            .iter()
            .filter(|(_, t)| *t > start && *t <= end + 50.0)
            .map(|(before, t)| t - before)
            .fold(f64::NAN, f64::max)
    }

    /// The frames over 33.4 ms, and the long animation frames (over 50 ms of main-thread
    /// work) with where their time went; times from the start of the recording, with the
    /// pointerup's when there was one. A slow frame with no long animation frame behind it
    /// waited for something other than the page's main thread (raster, compositing, CPU).
    fn print_slow_frames(&self, indent: &str) {
        let slow: Vec<String> = self
            .frames
            .iter()
            .filter(|(before, t)| t - before > 33.4)
            .map(|(before, t)| format!("{:.0} at +{:.0}", t - before, t - self.start))
            .collect();
        if slow.is_empty() && self.long.is_empty() {
            return;
        }
        let up = self.up_start().map(|up| format!(" (pointerup at +{:.0} ms)", up - self.start)).unwrap_or_default();
        println!("{indent}frames over 33.4 ms{up}: {}", if slow.is_empty() { "none".into() } else { slow.join(", ") });
        for (start, duration, scripts, render, top) in self.long.iter().take(8) {
            println!(
                "{indent}long animation frame at +{:.0} ms: {duration:.0} ms, scripts {scripts:.0}, rendering (style, layout, paint) {render:.0}{}",
                start - self.start,
                if top.is_empty() { String::new() } else { format!("; longest script {top}") }
            );
        }
        if self.long.len() > 8 {
            println!("{indent}... and {} more long animation frames", self.long.len() - 8);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Numbers.

/// Frame intervals over one interaction.
struct Frames {
    stats: Stats,
    /// Over 16.7 ms by more than the timer's jitter (17 ms): at least one frame was missed.
    over_16: usize,
    /// Over 33.4 ms: two or more frames missed in a row.
    over_33: usize,
    total_ms: f64,
}

impl Frames {
    fn of(intervals: Vec<f64>) -> Result<Frames, String> {
        if intervals.len() < 5 {
            return Err(format!(
                "only {} animation frames were recorded: requestAnimationFrame is throttled or the page is stuck, nothing measured",
                intervals.len()
            ));
        }
        let over_16 = intervals.iter().filter(|&&i| i > 17.0).count();
        let over_33 = intervals.iter().filter(|&&i| i > 33.4).count();
        let total_ms = intervals.iter().sum();
        Ok(Frames { stats: Stats::of(intervals), over_16, over_33, total_ms })
    }

    fn count(&self) -> usize {
        self.stats.len()
    }

    fn describe(&self) -> String {
        format!(
            "{} frames in {:.0} ms: p50 {:.1} / p95 {:.1} / p99 {:.1} / max {:.1} ms; {} over 16.7 ms, {} over 33.4 ms",
            self.count(),
            self.total_ms,
            self.stats.p(50.0),
            self.stats.p(95.0),
            self.stats.p(99.0),
            self.stats.max(),
            self.over_16,
            self.over_33
        )
    }
}

fn print_table(results: &[Result1]) {
    println!("\n| nodes | first render, cold: in DOM / painted | warm | drag frames: p50 / p95 / p99 / max | frames > 16.7 / > 33.4 ms | drag wall (moves) | pointermove handling p50 / max | drop frame | zoom frames p50 / max, > 16.7 | pan frames p50 / max, > 16.7 |");
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for r in results {
        println!(
            "| {} | {:.0} / {:.0} ms | {:.0} / {:.0} ms | {:.1} / {:.1} / {:.1} / {:.1} ms | {} / {} of {} | {:.0} ms | {:.2} / {:.2} ms | {:.0} ms | {:.1} / {:.1} ms, {} of {} | {:.1} / {:.1} ms, {} of {} |",
            r.nodes,
            r.cold.dom,
            r.cold.painted,
            r.warm.dom,
            r.warm.painted,
            r.drag.stats.p(50.0),
            r.drag.stats.p(95.0),
            r.drag.stats.p(99.0),
            r.drag.stats.max(),
            r.drag.over_16,
            r.drag.over_33,
            r.drag.count(),
            r.drag_wall_ms,
            r.drag_moves.p(50.0),
            r.drag_moves.max(),
            r.release_ms,
            r.zoom.stats.p(50.0),
            r.zoom.stats.max(),
            r.zoom.over_16,
            r.zoom.count(),
            r.pan.stats.p(50.0),
            r.pan.stats.max(),
            r.pan.over_16,
            r.pan.count(),
        );
    }
}

// ---------------------------------------------------------------------------------------
// Reading the page.

async fn attribute(client: &Client, selector: &str, name: &str) -> Result<String, String> {
    let element = client.find(Locator::Css(selector)).await.map_err(|e| format!("{selector}: {e}"))?;
    element
        .attr(name)
        .await
        .map_err(|e| format!("{selector} {name}: {e}"))?
        .ok_or_else(|| format!("{selector} has no {name}"))
}

/// `translate(X Y)` -> (X, Y).
fn translation(transform: &str) -> Option<(f64, f64)> {
    let inner = transform.trim().strip_prefix("translate(")?.split(')').next()?;
    let mut numbers = inner.split([' ', ',']).filter(|s| !s.is_empty()).map(|s| s.parse::<f64>());
    Some((numbers.next()?.ok()?, numbers.next()?.ok()?))
}

async fn viewport_transform(client: &Client) -> Result<String, String> {
    attribute(client, "svg.canvas > g[transform]", "transform").await
}

async fn viewport_scale(client: &Client) -> Result<f64, String> {
    let transform = viewport_transform(client).await?;
    transform
        .split("scale(")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| format!("no scale in the viewport's transform `{transform}`"))
}

async fn canvas_centre(client: &Client) -> Result<(f64, f64), String> {
    let value = client
        .execute(
            "const r = document.querySelector('svg.canvas').getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2];",
            vec![],
        )
        .await
        .map_err(|e| format!("the canvas: {e}"))?;
    let x = value.get(0).and_then(Value::as_f64).ok_or("no canvas")?;
    let y = value.get(1).and_then(Value::as_f64).ok_or("no canvas")?;
    Ok((x.round(), y.round()))
}

/// A point of the canvas with only the background under it (the grid lets pointer events
/// through to the svg), with room to move up-left.
async fn background_point(client: &Client) -> Result<(f64, f64), String> {
    let value = client
        .execute(
            r#"
const svg = document.querySelector('svg.canvas');
const r = svg.getBoundingClientRect();
for (let y = r.bottom - 20; y > r.top + 200; y -= 10) {
  for (let x = r.right - 20; x > r.left + 200; x -= 10) {
    const e = document.elementFromPoint(x, y);
    if (e === svg) { return [Math.round(x), Math.round(y)]; }
  }
}
return null;"#,
            vec![],
        )
        .await
        .map_err(|e| format!("looking for the background: {e}"))?;
    let x = value.get(0).and_then(Value::as_f64).ok_or("no free background on the canvas")?;
    let y = value.get(1).and_then(Value::as_f64).ok_or("no free background on the canvas")?;
    Ok((x, y))
}

// ---------------------------------------------------------------------------------------
// CPU by thread, to see where the time of slow frames goes.

/// CPU time (user + system, ms) of every thread of this process's descendants (chromedriver,
/// Chromium's processes, nslab serve), summed by process kind and thread name
/// (`renderer:main`, `renderer:ThreadPoolForeg`, `gpu-process:VizCompositorTh`, ...).
fn thread_cpu() -> std::collections::BTreeMap<String, f64> {
    let mut by_name = std::collections::BTreeMap::new();
    let mut pending = children(std::process::id());
    while let Some(pid) = pending.pop() {
        pending.extend(children(pid));
        // Chromium rewrites its command line with spaces between the words.
        let cmdline = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let program = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default().trim().to_string();
        let kind = match cmdline.split(['\0', ' ']).find_map(|arg| arg.strip_prefix("--type=")) {
            Some(kind) => kind.to_string(),
            None if program == "chromium" => "browser".into(),
            None => program,
        };
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { continue };
        for task in tasks.flatten() {
            let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
            let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else { continue };
            let thread = if task.file_name().to_str() == Some(pid.to_string().as_str()) {
                "main"
            } else {
                stat[open + 1..close].trim_end_matches(|c: char| c.is_ascii_digit())
            };
            let name = format!("{kind}:{thread}");
            *by_name.entry(name).or_insert(0.0) += stat_cpu_ms(&stat).map_or(0.0, |(user, system)| user + system);
        }
    }
    by_name
}

/// The threads that used the most CPU between two readings, e.g. `CrRendererMain 420 ms`.
fn cpu_used(before: &std::collections::BTreeMap<String, f64>, wall_ms: f64) -> String {
    let after = thread_cpu();
    let mut used: Vec<(String, f64)> =
        after.iter().map(|(name, ms)| (name.clone(), ms - before.get(name).copied().unwrap_or(0.0))).collect();
    used.sort_by(|a, b| b.1.total_cmp(&a.1));
    let total: f64 = used.iter().map(|u| u.1).sum();
    let top: Vec<String> =
        used.iter().take(5).filter(|u| u.1 > 0.0).map(|(name, ms)| format!("{name} {ms:.0}")).collect();
    format!("CPU {total:.0} ms in {wall_ms:.0} ms ({} ms)", top.join(", "))
}
