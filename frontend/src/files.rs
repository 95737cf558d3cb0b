//! Files: open a lab (file picker or drop), save it, export the `ip` script or the picture,
//! and the bundled examples. Opening goes through the server's import, which checks the
//! file like `nslab validate`; a refused file leaves the current lab untouched.

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
            Ok(view) => {
                editor.notice.set(None);
                editor.unsaved.set(false);
                editor.revision.set(view.revision);
                editor.history.update_value(|history| history.record(view.lab.clone()));
                sync::show(editor, view.lab);
                editor.log("info", format!("opened {from}"));
                crate::toolbar::fit_view(editor);
            }
            Err(error) => editor.notice.set(Some(format!("{from} was not opened: {}", error.message))),
        }
    });
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

/// The canvas as an SVG file, with the styles it needs inlined.
pub fn export_svg(editor: Editor) {
    let document = web_sys::window().and_then(|w| w.document());
    let Some(svg) = document.and_then(|d| d.query_selector("svg.canvas").ok().flatten()) else { return };
    let style = include_str!("../svg.css");
    let body = svg.outer_html().replacen(
        "<svg",
        &format!("<svg xmlns=\"http://www.w3.org/2000/svg\"><style>{style}</style><svg"),
        1,
    ) + "</svg>";
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
