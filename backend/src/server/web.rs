//! Static serving of the editor that Trunk built: compressed, and cached for as long as
//! a file's name carries its content hash.
//!
//! The build compresses the editor's files once, as small as gzip and brotli go
//! (scripts/precompress, run by Trunk): `name.gz` and `name.br` next to `name`. Those are
//! sent as they are to a browser that accepts them; anything else (the index page, a build
//! without them) is compressed on the fly, at the faster and larger default levels.

use std::path::{Path, PathBuf};

use axum::http::{header, HeaderValue, Response};
use axum::response::Html;
use axum::routing::get_service;
use axum::Router;
use tower_http::compression::CompressionLayer;
use tower_http::services::{ServeDir, ServeFile};

/// The page served when the editor has not been built.
const NOT_BUILT: &str = "<!doctype html><meta charset=utf-8><title>nslab</title>\
<h1>nslab</h1><p>The editor has not been built. Run <code>scripts/run</code>, or \
<code>trunk build --release</code> in <code>frontend/</code>. The API is at <a href=/api/lab>/api/lab</a>.</p>";

pub fn has_editor(web_root: &Path) -> bool {
    web_root.join("index.html").is_file()
}

pub fn service(web_root: PathBuf) -> Router {
    if !has_editor(&web_root) {
        return Router::new().fallback(|| async { Html(NOT_BUILT) });
    }
    let index = ServeFile::new(web_root.join("index.html"));
    let files = ServeDir::new(&web_root).precompressed_gzip().precompressed_br().fallback(index);
    Router::new()
        .fallback_service(get_service(files))
        .layer(axum::middleware::map_response(cache_headers))
        .layer(axum::middleware::map_response(vary_on_encoding))
        // Leaves a response that already has a Content-Encoding (a precompressed file) alone.
        .layer(CompressionLayer::new())
}

async fn cache_headers<B>(request_path: axum::extract::OriginalUri, mut response: Response<B>) -> Response<B> {
    let value = if is_hashed_asset(request_path.path()) { "public, max-age=31536000, immutable" } else { "no-cache" };
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    response
}

/// Which file goes out depends on the request's Accept-Encoding (`.gz`, `.br` or as it
/// is): a cache between the server and the browsers must know, or it could hand brotli to
/// a browser that reads only gzip. ServeDir does not say so itself.
async fn vary_on_encoding<B>(mut response: Response<B>) -> Response<B> {
    let varies = response.headers().get_all(header::VARY).iter().any(|value| {
        value
            .to_str()
            .is_ok_and(|names| names.split(',').any(|name| name.trim().eq_ignore_ascii_case("accept-encoding")))
    });
    if !varies {
        response.headers_mut().append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

/// Trunk names built files `name-<16 hex digits>.ext`; those never change content.
fn is_hashed_asset(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or_default();
    let stem = file.split('.').next().unwrap_or_default();
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-').is_some_and(|(_, hash)| hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::is_hashed_asset;

    #[test]
    fn only_hashed_file_names_are_immutable() {
        assert!(is_hashed_asset("/nslab-ui-6c3f0a9b2d4e8f10_bg.wasm"));
        assert!(is_hashed_asset("/nslab-ui-6c3f0a9b2d4e8f10.js"));
        assert!(!is_hashed_asset("/index.html"));
        assert!(!is_hashed_asset("/"));
        assert!(!is_hashed_asset("/style-main.css"));
    }
}
