//! nslab-ui: the browser editor. Built by Trunk for wasm32; talks only to the server's API.

mod api;
mod app;
mod browser;
mod canvas;
mod capture;
mod capture_panel;
mod describe;
mod dialog;
mod drill_card;
mod editor;
mod events;
mod explain_panel;
mod export_menu;
mod file_import;
mod geometry;
mod goals_card;
mod help;
mod icons;
mod inspector;
mod intents;
mod lab_name;
mod legend;
mod link_view;
mod matrix_panel;
mod node_view;
mod packet_dots;
mod packet_rows;
mod panel_width;
mod panels;
mod paste_import;
mod ping_panel;
mod presenter;
mod reach;
mod reach_timing;
mod sync;
mod terminal_dock;
mod toolbar;
mod wording;

fn main() {
    std::panic::set_hook(Box::new(show_panic));
    leptos::mount::mount_to_body(app::App);
}

/// A bug in the editor stops it: say so on the page (and in the console), instead of
/// leaving a picture that looks alive but no longer answers.
fn show_panic(info: &std::panic::PanicHookInfo) {
    let message = format!("nslab editor bug: {info}");
    web_sys::console::error_1(&message.as_str().into());
    let document = web_sys::window().and_then(|window| window.document());
    // Only the first panic says what went wrong: the task it stopped stays borrowed, so
    // later ones read "already borrowed".
    let first = document.as_ref().is_some_and(|d| d.get_element_by_id("editor-bug").is_none());
    if let Some((document, body)) = document.as_ref().filter(|_| first).and_then(|d| Some((d, d.body()?))) {
        if let Ok(banner) = document.create_element("div") {
            banner.set_id("editor-bug");
            banner.set_class_name("banner bug");
            banner.set_text_content(Some(&format!("{message}. Reload the page; your lab is safe on the server.")));
            let _ = body.prepend_with_node_1(&banner);
        }
    }
}
