//! The server's `POST /api/import` with other tools' files, as the editor's open and drop
//! send them (the bytes, `?file=NAME`, perhaps `?from=FORMAT`), and `GET /api/export` in
//! every format, through a real HTTP client against a real `nslab serve`. An import gives
//! what `nslab import` gives for the same file; bad input is refused with 400 and the
//! located reason, and the document stays as it was.

use std::path::{Path, PathBuf};
use std::process::Command;

use nslab_model::api::{ErrorBody, LabView};
use nslab_tests::client::Client;
use nslab_tests::paths::{example, nslab_binary, repo_root};
use nslab_tests::server::NslabServer;
use reqwest::Method;

fn fixture(path: &str) -> PathBuf {
    repo_root().join("shared/tests/fixtures/import").join(path)
}

async fn import(client: &Client, query: &str, body: Vec<u8>) -> reqwest::Response {
    client.request(Method::POST, &format!("/api/import{query}")).body(body).send().await.unwrap()
}

/// The message of a refusal, which must be a 400.
async fn refused(client: &Client, query: &str, body: impl Into<Vec<u8>>) -> String {
    let response = import(client, query, body.into()).await;
    assert_eq!(response.status(), 400, "{query} is refused");
    response.json::<ErrorBody>().await.unwrap().message
}

/// What `nslab import` (or `nslab export`) writes for `args`.
fn nslab(args: &[&str]) -> String {
    let output = Command::new(nslab_binary()).args(args).output().unwrap();
    assert!(output.status.success(), "nslab {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test]
async fn other_tools_files_import_as_the_cli_imports_them() {
    let (server, _state) = NslabServer::start(None, "server-import");
    let client = Client::new(&server);

    // A containerlab file, its format told by its name: the golden lab and what it left out.
    let file = fixture("clab/br01.clab.yml");
    let response = import(&client, "?file=br01.clab.yml", std::fs::read(&file).unwrap()).await;
    assert_eq!(response.status(), 200);
    let answer: serde_json::Value = response.json().await.unwrap();
    let golden: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("clab/br01.golden.json")).unwrap()).unwrap();
    assert_eq!(answer["lab"], golden["lab"], "the golden lab");
    assert_eq!(answer["left_out"], golden["left_out"], "what it left out, each with its place");
    let view: LabView = serde_json::from_value(answer).unwrap();
    assert_eq!(client.lab().await, view, "the answer is the document");

    // The same file under a name that says nothing, told by `from`, or by its content.
    let bytes = std::fs::read(&file).unwrap();
    let named: LabView = import(&client, "?file=topo.yaml&from=clab", bytes.clone()).await.json().await.unwrap();
    assert_eq!(named.lab.nodes.len(), 4);
    assert_eq!(named.lab.name, "topo");
    let by_content: LabView = import(&client, "?file=topo.yaml", bytes).await.json().await.unwrap();
    assert_eq!(by_content.lab.nodes, named.lab.nodes);

    // A Kathará folder as a .tar.gz (tar's own), and as a .zip: what `nslab import` reads.
    let folder = fixture("kathara/static-routing");
    let tarball = std::env::temp_dir().join(format!("nslab-import-{}.tar.gz", std::process::id()));
    let made = Command::new("tar")
        .arg("czf")
        .arg(&tarball)
        .arg("-C")
        .arg(folder.parent().unwrap())
        .arg("static-routing")
        .status()
        .unwrap();
    assert!(made.success());
    let response = import(&client, "?file=static-routing.tar.gz", std::fs::read(&tarball).unwrap()).await;
    assert_eq!(response.status(), 200);
    let view: LabView = response.json().await.unwrap();
    let cli: nslab_model::Lab =
        serde_json::from_str(&nslab(&["import", tarball.to_str().unwrap(), "--name", "static-routing"])).unwrap();
    assert_eq!(view.lab, cli, "the archive reads as nslab import reads it");
    std::fs::remove_file(&tarball).unwrap();

    // A lab file without a name, as the API has always taken it.
    let router = std::fs::read(example("router")).unwrap();
    let view: LabView = import(&client, "", router.clone()).await.json().await.unwrap();
    assert_eq!(view.lab.name, "router");
    let view: LabView = import(&client, "?file=router.json", router).await.json().await.unwrap();
    assert_eq!(view.lab.name, "router");
}

#[tokio::test]
async fn bad_imports_are_refused_with_their_place_and_change_nothing() {
    let (server, _state) = NslabServer::start(Some(&example("router")), "server-import-bad");
    let client = Client::new(&server);
    let before = client.lab().await;

    let message = refused(&client, "?from=visio&file=a.vsdx", "x").await;
    assert_eq!(message, "unknown format `visio`; use one of clab, kathara, core, miniedit, gns3, ip, or json");

    let message = refused(&client, "?file=empty.clab.yml", "").await;
    assert_eq!(message, "empty.clab.yml: the file is empty");
    let message = refused(&client, "?file=blank.sh", " \n\n").await;
    assert_eq!(message, "blank.sh: the file is empty");

    let message = refused(&client, "?file=notes.txt", "dear diary\n").await;
    assert!(message.starts_with("notes.txt: cannot tell which format this is; name it as one of clab, "), "{message}");

    // Not that format: the reason with its line or path in the file.
    let message = refused(&client, "?file=broken.clab.yml", "name: x\ntopology:\n  nodes: [\n").await;
    assert!(message.starts_with("broken.clab.yml: "), "{message}");
    assert!(message.contains("line"), "the line is named: {message}");
    let message = refused(&client, "?file=scene.xml", "<scenario><device id=\"1\"").await;
    assert!(message.starts_with("scene.xml: "), "{message}");
    let message = refused(&client, "?from=ip&file=words.sh", "hello there\nhow are you\n").await;
    assert!(message.starts_with("words.sh: "), "{message}");

    // Not text; an archive cut short.
    let message = refused(&client, "?file=logo.gns3", vec![0xff, 0xfe, 0x00, 0x41]).await;
    assert_eq!(message, "logo.gns3: the file is not text (UTF-8)");
    let message = refused(&client, "?file=lab.tar.gz", vec![0x1f, 0x8b, 0x08, 0x00, 0x00]).await;
    assert!(message.starts_with("lab.tar.gz: the archive is damaged or cut short"), "{message}");

    // A lab file that is not one, as before.
    let message = refused(&client, "?file=lab.json", "{\"version\": 1,,}").await;
    assert!(message.contains("line 1"), "{message}");

    assert_eq!(client.lab().await, before, "nothing refused changed the document");
}

#[tokio::test]
async fn every_format_exports_as_nslab_export_writes_it() {
    let (server, _state) = NslabServer::start(Some(&example("seed-bridge")), "server-export");
    let client = Client::new(&server);
    let lab = example("seed-bridge");
    for (format, file, media) in [
        ("clab", "seed-bridge.clab.yml", "application/yaml"),
        ("core", "seed-bridge.xml", "application/xml"),
        ("mininet", "seed-bridge.py", "text/x-python"),
        ("dot", "seed-bridge.dot", "text/vnd.graphviz"),
        ("mermaid", "seed-bridge.mmd", "text/vnd.mermaid"),
        ("drawio", "seed-bridge.drawio", "application/vnd.jgraph.mxfile"),
    ] {
        let response = client.request(Method::GET, &format!("/api/export?format={format}")).send().await.unwrap();
        assert_eq!(response.status(), 200, "{format}");
        let headers = response.headers().clone();
        let disposition = headers["content-disposition"].to_str().unwrap();
        assert_eq!(disposition, format!("attachment; filename=\"{file}\""), "{format}");
        assert!(headers["content-type"].to_str().unwrap().starts_with(media), "{format}");
        let body = response.text().await.unwrap();
        assert_eq!(body, nslab(&["export", "--format", format, lab.to_str().unwrap()]), "{format}");
    }

    // Kathará's folder: a .tar.gz of it, file for file what `nslab export -o DIR` writes.
    let response = client.request(Method::GET, "/api/export?format=kathara").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/gzip");
    assert_eq!(response.headers()["content-disposition"], "attachment; filename=\"seed-bridge.tar.gz\"");
    let work = tempfile::tempdir().unwrap();
    let tarball = work.path().join("seed-bridge.tar.gz");
    std::fs::write(&tarball, response.bytes().await.unwrap()).unwrap();
    let unpacked = Command::new("tar").arg("xzf").arg(&tarball).arg("-C").arg(work.path()).status().unwrap();
    assert!(unpacked.success());
    let cli = work.path().join("cli");
    nslab(&["export", "--format", "kathara", "-o", cli.to_str().unwrap(), lab.to_str().unwrap()]);
    let served = files_in(&work.path().join("seed-bridge"));
    assert!(served.iter().any(|(path, _)| path == "lab.conf"), "{served:?}");
    assert_eq!(served, files_in(&cli));
}

/// A folder's files (path, text), sorted.
fn files_in(folder: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            files.push((entry.file_name().to_string_lossy().into_owned(), text));
        }
    }
    files.sort();
    files
}
