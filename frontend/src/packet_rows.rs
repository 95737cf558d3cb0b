//! The capture panel's list of packets, one row each, put on the page as they arrive. Not
//! Leptos views: the list only grows at its end and loses rows at its start, so rows are
//! made and removed as plain elements (keyed views for 2000 rows redrawn ten times a
//! second, and their code, cost far more).

use leptos::prelude::WithValue;
use nslab_model::capture::{Direction, PacketLine};

use crate::capture::{protocol_class, Capture, HELD};

/// The list's element id (the panel makes the list; it is absent while another tab shows).
pub const LIST_ID: &str = "capture-packets";

fn list() -> Option<web_sys::Element> {
    web_sys::window()?.document()?.get_element_by_id(LIST_ID)
}

/// Fills the list with every packet held (when the panel appears, or after clear).
pub fn show(capture: Capture) {
    let Some(list) = list() else { return };
    list.set_text_content(None);
    capture.kept.with_value(|kept| append_to(&list, kept.first_us, kept.packets.iter()));
}

/// Adds rows for `arrived`, drops the oldest past `HELD`, and follows the end.
pub fn append<'a>(capture: Capture, arrived: impl IntoIterator<Item = &'a PacketLine>) {
    let Some(list) = list() else { return };
    let start = capture.kept.with_value(|kept| kept.first_us);
    append_to(&list, start, arrived.into_iter());
}

fn append_to<'a>(list: &web_sys::Element, start: Option<u64>, packets: impl Iterator<Item = &'a PacketLine>) {
    let Some(document) = web_sys::window().and_then(|window| window.document()) else { return };
    let start = start.unwrap_or_default();
    for packet in packets {
        if let Some(row) = row(&document, start, packet) {
            let _ = list.append_child(&row);
        }
    }
    while list.child_element_count() as usize > HELD {
        match list.first_element_child() {
            Some(first) => first.remove(),
            None => break,
        }
    }
    list.set_scroll_top(list.scroll_height());
}

/// `0.123 → IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 7, seq 1, length 98`, and on a
/// bridge's capture the port first: `0.123 veth2 → ARP, Request who-has ...`.
fn row(document: &web_sys::Document, start: u64, packet: &PacketLine) -> Option<web_sys::Element> {
    let row = document.create_element("li").ok()?;
    let (direction, arrow) = match packet.direction {
        Direction::Out => ("out", "→"),
        Direction::In => ("in", "←"),
    };
    let words = match (&packet.port, packet.direction) {
        (None, Direction::Out) => "sent".to_string(),
        (None, Direction::In) => "received".to_string(),
        (Some(port), Direction::Out) => format!("out of the bridge through {port}"),
        (Some(port), Direction::In) => format!("into the bridge through {port}"),
    };
    row.set_class_name(&format!("packet {} {direction}", protocol_class(packet.protocol)));
    let seconds = packet.time_us.saturating_sub(start) as f64 / 1e6;
    let mut parts = vec![("time", format!("{seconds:.3}"))];
    if let Some(port) = &packet.port {
        parts.push(("port", port.clone()));
    }
    parts.extend([("dir", arrow.to_string()), ("line", packet.summary.clone())]);
    for (class, text) in parts {
        let part = document.create_element("span").ok()?;
        part.set_class_name(class);
        part.set_text_content(Some(&text));
        if class == "dir" || class == "port" {
            let _ = part.set_attribute("title", &words);
        }
        row.append_child(&part).ok()?;
    }
    Some(row)
}
