//! Who may do what. On a loopback address with no token configured, anyone local may do
//! anything (the machine's user). Otherwise every request carries a token: the full one
//! may change things, the viewer one (for students) may only look. A token arrives as
//! `Authorization: Bearer TOKEN`, as `?token=TOKEN` (which also sets a cookie, so that the
//! page's later requests and its websocket carry it), or as that cookie.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use nslab_model::api::ErrorBody;

const COOKIE: &str = "nslab_token";

#[derive(Debug, Clone, Default)]
pub struct Access {
    /// May do everything. None: no token needed (loopback only).
    pub full: Option<String>,
    /// May read and watch.
    pub viewer: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Full,
    Viewer,
}

impl Access {
    fn role(&self, token: Option<&str>) -> Option<Role> {
        let Some(full) = &self.full else { return Some(Role::Full) };
        let token = token?;
        if same(token, full) {
            Some(Role::Full)
        } else if self.viewer.as_deref().is_some_and(|viewer| same(token, viewer)) {
            Some(Role::Viewer)
        } else {
            None
        }
    }
}

/// Compares without stopping at the first difference, so timing says nothing about a token.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A fresh random token: 16 bytes from the kernel, as hex.
pub fn generate_token() -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

pub async fn check(State(access): State<std::sync::Arc<Access>>, request: Request, next: Next) -> Response {
    if let Some(refusal) = foreign(&access, &request) {
        return (StatusCode::FORBIDDEN, Json(ErrorBody::new(refusal))).into_response();
    }
    let from_query = token_in_query(&request);
    let token = bearer(&request).or_else(|| from_query.clone()).or_else(|| cookie(&request));
    let Some(role) = access.role(token.as_deref()) else {
        let body = ErrorBody::new("a valid token is needed: open the address nslab printed, with its ?token=...");
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    };
    if role == Role::Viewer && !viewer_may(&request) {
        let body = ErrorBody::new("this token may only watch the lab; changing it needs the teacher's token");
        return (StatusCode::FORBIDDEN, Json(body)).into_response();
    }
    let mut response = next.run(request).await;
    if let Some(token) = from_query.filter(|_| access.full.is_some()) {
        let cookie = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict");
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// Why a request is refused for coming from somewhere else, if it is. Another web site's
/// page may make the browser send requests here (a form post to `/api/apply`): a change
/// must come with this server's own Origin, or none (not a browser). And a server that
/// needs no token answers only requests addressed to a loopback name, so that a site that
/// points its own name at 127.0.0.1 (DNS rebinding) cannot read or change the lab.
fn foreign(access: &Access, request: &Request) -> Option<&'static str> {
    let headers = request.headers();
    if access.full.is_none() && !host_is_loopback(headers) {
        return Some("this server answers only at a loopback address, such as 127.0.0.1 or localhost");
    }
    (changes_or_reaches_in(request) && !origin_allowed(headers))
        .then_some("a change must come from the editor this server serves")
}

/// Routes that read with GET but reach into the lab's namespaces: a root shell, a packet
/// capture. They need the same rights (and the same Origin) as a change.
const HANDS_ON: [&str; 4] = ["/api/terminal", "/api/capture", "/api/capture.pcapng", "/api/drill/faults"];

/// Routes asked with POST (the question is a JSON body) that only read: a viewer token may
/// ask them, so that a student's "why?" is read from the kernel too (a drill withholds its
/// drift). Their Origin is checked as every POST's.
const READS_BY_POST: [&str; 1] = ["/api/explain"];

/// Whether a viewer token may make the request: it reads and does not reach into the lab.
fn viewer_may(request: &Request) -> bool {
    !changes_or_reaches_in(request)
        || (request.method() == Method::POST && READS_BY_POST.contains(&request.uri().path()))
}

/// Whether the request changes something or reaches into the lab (see `HANDS_ON`): what
/// a viewer token may not do (but see `READS_BY_POST`) and another site's page may not
/// ask for.
fn changes_or_reaches_in(request: &Request) -> bool {
    !matches!(*request.method(), Method::GET | Method::HEAD) || HANDS_ON.contains(&request.uri().path())
}

/// Whether the request's Host names this machine's loopback: `localhost`, `127.x.x.x` or
/// `[::1]`, with or without a port.
fn host_is_loopback(headers: &axum::http::HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else { return false };
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn bearer(request: &Request) -> Option<String> {
    let value = request.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(str::to_string)
}

fn token_in_query(request: &Request) -> Option<String> {
    request.uri().query()?.split('&').find_map(|pair| pair.strip_prefix("token=")).map(str::to_string)
}

fn cookie(request: &Request) -> Option<String> {
    request.headers().get_all(header::COOKIE).iter().filter_map(|value| value.to_str().ok()).find_map(|value| {
        value.split(';').map(str::trim).find_map(|pair| pair.strip_prefix(&format!("{COOKIE}="))).map(str::to_string)
    })
}

/// A browser's websocket must come from a page this server served: its Origin names the
/// same host and port as the request. Clients that send no Origin are not browsers.
pub fn origin_allowed(headers: &axum::http::HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else { return true };
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else { return false };
    let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest).trim_end_matches('/');
    origin_host.eq_ignore_ascii_case(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_follow_the_tokens() {
        let open = Access::default();
        assert_eq!(open.role(None), Some(Role::Full));
        let guarded = Access { full: Some("teacher".into()), viewer: Some("student".into()) };
        assert_eq!(guarded.role(Some("teacher")), Some(Role::Full));
        assert_eq!(guarded.role(Some("student")), Some(Role::Viewer));
        assert_eq!(guarded.role(Some("teachers")), None);
        assert_eq!(guarded.role(None), None);
    }

    #[test]
    fn origins_must_match_the_host() {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(header::HOST, "127.0.0.1:4780".parse().unwrap());
        assert!(origin_allowed(&headers));
        headers.insert(header::ORIGIN, "http://127.0.0.1:4780".parse().unwrap());
        assert!(origin_allowed(&headers));
        headers.insert(header::ORIGIN, "http://evil.example".parse().unwrap());
        assert!(!origin_allowed(&headers));
    }

    #[test]
    fn an_open_server_answers_only_at_loopback_names() {
        let host = |value: &str| {
            let mut headers = axum::http::HeaderMap::new();
            headers.insert(header::HOST, value.parse().unwrap());
            host_is_loopback(&headers)
        };
        assert!(host("127.0.0.1:4780") && host("127.3.4.5") && host("localhost:80") && host("[::1]:4780"));
        assert!(!host("evil.example:4780") && !host("10.0.0.1:4780") && !host("[fe80::1]:4780"));
        assert!(!host_is_loopback(&axum::http::HeaderMap::new()), "no Host, no answer");
    }

    #[test]
    fn shells_and_captures_need_the_rights_of_a_change() {
        let request =
            |method: Method, uri: &str| Request::builder().method(method).uri(uri).body(Default::default()).unwrap();
        assert!(changes_or_reaches_in(&request(Method::POST, "/api/apply")));
        assert!(changes_or_reaches_in(&request(Method::GET, "/api/terminal?node=ns1")));
        assert!(changes_or_reaches_in(&request(Method::GET, "/api/capture.pcapng?node=ns1&iface=eth0")));
        assert!(!changes_or_reaches_in(&request(Method::GET, "/api/events")));
        assert!(!changes_or_reaches_in(&request(Method::GET, "/api/terminals")));
    }

    #[test]
    fn a_viewer_may_ask_why_but_change_nothing() {
        let request =
            |method: Method, uri: &str| Request::builder().method(method).uri(uri).body(Default::default()).unwrap();
        assert!(viewer_may(&request(Method::POST, "/api/explain")));
        assert!(viewer_may(&request(Method::GET, "/api/events")));
        assert!(!viewer_may(&request(Method::POST, "/api/apply")));
        assert!(!viewer_may(&request(Method::POST, "/api/explain/../apply")), "the path as sent, not a prefix");
        assert!(!viewer_may(&request(Method::PUT, "/api/explain")));
        assert!(!viewer_may(&request(Method::GET, "/api/terminal?node=ns1")));
        // Its Origin is still checked, as every POST's.
        assert!(changes_or_reaches_in(&request(Method::POST, "/api/explain")));
    }

    #[test]
    fn tokens_are_random_hex() {
        let (a, b) = (generate_token().unwrap(), generate_token().unwrap());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }
}
