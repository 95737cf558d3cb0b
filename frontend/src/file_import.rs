//! Opening a file the user picked or dropped, nslab's own or another tool's (a containerlab
//! `.clab.yml`, a Kathará `lab.conf` or an archive of its folder, CORE `.xml`, MiniEdit
//! `.mn`, GNS3 `.gns3`, an `ip` script), and the commands of the "import ip commands" box.
//! The bytes go to the server as they are (`POST /api/import?file=NAME`), which tells the
//! format and reads it: the YAML and XML readers and the archive formats stay out of the
//! editor. The answer is the new document and what the import left out, shown as a notice.

use gloo_net::http::{Request, Response};
use leptos::task::spawn_local;
use nslab_model::api::{ErrorBody, LabView};
use serde::Deserialize;
use wasm_bindgen::JsValue;

use crate::editor::{Editor, NoticeKind};
use crate::intents;
use crate::wording::counted;

/// What the server's import answer adds to the document: what the source held that a lab
/// cannot, each with its place in the source.
#[derive(Debug, Deserialize)]
struct LeftOutList {
    #[serde(default)]
    left_out: Vec<LeftOut>,
}

#[derive(Debug, Deserialize)]
struct LeftOut {
    place: String,
    what: String,
}

/// The name the pasted commands are sent under (it names the lab `commands`).
pub const PASTED_FILE: &str = "commands.sh";

/// Opens a picked or dropped file: the browser sends its bytes, unread by the editor.
pub fn open_file(editor: Editor, file: web_sys::File) {
    let name = file.name();
    open(editor, name, None, file.into());
}

/// Opens the lab that `text`, a script of `ip` commands, builds.
pub fn open_commands(editor: Editor, text: String) {
    open(editor, PASTED_FILE.to_string(), Some("ip"), text.into());
}

/// After asking, if the kernel holds the lab it replaces: the server reads `body` as the
/// file `name` (of the format `from`, else the one it tells) and makes it the document.
fn open(editor: Editor, name: String, from: Option<&'static str>, body: JsValue) {
    spawn_local(async move {
        if !intents::may_replace(editor, &name).await {
            return;
        }
        match send(&name, from, body).await {
            Ok((view, left_out)) => {
                intents::show_opened(editor, view, &name);
                if !left_out.is_empty() {
                    editor.panels.show_notice(NoticeKind::Info, left_out_notice(&name, &left_out));
                }
            }
            Err(error) => editor.panels.notify(format!("{name} was not opened: {}", error.message)),
        }
    });
}

/// How many left-out items the notice names; the lab's description has them all.
const NAMED_IN_NOTICE: usize = 5;

/// `Opened NAME; 2 things it holds are left out: PLACE: WHAT; ...`, the first few named.
fn left_out_notice(name: &str, left_out: &[LeftOut]) -> String {
    let mut items: Vec<String> =
        left_out.iter().take(NAMED_IN_NOTICE).map(|item| format!("{}: {}", item.place, item.what)).collect();
    if left_out.len() > NAMED_IN_NOTICE {
        items.push(format!("and {} more", left_out.len() - NAMED_IN_NOTICE));
    }
    let (count, verb) = (counted(left_out.len(), "thing", "things"), if left_out.len() == 1 { "is" } else { "are" });
    format!("Opened {name}; {count} it holds {verb} left out, as the lab's description says: {}.", items.join("; "))
}

async fn send(name: &str, from: Option<&str>, body: JsValue) -> Result<(LabView, Vec<LeftOut>), ErrorBody> {
    let mut query = vec![("file", name)];
    query.extend(from.map(|from| ("from", from)));
    let request = Request::post("/api/import").query(query).body(body).map_err(|e| ErrorBody::new(e.to_string()))?;
    let text = answer(request.send().await).await?;
    let unreadable = |e: serde_json::Error| ErrorBody::new(format!("the server's answer is unreadable: {e}"));
    let view: LabView = serde_json::from_str(&text).map_err(unreadable)?;
    let LeftOutList { left_out } = serde_json::from_str(&text).map_err(unreadable)?;
    Ok((view, left_out))
}

/// The answer's text, or the server's error (or one made here when there was no answer).
async fn answer(sent: Result<Response, gloo_net::Error>) -> Result<String, ErrorBody> {
    let response = sent.map_err(|e| ErrorBody::new(format!("cannot reach the nslab server: {e}")))?;
    if response.ok() {
        return response.text().await.map_err(|e| ErrorBody::new(e.to_string()));
    }
    let status = response.status();
    match response.json::<ErrorBody>().await {
        Ok(body) => Err(body),
        Err(_) => Err(ErrorBody::new(format!("the server answered {status}"))),
    }
}
