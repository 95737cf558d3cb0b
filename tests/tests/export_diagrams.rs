//! `nslab export --format dot|mermaid|drawio` at the command line, and the DOT proved by a
//! third party: Graphviz's own `dot -Tsvg` renders it, a drawn node per lab node and a
//! drawn edge per veth. (The Mermaid and draw.io structure is checked in the model's
//! `shared/tests/export_diagrams.rs`.)

use std::process::Command;

use nslab_tests::paths::{example, lab_at, nslab_binary, EXAMPLES};
use nslab_tests::process::with_input;

fn export(format: &str, file: &str) -> String {
    let output = Command::new(nslab_binary()).args(["export", "--format", format, file]).output().expect("nslab runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("UTF-8")
}

/// The SVG Graphviz's `dot` draws of `dot_text`.
fn graphviz_svg(dot_text: &str) -> String {
    let mut dot = Command::new("dot");
    dot.arg("-Tsvg");
    let output = with_input(dot, dot_text);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success() && stderr.trim().is_empty(), "dot refused the graph: {stderr}\n{dot_text}");
    String::from_utf8(output.stdout).expect("UTF-8")
}

#[test]
fn graphviz_renders_the_dot_of_every_example_with_a_node_per_node_and_an_edge_per_veth() {
    let folder = tempfile::tempdir().unwrap();
    let mut files: Vec<String> = EXAMPLES.iter().map(|name| example(name).to_str().unwrap().to_string()).collect();
    // A description and names that DOT must quote: `"`, `\`, a line break.
    let mut odd = lab_at(&example("router"));
    odd.description = "a \"quoted\" \\ description\nover two lines".to_string();
    let odd_file = folder.path().join("odd.json");
    std::fs::write(&odd_file, nslab_model::export::to_json(&odd)).unwrap();
    files.push(odd_file.to_str().unwrap().to_string());
    for file in files {
        let lab = lab_at(std::path::Path::new(&file));
        let svg = graphviz_svg(&export("dot", &file));
        assert_eq!(svg.matches("class=\"node\"").count(), lab.nodes.len(), "{file}: {svg}");
        assert_eq!(svg.matches("class=\"edge\"").count(), lab.links.len(), "{file}");
        for node in &lab.nodes {
            assert!(svg.contains(&format!("<title>{}</title>", node.name())), "{file}: {}", node.name());
        }
    }
}

#[test]
fn each_drawing_format_is_offered_and_written_to_a_file() {
    let folder = tempfile::tempdir().unwrap();
    let lab = example("seed-bridge");
    for (format, start) in
        [("dot", "// nslab lab seed-bridge"), ("mermaid", "%% nslab lab seed-bridge"), ("drawio", "<mxfile")]
    {
        let out = folder.path().join(format!("lab.{format}"));
        let status = Command::new(nslab_binary())
            .args(["export", "--format", format, "-o", out.to_str().unwrap(), lab.to_str().unwrap()])
            .status()
            .expect("nslab runs");
        assert!(status.success(), "{format}");
        let written = std::fs::read_to_string(&out).unwrap();
        assert!(written.starts_with(start), "{format}: {written}");
        assert!(written.contains("172.17.0.101/16"), "{format}: the addresses are drawn");
    }
    let help = Command::new(nslab_binary()).args(["export", "--help"]).output().expect("nslab runs");
    let help = String::from_utf8_lossy(&help.stdout);
    for format in ["dot:", "mermaid:", "drawio:"] {
        assert!(help.contains(format), "{format} in {help}");
    }
}
