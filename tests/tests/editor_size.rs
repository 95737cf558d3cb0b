//! The editor as the server sends it: compressed once at build time (scripts/precompress,
//! run by Trunk), sent as it is, and under the size budget over gzip, the one encoding
//! Chromium takes from a plain-http address on the LAN (it offers brotli only to loopback
//! and https). Reads the built editor (`dist/` or `$NSLAB_DIST`) and a real `nslab serve`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use nslab_tests::paths::dist_dir;
use nslab_tests::server::NslabServer;
use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, VARY};

/// What the editor's wasm may weigh as sent over gzip, so that it does not grow unseen.
/// Issue 21's goal was 400,000 bytes; with the terminals, the capture panel and the
/// impairments' validation the editor was 505,708 (2026-12-07), then issues 24 and 25 put
/// the goals and drill cards, the `ip` reader and the reachability explainer in the page:
/// 687,847 (2026-12-07), each feature's bytes in docs/editor.md ("Size"). Raise this line
/// only with a reason written there.
const WASM_BUDGET_BYTES: usize = 700_000;

/// What Chromium sends to a plain-http address that is not loopback.
const CHROMIUM_ON_THE_LAN: &str = "gzip, deflate";
/// What Chromium sends to loopback (and over https).
const CHROMIUM_ON_LOOPBACK: &str = "gzip, deflate, br, zstd";

/// The one built file whose name ends with `suffix` (Trunk adds a content hash to names).
fn built_file(dist: &Path, suffix: &str) -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dist)
        .unwrap_or_else(|e| panic!("{}: {e}", dist.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_str().is_some_and(|name| name.ends_with(suffix)))
        .collect();
    assert_eq!(found.len(), 1, "expected one *{suffix} in {}, found {found:?}", dist.display());
    found.remove(0)
}

/// `path` with `.gz` or `.br` appended, which the build must have written.
fn precompressed(path: &Path, extension: &str) -> Vec<u8> {
    let mut name = path.as_os_str().to_owned();
    name.push(extension);
    std::fs::read(&name).unwrap_or_else(|e| {
        panic!("{}: {e}: build the editor with `trunk build --release` (it runs scripts/precompress)", path.display())
    })
}

struct Sent {
    status: reqwest::StatusCode,
    encoding: Option<String>,
    content_type: Option<String>,
    /// Every `Vary` header, joined.
    vary: String,
    body: Vec<u8>,
}

async fn get(server: &NslabServer, path: &str, accept_encoding: Option<&str>) -> Sent {
    // Without its gzip and brotli features reqwest neither asks for nor decodes an encoding:
    // the body is the bytes on the wire.
    let client = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(30)).build().unwrap();
    let mut request = client.get(format!("{}{path}", server.url));
    if let Some(value) = accept_encoding {
        request = request.header(ACCEPT_ENCODING, value);
    }
    let response = request.send().await.unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let header = |name| {
        response.headers().get(name).map(|value: &reqwest::header::HeaderValue| value.to_str().unwrap().to_string())
    };
    let (status, encoding, content_type) = (response.status(), header(CONTENT_ENCODING), header(CONTENT_TYPE));
    let vary =
        response.headers().get_all(VARY).iter().map(|value| value.to_str().unwrap()).collect::<Vec<_>>().join(", ");
    let body = response.bytes().await.unwrap().to_vec();
    Sent { status, encoding, content_type, vary, body }
}

fn url_path(file: &Path) -> String {
    format!("/{}", file.file_name().unwrap().to_str().unwrap())
}

/// A gzip member starts with 1f 8b and ends with the length of what it holds (mod 2^32).
fn gzip_holds(body: &[u8], length: usize) -> bool {
    let Some(trailer) = body.len().checked_sub(4).map(|at| &body[at..]) else { return false };
    body.starts_with(&[0x1f, 0x8b])
        && u32::from_le_bytes(trailer.try_into().unwrap()) as usize == length as u32 as usize
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wasm_goes_over_gzip_precompressed() {
    let dist = dist_dir();
    let wasm = built_file(&dist, "_bg.wasm");
    let raw_length = std::fs::metadata(&wasm).unwrap().len() as usize;
    let on_disk = precompressed(&wasm, ".gz");
    let (server, _state) = NslabServer::start(None, "editor-size-gzip");

    let sent = get(&server, &url_path(&wasm), Some(CHROMIUM_ON_THE_LAN)).await;
    assert_eq!(sent.status, 200);
    assert_eq!(sent.encoding.as_deref(), Some("gzip"));
    assert_eq!(
        sent.content_type.as_deref(),
        Some("application/wasm"),
        "browsers compile only application/wasm as it streams"
    );
    assert!(sent.body == on_disk, "the server compressed the wasm itself instead of sending {}.gz", wasm.display());
    assert!(gzip_holds(&sent.body, raw_length), "{}.gz is not a gzip of the {raw_length}-byte wasm", wasm.display());
    assert_eq!(sent.vary, "accept-encoding", "a cache must not hand this gzip to a client that did not ask for it");
}

/// Apart from the serving above, so that a failure says which of the two broke.
#[test]
fn the_wasm_over_gzip_is_under_the_budget() {
    let wasm = built_file(&dist_dir(), "_bg.wasm");
    let sent = precompressed(&wasm, ".gz").len();
    assert!(
        sent < WASM_BUDGET_BYTES,
        "the editor's wasm is {sent} bytes over gzip, over the budget of {WASM_BUDGET_BYTES} \
         (docs/editor.md, \"Size\", says how it is measured and where the bytes go)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_browsers_get_the_precompressed_brotli() {
    let dist = dist_dir();
    let wasm = built_file(&dist, "_bg.wasm");
    let on_disk = precompressed(&wasm, ".br");
    let (server, _state) = NslabServer::start(None, "editor-size-brotli");

    let sent = get(&server, &url_path(&wasm), Some(CHROMIUM_ON_LOOPBACK)).await;
    assert_eq!(sent.status, 200);
    assert_eq!(sent.encoding.as_deref(), Some("br"));
    assert_eq!(sent.content_type.as_deref(), Some("application/wasm"));
    assert!(sent.body == on_disk, "the server compressed the wasm itself instead of sending {}.br", wasm.display());
    assert!(on_disk.len() < precompressed(&wasm, ".gz").len(), "brotli at its best beats gzip on the wasm");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_takes_no_encoding_gets_the_file_as_it_is() {
    let dist = dist_dir();
    let wasm = built_file(&dist, "_bg.wasm");
    let raw = std::fs::read(&wasm).unwrap();
    let (server, _state) = NslabServer::start(None, "editor-size-identity");

    // No Accept-Encoding at all, and one that refuses both encodings by q=0.
    for accept_encoding in [None, Some("gzip;q=0, br;q=0"), Some("compress, x-unknown")] {
        let sent = get(&server, &url_path(&wasm), accept_encoding).await;
        assert_eq!(sent.status, 200, "Accept-Encoding {accept_encoding:?}");
        assert_eq!(sent.encoding, None, "Accept-Encoding {accept_encoding:?}");
        assert_eq!(sent.content_type.as_deref(), Some("application/wasm"), "Accept-Encoding {accept_encoding:?}");
        assert!(sent.body == raw, "Accept-Encoding {accept_encoding:?}: the body is not the wasm as built");
        assert_eq!(sent.vary, "accept-encoding", "Accept-Encoding {accept_encoding:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_script_is_precompressed_and_the_page_compressed_on_the_fly() {
    let dist = dist_dir();
    let script = built_file(&dist, ".js");
    let (server, _state) = NslabServer::start(None, "editor-size-page");

    let sent = get(&server, &url_path(&script), Some(CHROMIUM_ON_THE_LAN)).await;
    assert_eq!((sent.status.as_u16(), sent.encoding.as_deref()), (200, Some("gzip")));
    assert_eq!(sent.content_type.as_deref(), Some("text/javascript"));
    assert!(sent.body == precompressed(&script, ".gz"), "the script went out compressed on the fly");

    // The page has no precompressed copy (it must never outlive a rebuild): the server
    // compresses it for each request, and a path the editor routes itself gets it too.
    let page = std::fs::read(dist.join("index.html")).unwrap();
    for path in ["/", "/index.html", "/no-such-file"] {
        let sent = get(&server, path, Some(CHROMIUM_ON_THE_LAN)).await;
        assert_eq!((sent.status.as_u16(), sent.encoding.as_deref()), (200, Some("gzip")), "GET {path}");
        assert!(sent.content_type.as_deref().is_some_and(|value| value.starts_with("text/html")), "GET {path}");
        assert!(gzip_holds(&sent.body, page.len()), "GET {path}: not the page, gzipped");
        assert_eq!(sent.vary, "accept-encoding", "GET {path}: said once");
    }
}
