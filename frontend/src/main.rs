//! nslab-ui: the browser editor. Built by Trunk for wasm32; talks only to the server's API.

mod api;
mod app;
mod lab_overview;
mod problem_list;

fn main() {
    leptos::mount::mount_to_body(app::App);
}
