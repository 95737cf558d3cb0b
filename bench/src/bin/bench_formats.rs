//! `cargo run --release -p nslab-bench --bin bench_formats [NODES]`: importing other tools'
//! labs. A measurement, not a test: it prints times and memory and asserts nothing about
//! them; no root, no kernel (the importers are pure).
//!
//! A containerlab topology of NODES `linux` nodes (1,000 by default) in a chain, every
//! tenth also on one bridge node, each node setting its addresses and a route in `exec:`
//! lines, as a big lab written by hand would be; then the same lab exported to Kathará and
//! CORE and imported back. For each: the file's size, the median time of 5 imports, and
//! the peak of heap memory one import takes (counted by a global allocator that tracks
//! the bytes in use).

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use nslab_model::export::Format;
use nslab_model::import::{import, Source, SourceFiles};

/// The system allocator, counting the bytes in use and their peak.
struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            let now = IN_USE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        unsafe { System.dealloc(pointer, layout) };
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn main() {
    let nodes: usize = match std::env::args().nth(1).map(|text| text.parse()) {
        None => 1000,
        Some(Ok(nodes)) if nodes >= 2 => nodes,
        Some(_) => {
            eprintln!("usage: bench_formats [NODES]   (2 or more; 1000 by default)");
            std::process::exit(2);
        }
    };
    let clab = SourceFiles::one("big.clab.yml", chain_topology(nodes));
    let lab = measure("containerlab", Source::Clab, &clab);
    for (format, source) in [(Format::Kathara, Source::Kathara), (Format::Core, Source::Core)] {
        let files = SourceFiles { files: format.render_files(&lab) };
        measure(format.name(), source, &files);
    }
}

/// Imports `files` 5 times; prints the size, the median time and one import's peak heap.
fn measure(name: &str, source: Source, files: &SourceFiles) -> nslab_model::Lab {
    let bytes: usize = files.files.iter().map(|(_, text)| text.len()).sum();
    let mut times = Vec::new();
    let mut peak = 0;
    let mut lab = None;
    for _ in 0..5 {
        let before = IN_USE.load(Ordering::Relaxed);
        PEAK.store(before, Ordering::Relaxed);
        let started = Instant::now();
        let imported = import(source, files, "big").unwrap_or_else(|error| panic!("{name}: {error}"));
        times.push(started.elapsed());
        peak = PEAK.load(Ordering::Relaxed) - before;
        lab = Some(imported.lab);
    }
    times.sort();
    let lab = lab.expect("imported");
    println!(
        "{name:>12}: {} nodes, {} links from {} in {} files; import {} (median of 5), peak heap {}",
        lab.nodes.len(),
        lab.links.len(),
        size(bytes),
        files.files.len(),
        millis(times[times.len() / 2]),
        size(peak)
    );
    lab
}

/// N `linux` nodes in a chain (`n0 -- n1 -- ...`), every tenth also on bridge `lan`, each
/// with its addresses and a route in `exec:` lines.
fn chain_topology(nodes: usize) -> String {
    let mut yaml = String::from(
        "name: big\ntopology:\n  kinds:\n    linux:\n      image: alpine\n  nodes:\n    lan:\n      kind: bridge\n",
    );
    for index in 0..nodes {
        let _ = writeln!(yaml, "    n{index}:\n      kind: linux\n      exec:");
        if index > 0 {
            let _ = writeln!(yaml, "        - ip addr add {} dev eth1", address(index - 1, 2));
        }
        if index + 1 < nodes {
            let _ = writeln!(yaml, "        - ip addr add {} dev eth2", address(index, 1));
            let _ = writeln!(yaml, "        - ip route add 10.255.0.0/16 via {}", gateway(index));
        }
        if index % 10 == 0 {
            let _ = writeln!(yaml, "        - ip addr add 192.168.{}.{}/16 dev eth3", index / 250, index % 250 + 1);
        }
    }
    yaml.push_str("  links:\n");
    for index in 0..nodes - 1 {
        let _ = writeln!(yaml, "    - endpoints: [\"n{index}:eth2\", \"n{}:eth1\"]", index + 1);
    }
    for index in (0..nodes).step_by(10) {
        let _ = writeln!(yaml, "    - endpoints: [\"n{index}:eth3\", \"lan:p{index}\"]");
    }
    yaml
}

/// The address of side `side` (1 or 2) of chain link `link`: a /30 each.
fn address(link: usize, side: usize) -> String {
    let base = link * 4;
    format!("10.{}.{}.{}/30", base / 65536, base / 256 % 256, base % 256 + side)
}

fn gateway(link: usize) -> String {
    let address = address(link, 2);
    address.split('/').next().unwrap_or_default().to_string()
}

fn millis(time: Duration) -> String {
    format!("{:.1} ms", time.as_secs_f64() * 1000.0)
}

fn size(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
    } else {
        format!("{:.0} KiB", bytes as f64 / 1024.0)
    }
}
