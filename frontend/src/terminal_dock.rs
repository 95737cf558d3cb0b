//! Terminals into the lab's namespaces (`GET /api/terminal`), as tabs in a dock under the
//! canvas.

use nslab_model::api::TerminalEvent;

/// The events log's line for a terminal opened or closed (by any page).
pub fn log_line(event: &TerminalEvent) -> String {
    if event.opened {
        format!("terminal opened on {}", event.node)
    } else {
        format!("terminal on {} closed", event.node)
    }
}
