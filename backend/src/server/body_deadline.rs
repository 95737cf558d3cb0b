//! A request's body must arrive in full within its allowance (`limits::body_allowance`:
//! a grace, plus the time its size takes at a minimum rate), counted from when its
//! headers were read. A body that does not is cut off: the handler reading it gets an
//! error, and the client gets 408 and the connection is closed. tower-http's
//! `RequestBodyTimeout` bounds only the wait between two pieces of a body, which a client
//! trickling a byte at a time never reaches.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use hyper::body::{Frame, SizeHint};
use nslab_model::api::ErrorBody;
use tokio::time::Sleep;

use super::limits::body_allowance;

/// The middleware; its state is the largest body accepted (the allowance of a body of
/// unknown length).
pub async fn enforce(State(max_bytes): State<usize>, request: Request, next: Next) -> Response {
    if request.body().is_end_stream() {
        // No body (a GET, a websocket upgrade): nothing to wait for.
        return next.run(request).await;
    }
    let bytes = request.body().size_hint().upper().unwrap_or(max_bytes as u64).min(max_bytes as u64);
    let allowance = body_allowance(bytes);
    let expired = Arc::new(AtomicBool::new(false));
    let request = request.map(|body| Body::new(Deadline::new(body, allowance, expired.clone())));
    let response = next.run(request).await;
    if expired.load(Ordering::Relaxed) {
        return too_slow(allowance);
    }
    response
}

/// 408, and the connection closed: the rest of the body may still be on its way.
fn too_slow(allowance: Duration) -> Response {
    let message = format!("the request's body did not arrive within {} s", allowance.as_secs());
    let mut response = (StatusCode::REQUEST_TIMEOUT, Json(ErrorBody::new(message))).into_response();
    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// A body that fails once its deadline has passed, and says so in `expired`.
struct Deadline {
    body: Body,
    deadline: Pin<Box<Sleep>>,
    expired: Arc<AtomicBool>,
}

impl Deadline {
    fn new(body: Body, allowance: Duration, expired: Arc<AtomicBool>) -> Deadline {
        Deadline { body, deadline: Box::pin(tokio::time::sleep(allowance)), expired }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the request's body did not arrive in time")]
struct TooSlow;

impl HttpBody for Deadline {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.body).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        if this.deadline.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        this.expired.store(true, Ordering::Relaxed);
        Poll::Ready(Some(Err(axum::Error::new(TooSlow))))
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deadline(body: Body, allowance: Duration) -> (Body, Arc<AtomicBool>) {
        let expired = Arc::new(AtomicBool::new(false));
        (Body::new(Deadline::new(body, allowance, expired.clone())), expired)
    }

    #[tokio::test]
    async fn a_body_that_never_ends_is_cut_off_and_says_so() {
        let never = futures::stream::pending::<Result<Bytes, std::io::Error>>();
        let (body, expired) = deadline(Body::from_stream(never), Duration::from_millis(20));
        let error = axum::body::to_bytes(body, usize::MAX).await.unwrap_err();
        assert!(error.to_string().contains("did not arrive in time"), "{error}");
        assert!(expired.load(Ordering::Relaxed));
    }

    #[tokio::test]
    async fn a_body_in_time_passes_unchanged() {
        let (body, expired) = deadline(Body::from("a lab"), Duration::from_secs(60));
        assert_eq!(axum::body::to_bytes(body, usize::MAX).await.unwrap(), "a lab");
        assert!(!expired.load(Ordering::Relaxed));
    }
}
