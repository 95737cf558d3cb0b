//! Files: open a lab (file picker or drop), save it, export the `ip` script or the picture,
//! the bundled examples, and the lab the kernel holds (scan). Opening goes through the
//! server's import, which checks the file like `nslab validate`; a refused file leaves the
//! current lab untouched.

use leptos::prelude::*;
use leptos::task::spawn_local;
use nslab_model::export::{to_ip_script, to_json};
use nslab_model::problem::has_errors;
use wasm_bindgen::JsCast;

use crate::api;
use crate::state::Editor;
use crate::sync;

pub const EXAMPLES: [(&str, &str); 3] = [
    ("seed-veth", include_str!("../../examples/seed-veth.json")),
    ("seed-bridge", include_str!("../../examples/seed-bridge.json")),
    ("router", include_str!("../../examples/router.json")),
];

/// Sends a lab file's text to the server; on success it becomes the document.
pub fn open_text(editor: Editor, text: String, from: String) {
    spawn_local(async move {
        match api::import(text).await {
            Ok(view) => show_opened(editor, view, &from),
            Err(error) => editor.notice.set(Some(format!("{from} was not opened: {}", error.message))),
        }
    });
}

/// Draws what the kernel holds (hand-built namespaces too) as the document, after asking:
/// the drawing is replaced. What a lab cannot hold is logged, as the lab's description
/// names it.
pub fn scan_kernel(editor: Editor) {
    if !crate::toolbar::confirm("Replace the drawing with what the kernel holds?") {
        return;
    }
    spawn_local(async move {
        match api::scan().await {
            Ok(view) => {
                let description = view.lab.description.clone();
                show_opened(editor, view, "what the kernel holds");
                if !description.is_empty() {
                    editor.log("info", description);
                }
            }
            Err(error) => editor.notice.set(Some(format!("the kernel could not be scanned: {}", error.message))),
        }
    });
}

/// A lab the server made the document (opened or scanned) shown as the editor's, fitted.
fn show_opened(editor: Editor, view: nslab_model::api::LabView, from: &str) {
    editor.notice.set(None);
    editor.unsaved.set(false);
    editor.revision.set(view.revision);
    editor.history.update_value(|history| history.record(view.lab.clone()));
    sync::show(editor, view.lab);
    editor.log("info", format!("opened {from}"));
    crate::toolbar::fit_view(editor);
}

/// Reads a file the user picked or dropped, then opens it.
pub fn open_file(editor: Editor, file: web_sys::File) {
    let name = file.name();
    spawn_local(async move {
        let text = wasm_bindgen_futures::JsFuture::from(file.text()).await;
        match text.ok().and_then(|value| value.as_string()) {
            Some(text) => open_text(editor, text, name),
            None => editor.notice.set(Some(format!("{name} could not be read"))),
        }
    });
}

pub fn save_json(editor: Editor) {
    let lab = editor.lab.get_untracked();
    download(&format!("{}.json", lab.name), "application/json", &to_json(&lab));
}

pub fn export_script(editor: Editor) {
    let lab = editor.lab.get_untracked();
    if editor.problems.with_untracked(|p| has_errors(p)) {
        editor.notice.set(Some("fix the problems marked in red first: a script of a broken lab would fail".into()));
        return;
    }
    download(&format!("{}.sh", lab.name), "text/x-shellscript", &to_ip_script(&lab));
}

/// The picture as an SVG file: the whole lab (not just what the view shows), at zoom 1,
/// with the styles it needs inlined, so it opens the same anywhere.
pub fn export_svg(editor: Editor) {
    let document = web_sys::window().and_then(|w| w.document());
    let Some(world) = document.and_then(|d| d.query_selector("svg.canvas g.world").ok().flatten()) else { return };
    let Ok(copy) = world.clone_node_with_deep(true) else { return };
    let Ok(copy) = copy.dyn_into::<web_sys::Element>() else { return };
    let _ = copy.remove_attribute("transform");
    let (x, y, width, height) = editor.lab.with_untracked(crate::geometry::picture_bounds);
    let body = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"canvas\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"{x} {y} {width} {height}\"><style>{}</style><rect class=\"paper\" x=\"{x}\" y=\"{y}\" \
         width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>{}</svg>",
        include_str!("../svg.css"),
        // Leptos marks the places of dynamic text with empty comments: not for a file.
        copy.outer_html().replace("<!---->", "")
    );
    let name = editor.lab.with_untracked(|lab| lab.name.clone());
    download(&format!("{name}.svg"), "image/svg+xml", &body);
}

fn download(file_name: &str, kind: &str, content: &str) {
    let parts = js_sys_array(content);
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(kind);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else { return };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else { return };
    let document = web_sys::window().and_then(|w| w.document());
    if let Some(anchor) =
        document.and_then(|d| d.create_element("a").ok()).and_then(|e| e.dyn_into::<web_sys::HtmlAnchorElement>().ok())
    {
        anchor.set_href(&url);
        anchor.set_download(file_name);
        anchor.click();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}

fn js_sys_array(content: &str) -> wasm_bindgen::JsValue {
    let array = js_sys::Array::new();
    array.push(&wasm_bindgen::JsValue::from_str(content));
    array.into()
}
