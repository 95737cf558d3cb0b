//! nslab-ui: the browser editor. Built by Trunk for wasm32; talks only to the server's API.

mod api;
mod app;
mod canvas;
mod events;
mod files;
mod geometry;
mod help;
mod inspector;
mod link_view;
mod node_view;
mod panels;
mod reach;
mod state;
mod sync;
mod toolbar;

fn main() {
    leptos::mount::mount_to_body(app::App);
}
