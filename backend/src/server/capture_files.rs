//! A capture as a pcapng file Wireshark opens: `GET /api/capture.pcapng` in two forms,
//! `seconds=N` (capture the next N seconds) and `held=FIRST-LAST` (the frames a running
//! capture still holds of the packets numbered FIRST to LAST: what a panel holds, by the
//! numbers it was sent). A bridge's capture is written as one interface per port.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{header, HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use nslab_model::capture::{CapturePlace, Direction};
use tokio::sync::broadcast;

use super::captures::{resolve, CaptureQuery, Item, HELD_FRAMES};
use super::errors::ApiError;
use super::AppState;
use crate::kernel::capture::FRAME_KEEP;

/// The longest `capture.pcapng?seconds=N` takes.
pub const MAX_SECONDS: u64 = 60;
/// The most frame bytes one `capture.pcapng?seconds=N` collects; past it the file ends early.
const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;
/// Says which packets of a `held=` range the server no longer holds: `FIRST-LAST`.
pub const NOT_HELD: HeaderName = HeaderName::from_static("nslab-not-held");

/// `GET /api/capture.pcapng?node=NAME&iface=IFACE&(seconds=N|held=FIRST-LAST)[&filter=...]`
pub async fn pcapng(
    State(state): State<Arc<AppState>>,
    Query(query): Query<CaptureQuery>,
) -> Result<Response, ApiError> {
    let bad = |message: &str| ApiError::new(StatusCode::BAD_REQUEST, message.to_string());
    match (&query.seconds, &query.held) {
        (Some(_), Some(_)) => Err(bad("name `seconds=N` or `held=FIRST-LAST`, not both")),
        (None, None) => Err(bad(
            "name what to download: `seconds=N` (the next N seconds, 1 to 60) or `held=FIRST-LAST` (the packets \
             numbered FIRST to LAST that a running capture holds)",
        )),
        (Some(seconds), None) => next_seconds(&state, &query, seconds_of(seconds)?).await,
        (None, Some(held)) => held_packets(&state, &query, held_range_of(held)?).await,
    }
}

/// Captures for `seconds` and answers the file.
async fn next_seconds(state: &AppState, query: &CaptureQuery, seconds: u64) -> Result<Response, ApiError> {
    let (place, filter) = resolve(state, query).await?;
    let mut viewer = state.captures.join(&place).await?;
    let interfaces = state.captures.interfaces(&place).unwrap_or_else(|| vec![place.interface.clone()]);
    let mut frames: Vec<Item> = Vec::new();
    let mut bytes = 0;
    let mut missed = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    while bytes < MAX_FILE_BYTES {
        match tokio::time::timeout_at(deadline, viewer.receiver.recv()).await {
            Err(_) => break,
            Ok(Ok(shared)) if filter.matches(shared.packet()) => {
                bytes += shared.frame.len();
                frames.push(shared);
            }
            Ok(Ok(_)) => {}
            Ok(Err(broadcast::error::RecvError::Lagged(count))) => missed += count,
            Ok(Err(broadcast::error::RecvError::Closed)) => break,
        }
    }
    let dropped = viewer.new_drops().unwrap_or_default();
    drop(viewer);
    let mut notes = Vec::new();
    if missed + dropped > 0 {
        notes.push(format!("{missed} packets missed by the server, {dropped} dropped by the kernel at the socket"));
    }
    let file = write_pcapng(&interfaces, &frames, &notes)?;
    Ok((file_headers(query, &place), file).into_response())
}

/// Answers the frames the running capture holds of the range, saying which of them it no
/// longer holds.
async fn held_packets(state: &AppState, query: &CaptureQuery, (first, last): (u64, u64)) -> Result<Response, ApiError> {
    let (place, filter) = resolve(state, query).await?;
    let Some(held) = state.captures.held(&place, first, last) else {
        let message = format!(
            "no capture runs on {} of {}: `held=` downloads what a running capture holds; `seconds=N` captures anew",
            place.interface,
            query.node.as_deref().unwrap_or_default()
        );
        return Err(ApiError::new(StatusCode::NOT_FOUND, message));
    };
    let frames: Vec<Item> = held.frames.into_iter().filter(|item| filter.matches(item.packet())).collect();
    let mut notes = Vec::new();
    let mut headers = file_headers(query, &place).to_vec();
    if let Some((from, to)) = held.not_held {
        notes.push(format!(
            "the server no longer holds packets {from} to {to} of those asked for (a capture holds its latest \
             {HELD_FRAMES})"
        ));
        headers.push((NOT_HELD, format!("{from}-{to}")));
    }
    let file = write_pcapng(&held.interfaces, &frames, &notes)?;
    let mut response = file.into_response();
    for (name, value) in headers {
        if let Ok(value) = value.parse() {
            response.headers_mut().insert(name, value);
        }
    }
    Ok(response)
}

fn file_headers(query: &CaptureQuery, place: &CapturePlace) -> [(HeaderName, String); 2] {
    let name = format!("{}-{}.pcapng", query.node.as_deref().unwrap_or_default(), place.interface)
        .replace(['"', '\\', '/'], "_");
    [
        (header::CONTENT_TYPE, "application/x-pcapng".to_string()),
        (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
    ]
}

fn seconds_of(text: &str) -> Result<u64, ApiError> {
    let refuse =
        || ApiError::new(StatusCode::BAD_REQUEST, format!("`seconds` must be a whole number from 1 to {MAX_SECONDS}"));
    let seconds: u64 = text.parse().map_err(|_| refuse())?;
    if (1..=MAX_SECONDS).contains(&seconds) {
        Ok(seconds)
    } else {
        Err(refuse())
    }
}

/// `FIRST-LAST`, two packet numbers, the first not above the last (`N` alone is `N-N`).
fn held_range_of(text: &str) -> Result<(u64, u64), ApiError> {
    let refuse = || {
        let message = format!(
            "`held` must be FIRST-LAST, two packet numbers (as the capture sent them) with the first not above the \
             last, not `{text}`"
        );
        ApiError::new(StatusCode::BAD_REQUEST, message)
    };
    let (first, last) = text.split_once('-').unwrap_or((text, text));
    let number = |part: &str| part.parse::<u64>().ok().filter(|_| part.bytes().all(|byte| byte.is_ascii_digit()));
    match (number(first), number(last)) {
        (Some(first), Some(last)) if first <= last => Ok((first, last)),
        _ => Err(refuse()),
    }
}

/// The file: one interface description per interface (a bridge's ports), each frame on
/// its own, `notes` as the section's comments.
fn write_pcapng(interfaces: &[String], frames: &[Item], notes: &[String]) -> Result<Vec<u8>, ApiError> {
    write(interfaces, frames, notes)
        .map_err(|error| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("cannot write the file: {error}")))
}

fn write(interfaces: &[String], frames: &[Item], notes: &[String]) -> Result<Vec<u8>, pcap_file::PcapError> {
    use std::borrow::Cow;

    use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
    use pcap_file::pcapng::blocks::interface_description::{InterfaceDescriptionBlock, InterfaceDescriptionOption};
    use pcap_file::pcapng::blocks::section_header::{SectionHeaderBlock, SectionHeaderOption};
    use pcap_file::pcapng::PcapNgWriter;
    use pcap_file::DataLink;

    let section = SectionHeaderBlock {
        options: notes.iter().map(|note| SectionHeaderOption::Comment(Cow::Owned(note.clone()))).collect(),
        ..Default::default()
    };
    let mut writer = PcapNgWriter::with_section_header(Vec::new(), section)?;
    for interface in interfaces {
        // pcap-file writes timestamps in nanoseconds, which the file must say (if_tsresol
        // 9); without it readers take them as the default microseconds.
        writer.write_pcapng_block(InterfaceDescriptionBlock {
            linktype: DataLink::ETHERNET,
            snaplen: FRAME_KEEP as u32,
            options: vec![
                InterfaceDescriptionOption::IfName(Cow::Owned(interface.clone())),
                InterfaceDescriptionOption::IfTsResol(9),
            ],
        })?;
    }
    for shared in frames {
        // The direction, as pcapng's epb_flags say it: 1 inbound, 2 outbound.
        let direction = match shared.direction {
            Direction::In => 1,
            Direction::Out => 2,
        };
        writer.write_pcapng_block(EnhancedPacketBlock {
            interface_id: shared.interface as u32,
            timestamp: Duration::from_micros(shared.time_us),
            original_len: shared.length,
            data: Cow::Borrowed(&shared.frame),
            options: vec![EnhancedPacketOption::Flags(direction)],
        })?;
    }
    Ok(writer.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_between_one_and_sixty() {
        assert_eq!(seconds_of("60").ok(), Some(60));
        assert_eq!(seconds_of("1").ok(), Some(1));
        for refused in ["0", "61", "-1", "ten", ""] {
            assert!(seconds_of(refused).is_err(), "{refused:?}");
        }
    }

    #[test]
    fn a_held_range_is_two_numbers_in_order() {
        assert_eq!(held_range_of("5-9").ok(), Some((5, 9)));
        assert_eq!(held_range_of("7").ok(), Some((7, 7)));
        assert_eq!(held_range_of("7-7").ok(), Some((7, 7)));
        for refused in ["9-5", "", "-", "5-", "-9", "a-b", "+5-9", "5-9-11", "5 - 9", "99999999999999999999-1"] {
            assert!(held_range_of(refused).is_err(), "{refused:?}");
        }
    }
}
