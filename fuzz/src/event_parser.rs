//! The API's JSON messages: the websocket events the editor reads (`api::Event`) and the
//! bodies the server reads from clients (`PutLab` for `PUT /api/lab`, a `Lab` for
//! `POST /api/validate`, `PingRequest` for `POST /api/ping`). Any text either parses or is
//! refused, never a panic; what parses is written and read back as the same message,
//! and writing that again gives the same text.

use std::fmt::Debug;

use nslab_model::api::{Event, PingRequest, PutLab};
use nslab_model::Lab;
use serde::de::DeserializeOwned;
use serde::Serialize;

pub fn event_parser(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    round_trips::<Event>(text);
    round_trips::<PutLab>(text);
    round_trips::<Lab>(text);
    round_trips::<PingRequest>(text);
}

/// When `text` reads as a `T`: it survives being written and read.
fn round_trips<T: Serialize + DeserializeOwned + PartialEq + Debug>(text: &str) {
    let Ok(message) = serde_json::from_str::<T>(text) else { return };
    let written = serde_json::to_string(&message).expect("a message always serialises");
    let read: T = serde_json::from_str(&written)
        .unwrap_or_else(|error| panic!("a written {} does not read: {error}\n{written}", std::any::type_name::<T>()));
    assert_eq!(read, message, "a written message reads as another:\n{written}");
    assert_eq!(serde_json::to_string(&read).expect("serialises"), written, "writing again differs");
}
