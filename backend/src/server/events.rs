//! The event stream: every event is serialised once and handed to every connected client
//! through a bounded broadcast channel. A client too slow to keep up is not waited for:
//! it misses events, is told how many, and gets a fresh snapshot, so neither the other
//! clients nor the server's memory depend on it.

use std::sync::Arc;

use axum::extract::ws::{Message, Utf8Bytes, WebSocket};
use nslab_model::api::{DroppedEvent, Event};
use tokio::sync::broadcast;

use super::AppState;

/// Events kept for a slow client before it is told it fell behind.
const BACKLOG: usize = 4096;

#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Arc<str>>,
}

impl Default for EventBus {
    fn default() -> Self {
        EventBus { sender: broadcast::channel(BACKLOG).0 }
    }
}

impl EventBus {
    pub fn send(&self, event: &Event) {
        // Nobody watching: nothing to write (an apply makes thousands of events).
        if !self.has_listeners() {
            return;
        }
        let text: Arc<str> = serde_json::to_string(event).expect("events serialise").into();
        // The last receiver may have gone meanwhile, which is fine.
        let _ = self.sender.send(text);
    }

    /// Whether any client is connected to the event stream.
    pub fn has_listeners(&self) -> bool {
        self.sender.receiver_count() > 0
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<str>> {
        self.sender.subscribe()
    }
}

/// Feeds one websocket: a snapshot first (and again after a gap), then every event.
pub async fn stream_to(mut socket: WebSocket, state: Arc<AppState>) {
    let mut events = state.bus.subscribe();
    let snapshot = state.snapshot().await;
    if send(&mut socket, &serde_json::to_string(&snapshot).expect("serialises")).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            received = events.recv() => match received {
                Ok(text) => {
                    if send(&mut socket, &text).await.is_err() {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    let dropped = serde_json::to_string(&Event::Dropped(DroppedEvent { missed })).expect("serialises");
                    let again = serde_json::to_string(&state.snapshot().await).expect("serialises");
                    if send(&mut socket, &dropped).await.is_err() || send(&mut socket, &again).await.is_err() {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            incoming = socket.recv() => match incoming {
                // Clients only listen; a close or an error ends the stream.
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

async fn send(socket: &mut WebSocket, text: &str) -> Result<(), axum::Error> {
    socket.send(Message::Text(Utf8Bytes::from(text))).await
}
