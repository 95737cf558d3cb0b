//! Other tools' labs: real files from containerlab, Kathará, CORE, Mininet and GNS3 import
//! as their golden files say (nodes, links, addresses and what is named as left out); the
//! exports read back as the same lab; third-party readers accept the exports; garbage is
//! refused with its place.
//!
//! `NSLAB_BLESS=1 cargo test -p nslab-model --test import_formats` rewrites the golden files
//! (then read the diff).

use std::path::{Path, PathBuf};

use nslab_model::export::Format;
use nslab_model::import::{import, Imported, Source, SourceFiles};
use nslab_model::{Lab, Link, Node};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One file as the CLI gives it.
fn one_file(relative: &str) -> SourceFiles {
    let path = fixtures().join(relative);
    SourceFiles::one(path.file_name().unwrap().to_string_lossy(), read(&path))
}

/// A folder as the CLI gives it: `main` first, then the other files, by name.
fn folder(relative: &str, main: &str) -> SourceFiles {
    let dir = fixtures().join(relative);
    let mut names: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|entry| entry.unwrap().file_name().to_string_lossy().into()).collect();
    names.sort();
    names.retain(|name| name != main && !name.ends_with(".golden.json"));
    let mut files = vec![(main.to_string(), read(&dir.join(main)))];
    files.extend(names.into_iter().map(|name| {
        let text = read(&dir.join(&name));
        (name, text)
    }));
    SourceFiles { files }
}

/// Compares the import with its golden file, or writes it under NSLAB_BLESS.
fn check_golden(imported: &Imported, golden: &str) {
    let path = fixtures().join(golden);
    let mut text = serde_json::to_string_pretty(imported).unwrap();
    text.push('\n');
    if std::env::var_os("NSLAB_BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let expected = read(&path);
    assert!(text == expected, "{golden} differs; the import gives:\n{text}");
}

fn golden_import(source: Source, files: &SourceFiles, lab_name: &str, golden: &str) -> Imported {
    let imported = import(source, files, lab_name).unwrap_or_else(|e| panic!("{golden}: {e}"));
    check_golden(&imported, golden);
    imported
}

fn names(lab: &Lab) -> Vec<(&'static str, &str)> {
    lab.nodes.iter().map(|node| (node.kind_word(), node.name())).collect()
}

fn end_addresses(lab: &Lab, node: &str, interface: &str) -> Vec<String> {
    lab.links
        .iter()
        .flat_map(Link::ends)
        .find(|end| end.node == node && end.name == interface)
        .unwrap_or_else(|| panic!("no `{interface}` on {node}"))
        .addresses
        .clone()
}

fn left_out_places(imported: &Imported) -> Vec<&str> {
    imported.left_out.iter().map(|item| item.place.as_str()).collect()
}

fn examples() -> Vec<Lab> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|entry| entry.unwrap().path()).collect();
    paths.sort();
    paths
        .into_iter()
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .map(|path| serde_json::from_str(&read(&path)).unwrap())
        .collect()
}

/// The lab with positions rounded to a hundredth, as the formats write them.
fn rounded(mut lab: Lab) -> Lab {
    for node in &mut lab.nodes {
        let editor = match node {
            Node::Host(host) => &mut host.editor,
            Node::Namespace(namespace) => &mut namespace.editor,
            Node::Bridge(bridge) => &mut bridge.editor,
        };
        if let Some(editor) = editor {
            editor.x = editor.x.map(|x| (x * 100.0).round() / 100.0);
            editor.y = editor.y.map(|y| (y * 100.0).round() / 100.0);
        }
    }
    lab
}

// containerlab

#[test]
fn containerlab_examples_import_with_their_nodes_addresses_and_leftovers() {
    let frr = golden_import(Source::Clab, &one_file("clab/frr01.clab.yml"), "frr01", "clab/frr01.golden.json");
    assert_eq!(
        names(&frr.lab),
        [
            ("namespace", "router1"),
            ("namespace", "router2"),
            ("namespace", "router3"),
            ("namespace", "PC1"),
            ("namespace", "PC2"),
            ("namespace", "PC3")
        ]
    );
    assert_eq!(frr.lab.links.len(), 6);
    assert_eq!(end_addresses(&frr.lab, "PC1", "eth1"), ["192.168.11.2/24"]);
    let Some(Node::Namespace(pc1)) = frr.lab.node("PC1") else { panic!() };
    assert_eq!(pc1.routes.len(), 2);
    let places = left_out_places(&frr);
    assert!(places.contains(&"topology.groups.routers.image"), "{places:?}");
    assert!(places.contains(&"topology.nodes.router1.binds"), "{places:?}");

    let bridge = golden_import(Source::Clab, &one_file("clab/br01.clab.yml"), "br01", "clab/br01.golden.json");
    assert!(matches!(bridge.lab.node("br-clab"), Some(Node::Bridge(_))));
    assert_eq!(bridge.lab.links.len(), 3);
    assert!(left_out_places(&bridge).contains(&"topology.nodes.srl1.kind"));

    golden_import(Source::Clab, &one_file("clab/freebsd01.clab.yml"), "freebsd01", "clab/freebsd01.golden.json");
    let host = golden_import(Source::Clab, &one_file("clab/vxlan-vmx.clab.yml"), "vxlan", "clab/vxlan-vmx.golden.json");
    assert!(matches!(host.lab.node("host"), Some(Node::Host(_))));

    let linux = golden_import(
        Source::Clab,
        &one_file("clab/01-linux-nodes.clab.yml"),
        "linux",
        "clab/01-linux-nodes.golden.json",
    );
    let places = left_out_places(&linux);
    for expected in ["topology.links[4]", "topology.links[5]", "topology.nodes.l1.exec[0]", "topology.nodes.l2.dns"] {
        assert!(places.contains(&expected), "{expected} not in {places:?}");
    }
    let vars = golden_import(
        Source::Clab,
        &one_file("clab/25-link-vars-ip.clab.yml"),
        "vars",
        "clab/25-link-vars-ip.golden.json",
    );
    assert_eq!(end_addresses(&vars.lab, "n1", "e1-1"), ["192.168.0.1/24", "2001:db8:abc1::1/64"]);
    assert_eq!(end_addresses(&vars.lab, "n2", "e1-3"), ["192.168.3.2/24", "2001:db8:abc3::2/64"]);
    assert_eq!(end_addresses(&vars.lab, "n3", "e1-1"), ["192.168.0.3/24", "2001:db8:abc1::3/64"]);
}

#[test]
fn containerlab_groups_kinds_and_defaults_are_read_as_containerlab_reads_them() {
    let text = r#"
name: layers
topology:
  defaults:
    kind: linux
    exec: ["sysctl -w net.ipv4.ip_forward=1"]
    labels: {graph-posX: "10", graph-posY: "20"}
  kinds:
    linux:
      image: alpine
      exec: ["ip link set dev eth1 mtu 1400"]
  groups:
    edge:
      labels: {graph-posY: "30"}
      exec: ["ip addr add 10.0.0.1/24 dev eth1"]
  nodes:
    a: {group: edge}
    b:
      labels: {graph-posX: "99"}
    c: {kind: bridge}
  links:
    - endpoints: ["a:eth1", "b:eth1"]
"#;
    let imported = import(Source::Clab, &SourceFiles::one("l.clab.yml", text), "layers").unwrap();
    let lab = &imported.lab;
    let Some(Node::Namespace(a)) = lab.node("a") else { panic!() };
    assert!(a.ipv4_forwarding, "the default's exec line runs in every node");
    let editor = a.editor.as_ref().unwrap();
    assert_eq!((editor.x, editor.y), (Some(10.0), Some(30.0)), "the group's label wins over the default's");
    let b = lab.node("b").unwrap().editor().unwrap();
    assert_eq!((b.x, b.y), (Some(99.0), Some(20.0)));
    assert!(matches!(lab.node("c"), Some(Node::Bridge(_))), "the node's kind wins over the default kind");
    let Link::Veth(veth) = &lab.links[0];
    assert_eq!((veth.a.mtu, veth.b.mtu), (Some(1400), Some(1400)), "the kind's exec line runs in its nodes");
    assert_eq!(veth.a.addresses, ["10.0.0.1/24"]);
    assert!(veth.b.addresses.is_empty(), "the group's exec line runs only in its nodes");
    assert_eq!(left_out_places(&imported), ["topology", "topology.kinds.linux.image"], "named once, not per node");
}

#[test]
fn bad_containerlab_files_are_refused_with_their_place() {
    let cases = [
        ("nodes: [a, b]\n", "t.clab.yml: not a containerlab topology: it has no `topology:`"),
        ("topology:\n  nodes:\n    a: {kind: linux\n", "t.clab.yml line 4"),
        ("topology: [1]\n", "topology: not a containerlab topology: `topology` must be a mapping"),
        (
            "topology:\n  nodes:\n    a: {kind: linux}\n  links:\n    - endpoints: [\"a:eth1\"]\n",
            "topology.links[0].endpoints: a link has 2 ends, not 1",
        ),
        (
            "topology:\n  nodes:\n    a: {kind: linux}\n  links:\n    - endpoints: [\"a:eth1\", \"b:eth1\"]\n",
            "topology.links[0].endpoints[1]: `b` is not a node of `topology.nodes`",
        ),
        ("topology:\n  nodes:\n    a: {}\n", "topology.nodes.a: the node has no `kind`"),
        ("- just\n- a list\n", "t.clab.yml: not a containerlab topology: the file is not a YAML mapping"),
    ];
    for (text, expected) in cases {
        let error = import(Source::Clab, &SourceFiles::one("t.clab.yml", text), "t").unwrap_err().to_string();
        assert!(error.starts_with(expected), "{text}: {error}");
    }
}

#[test]
fn a_yaml_bomb_is_refused_not_expanded() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for level in 1..10 {
        let previous = level - 1;
        text.push_str(&format!(
            "a{level}: &a{level} [*a{previous}, *a{previous}, *a{previous}, *a{previous}, *a{previous}, *a{previous}, *a{previous}, *a{previous}, *a{previous}, *a{previous}]\n"
        ));
    }
    text.push_str("topology:\n  nodes:\n    n: {kind: linux, exec: *a9}\n");
    let error = import(Source::Clab, &SourceFiles::one("bomb.clab.yml", &text), "bomb").unwrap_err();
    assert!(error.message.contains("repetition limit exceeded"), "{error}");
}

// Kathará

#[test]
fn kathara_labs_import_with_domains_as_bridges_or_veths_and_startup_addresses() {
    let files = folder("kathara/static-routing", "lab.conf");
    let routing = golden_import(Source::Kathara, &files, "static-routing", "kathara/static-routing.golden.json");
    assert_eq!(
        names(&routing.lab),
        [("namespace", "r1"), ("namespace", "r2"), ("namespace", "pc1"), ("namespace", "pc2")],
        "A, B and C have two members each: each is a veth"
    );
    assert_eq!(routing.lab.links.len(), 3);
    assert_eq!(end_addresses(&routing.lab, "r1", "eth1"), ["100.0.0.9/30"]);
    assert_eq!(end_addresses(&routing.lab, "pc2", "eth0"), ["200.1.1.7/24"]);
    assert!(routing.lab.description.starts_with("A simple example showing how to configure static routes"));
    let places = left_out_places(&routing);
    assert!(places.contains(&"lab.conf line 2"), "LAB_VERSION: {places:?}");

    let six = golden_import(
        Source::Kathara,
        &folder("kathara/basic-ipv6", "lab.conf"),
        "ipv6",
        "kathara/basic-ipv6.golden.json",
    );
    let Link::Veth(veth) = six.lab.links.iter().find(|Link::Veth(v)| v.a.node == "r1" && v.a.name == "eth1").unwrap();
    assert_eq!(veth.a.mac.as_deref(), Some("00:00:00:00:00:b1"));
    let what: Vec<&str> = six.left_out.iter().map(|item| item.what.as_str()).collect();
    assert!(what.contains(&"`systemctl start radvd`"), "{what:?}");

    let rip = golden_import(Source::Kathara, &folder("kathara/rip", "lab.conf"), "rip", "kathara/rip.golden.json");
    assert_eq!(rip.lab.nodes.iter().filter(|node| matches!(node, Node::Bridge(_))).count(), 4, "A, B, C, D");
    assert_eq!(end_addresses(&rip.lab, "r5", "eth0"), ["100.2.0.2/30"]);
}

#[test]
fn kathara_files_a_lab_does_not_read_are_named() {
    let mut files = SourceFiles::one("lab/lab.conf", "r1[0]=\"A\"\nr1[image]=\"kathara/frr\"\n");
    files.files.push(("lab/r1.startup".into(), "ip addr add 10.0.0.1/24 dev eth0\nsystemctl start frr\n".into()));
    files.files.push(("lab/r1/etc/frr/frr.conf".into(), "router rip\n".into()));
    files.files.push(("lab/r1/etc/frr/daemons".into(), "ripd=yes\n".into()));
    files.files.push(("lab/shared.startup".into(), "sysctl -w net.ipv4.ip_forward=1\n".into()));
    let imported = import(Source::Kathara, &files, "lab").unwrap();
    let items: Vec<String> = imported.left_out.iter().map(ToString::to_string).collect();
    assert_eq!(
        items,
        [
            "lab/lab.conf line 2: `r1[image]=kathara/frr`",
            "r1.startup line 2: `systemctl start frr`",
            "lab/r1/: 2 files copied into r1 (`r1/etc/frr/frr.conf`, `r1/etc/frr/daemons`)",
        ]
    );
    let Some(Node::Namespace(r1)) = imported.lab.node("r1") else { panic!() };
    assert!(r1.ipv4_forwarding, "shared.startup runs in every device");
}

#[test]
fn bad_kathara_files_are_refused_with_their_line() {
    let cases = [
        ("r1[0]=\"A\"\nthis is not kathara\n", "lab.conf line 2: not a Kathará lab.conf line"),
        ("r1[0]=\"A\"\nr1[0]=\"B\"\n", "lab.conf line 2: `r1[0]` is given twice"),
        ("LAB_DESCRIPTION=\"nothing\"\n", "lab.conf: not a Kathará lab: lab.conf names no device"),
        ("r1[0]=\"\"\n", "lab.conf line 1: `r1[0]` names no collision domain"),
        ("r1[0]=A\n# nslab {oops\n", "lab.conf line 2: the `# nslab` line does not read"),
    ];
    for (text, expected) in cases {
        let error = import(Source::Kathara, &SourceFiles::one("lab.conf", text), "t").unwrap_err().to_string();
        assert!(error.starts_with(expected), "{text}: {error}");
    }
}

// CORE

#[test]
fn core_scenarios_import_with_devices_switches_options_and_named_services() {
    let one = golden_import(Source::Core, &one_file("core/tutorial1.xml"), "tutorial1", "core/tutorial1.golden.json");
    assert_eq!(names(&one.lab), [("namespace", "n1"), ("namespace", "n2")]);
    assert_eq!(end_addresses(&one.lab, "n1", "eth0"), ["10.0.0.20/24", "2001::14/64"]);
    let n1 = one.lab.node("n1").unwrap().editor().unwrap();
    assert_eq!((n1.x, n1.y), (Some(250.0), Some(250.0)));
    assert!(one.left_out.iter().any(|item| item.what == "the service `DefaultRoute` of n1"), "{:?}", one.left_out);

    let sample = golden_import(Source::Core, &one_file("core/sample1.xml"), "sample1", "core/sample1.golden.json");
    assert!(matches!(sample.lab.node("n4"), Some(Node::Bridge(_))), "the SWITCH is a bridge");
    let Some(Node::Namespace(n1)) = sample.lab.node("n1") else { panic!() };
    assert!(n1.ipv4_forwarding && n1.ipv6_forwarding, "IPForward");
    let Link::Veth(to_switch) = sample.lab.links.iter().find(|Link::Veth(v)| v.a.node == "n4").unwrap();
    assert_eq!(to_switch.b.netem.as_ref().and_then(|n| n.rate.as_deref()), Some("100mbit"), "bandwidth");
    let what: Vec<&str> = sample.left_out.iter().map(|item| item.what.as_str()).collect();
    assert!(what.contains(&"the WIRELESS_LAN network `wlan10`"), "{what:?}");
    assert!(what.contains(&"a link to the WIRELESS_LAN network `wlan10`"), "{what:?}");

    golden_import(Source::Core, &one_file("core/tutorial2.xml"), "tutorial2", "core/tutorial2.golden.json");
}

#[test]
fn xml_with_a_dtd_or_external_entities_is_refused_and_nothing_is_read() {
    let texts = [
        "<?xml version=\"1.0\"?>\n<!DOCTYPE scenario [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<scenario>&x;</scenario>",
        "<?xml version=\"1.0\"?>\n<!DOCTYPE scenario [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]>\n<scenario>&b;</scenario>",
    ];
    for text in texts {
        let error = import(Source::Core, &SourceFiles::one("s.xml", text), "s").unwrap_err();
        assert!(error.message.contains("not a CORE scenario") && error.message.contains("DTD"), "{error}");
    }
}

#[test]
fn bad_core_files_are_refused_with_their_line() {
    let cases = [
        ("<html><body/></html>", "s.xml: not a CORE scenario: the root element is `<html>`"),
        ("<scenario>\n<devices>\n</scenario>", "s.xml line 3: not a CORE scenario"),
        (
            "<scenario>\n<devices/>\n<links>\n<link node1=\"1\" node2=\"2\"/>\n</links>\n</scenario>",
            "s.xml line 4: `node1=\"1\"` is no device or network of the scenario",
        ),
    ];
    for (text, expected) in cases {
        let error = import(Source::Core, &SourceFiles::one("s.xml", text), "s").unwrap_err().to_string();
        assert!(error.starts_with(expected), "{text}: {error}");
    }
}

// Round trips and third-party readers

/// nslab -> format -> nslab gives the lab back (positions within rounding); the
/// description where the format holds it.
fn round_trip(format: Format, source: Source, lab: &Lab, keeps_description: bool) -> Imported {
    let files = SourceFiles { files: format.render_files(lab) };
    let back = import(source, &files, &lab.name).unwrap_or_else(|e| panic!("{}: {e}\n{:?}", lab.name, files.files));
    let mut expected = rounded(lab.clone());
    let mut got = rounded(back.lab.clone());
    if !keeps_description {
        expected.description.clear();
        got.description.clear();
    }
    assert_eq!(got, expected, "{} through {}:\n{}", lab.name, format.name(), files.files[0].1);
    back
}

#[test]
fn the_examples_go_through_containerlab_kathara_and_core_and_come_back_the_same() {
    for lab in examples() {
        let clab = round_trip(Format::Clab, Source::Clab, &lab, false);
        let places = left_out_places(&clab);
        // The management network is named unless every node went without it (an `eth0`
        // of its own: `network-mode: none`).
        let managed = lab.nodes.iter().any(|node| {
            matches!(node, Node::Namespace(_))
                && !lab.links.iter().flat_map(Link::ends).any(|end| end.node == node.name() && end.name == "eth0")
        });
        let expected: &[&str] =
            if managed { &["topology", "topology.kinds.linux.image"] } else { &["topology.kinds.linux.image"] };
        assert_eq!(places, expected, "{}: only what nslab added", lab.name);
        let kathara = round_trip(Format::Kathara, Source::Kathara, &lab, true);
        assert_eq!(kathara.left_out, vec![], "{}", lab.name);
        let core = round_trip(Format::Core, Source::Core, &lab, true);
        assert_eq!(core.left_out, vec![], "{}", lab.name);
    }
}

#[test]
fn a_lab_with_every_setting_comes_back_the_same_through_each_format() {
    let lab: Lab = serde_json::from_str(include_str!("fixtures/import/every-setting.json")).unwrap();
    round_trip(Format::Clab, Source::Clab, &lab, false);
    round_trip(Format::Kathara, Source::Kathara, &lab, true);
    round_trip(Format::Core, Source::Core, &lab, true);
}

#[test]
fn containerlab_exports_validate_against_containerlab_s_schema() {
    let schema: serde_json::Value = serde_json::from_str(&read(&fixtures().join("clab/clab.schema.json"))).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let mut labs = examples();
    labs.push(serde_json::from_str(include_str!("fixtures/import/every-setting.json")).unwrap());
    for lab in labs {
        let yaml = Format::Clab.render(&lab);
        let document: serde_json::Value = serde_norway::from_str(&yaml).unwrap();
        let errors: Vec<String> =
            validator.iter_errors(&document).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{}:\n{yaml}\n{errors:#?}", lab.name);
    }
    // The schema does catch a wrong topology: the check can fail.
    let wrong: serde_json::Value = serde_norway::from_str("name: x\ntopology:\n  nodes:\n    a: {kind: 3}\n").unwrap();
    assert!(!validator.is_valid(&wrong));
}

#[test]
fn mininet_scripts_compile_with_python() {
    let dir = std::env::temp_dir().join(format!("nslab-mininet-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut labs = examples();
    labs.push(serde_json::from_str(include_str!("fixtures/import/every-setting.json")).unwrap());
    for lab in labs {
        let path = dir.join(format!("{}.py", lab.name.replace('-', "_")));
        let script = Format::Mininet.render(&lab);
        for end in lab.links.iter().flat_map(Link::ends) {
            assert!(script.contains(&format!("\"{}\"", end.name)), "{}: `{}` is named", lab.name, end.name);
        }
        std::fs::write(&path, &script).unwrap();
        let output = std::process::Command::new("python3").args(["-m", "py_compile"]).arg(&path).output().unwrap();
        assert!(output.status.success(), "{}:\n{script}\n{}", lab.name, String::from_utf8_lossy(&output.stderr));
    }
    std::fs::write(dir.join("broken.py"), "def (:\n").unwrap();
    let output =
        std::process::Command::new("python3").args(["-m", "py_compile"]).arg(dir.join("broken.py")).output().unwrap();
    assert!(!output.status.success(), "py_compile does refuse a broken script");
    std::fs::remove_dir_all(&dir).unwrap();
}

// MiniEdit

#[test]
fn miniedit_files_import_with_mininet_s_interface_names_numbered_addresses_and_positions() {
    let looped = golden_import(
        Source::Miniedit,
        &one_file("miniedit/l2_with_loop.mn"),
        "loop",
        "miniedit/l2_with_loop.golden.json",
    );
    assert!(matches!(looped.lab.node("s1"), Some(Node::Bridge(_))), "switches are bridges");
    assert!(matches!(looped.lab.node("h1"), Some(Node::Namespace(_))), "hosts are namespaces");
    assert_eq!(looped.lab.links.len(), 14);
    let Link::Veth(first) = &looped.lab.links[0];
    assert_eq!(
        (first.a.name.as_str(), first.b.name.as_str()),
        ("s1-eth1", "h2-eth0"),
        "hosts count from 0, switches from 1"
    );
    let Link::Veth(between_switches) = &looped.lab.links[6];
    assert_eq!((between_switches.a.name.as_str(), between_switches.b.name.as_str()), ("s1-eth2", "s3-eth2"));
    assert_eq!(end_addresses(&looped.lab, "h1", "h1-eth0"), ["10.0.0.1/8"], "numbered in ipBase when it has no ip");
    let h8 = looped.lab.node("h8").unwrap().editor().unwrap();
    assert_eq!((h8.x, h8.y), (Some(917.0), Some(561.0)));
    assert!(looped.left_out.iter().any(|item| item.what.starts_with("the OpenFlow controller c0")));

    // Its hosts are h1, h2, h4, h5 and h6: the address follows the host's number, not its rank.
    let balanced =
        golden_import(Source::Miniedit, &one_file("miniedit/app_rr_lb.mn"), "lb", "miniedit/app_rr_lb.golden.json");
    assert_eq!(end_addresses(&balanced.lab, "h4", "h4-eth0"), ["10.0.0.4/8"]);
    assert_eq!(end_addresses(&balanced.lab, "h6", "h6-eth0"), ["10.0.0.6/8"]);
}

/// No licensed MiniEdit save found sets `ip`, `defaultRoute` or link options, so this file
/// is nslab's own, written as MiniEdit writes them.
#[test]
fn miniedit_ip_default_route_and_tc_link_options_are_read() {
    let text = r#"{
    "application": {"ipBase": "10.0.0.0/8"},
    "hosts": [
        {"number": "1", "opts": {"hostname": "h1", "nodeNum": 1, "ip": "10.0.1.2/24", "defaultRoute": "10.0.1.1"}, "x": "94.0", "y": "84.0"},
        {"number": "2", "opts": {"hostname": "h2", "nodeNum": 2, "ip": "10.0.1.3"}, "x": "76.0", "y": "259.0"}
    ],
    "switches": [{"number": "1", "opts": {"hostname": "s1", "nodeNum": 1, "switchType": "legacySwitch"}, "x": "200.0", "y": "150.0"}],
    "links": [
        {"src": "h1", "dest": "s1", "opts": {"bw": 5, "delay": "5", "max_queue_size": 10}},
        {"src": "s1", "dest": "h2", "opts": {}}
    ]
}"#;
    let imported = import(Source::Miniedit, &SourceFiles::one("t.mn", text), "t").unwrap();
    assert_eq!(end_addresses(&imported.lab, "h1", "h1-eth0"), ["10.0.1.2/24"]);
    assert_eq!(end_addresses(&imported.lab, "h2", "h2-eth0"), ["10.0.1.3/8"], "/8 when the ip has no length");
    let Some(Node::Namespace(h1)) = imported.lab.node("h1") else { panic!() };
    assert_eq!(h1.routes[0].via.as_deref(), Some("10.0.1.1"), "defaultRoute");
    let Link::Veth(shaped) = &imported.lab.links[0];
    let netem = shaped.a.netem.as_ref().unwrap();
    assert_eq!((netem.rate.as_deref(), netem.delay.as_deref(), netem.limit), (Some("5mbit"), Some("5us"), Some(10)));
    assert_eq!(shaped.b.netem, shaped.a.netem, "TCLink shapes both ends");
    let Link::Veth(plain) = &imported.lab.links[1];
    assert_eq!(plain.a.netem, None);
}

#[test]
fn bad_miniedit_files_are_refused_with_their_place() {
    let cases = [
        ("{\"hosts\": [", "t.mn line 1: not a MiniEdit file"),
        ("{\"version\": \"2\"}", "t.mn: not a MiniEdit file: it has no `hosts` nor `switches`"),
        (
            "{\"hosts\": [{\"number\": \"1\", \"opts\": {\"hostname\": \"h1\"}}], \"links\": [{\"src\": \"h1\", \"dest\": \"s9\"}]}",
            "links[0].dest: `s9` is no host or switch of the file",
        ),
        ("{\"hosts\": {}}", "hosts: not a MiniEdit file: `hosts` must be a list"),
    ];
    for (text, expected) in cases {
        let error = import(Source::Miniedit, &SourceFiles::one("t.mn", text), "t").unwrap_err().to_string();
        assert!(error.starts_with(expected), "{text}: {error}");
    }
}

// GNS3

#[test]
fn gns3_projects_import_with_docker_and_vpcs_nodes_switches_and_named_leftovers() {
    let simple = golden_import(
        Source::Gns3,
        &one_file("gns3/tcp-ip-lab-fig-1.3.gns3"),
        "fig13",
        "gns3/tcp-ip-lab-fig-1.3.golden.json",
    );
    assert!(matches!(simple.lab.node("switch"), Some(Node::Bridge(_))), "an Ethernet switch is a bridge");
    assert!(matches!(simple.lab.node("h0.netlab"), Some(Node::Namespace(_))), "a docker node is a namespace");
    assert_eq!(simple.lab.links.len(), 8);
    let what: Vec<&str> = simple.left_out.iter().map(|item| item.what.as_str()).collect();
    assert!(what.contains(&"the image `utnetlab/term:latest` of h0.netlab"), "{what:?}");
    let h0 = simple.lab.node("h0.netlab").unwrap().editor().unwrap();
    assert_eq!((h0.x, h0.y), (Some(-53.0), Some(-163.0)));

    let vpcs = golden_import(Source::Gns3, &one_file("gns3/1_5_vpcs.gns3"), "vpcs", "gns3/1_5_vpcs.golden.json");
    assert_eq!(names(&vpcs.lab), [("namespace", "PC1"), ("namespace", "PC2")]);
    assert_eq!(vpcs.lab.links.len(), 1);
    let internet =
        golden_import(Source::Gns3, &one_file("gns3/1_5_internet.gns3"), "internet", "gns3/1_5_internet.golden.json");
    assert!(internet.lab.node("Internet 0.1-1").is_none(), "the NAT node is left out");
    let what: Vec<&str> = internet.left_out.iter().map(|item| item.what.as_str()).collect();
    assert!(what.contains(&"the nat node Internet 0.1-1"), "{what:?}");
    assert!(what.contains(&"a link to the nat node Internet 0.1-1"), "{what:?}");
    golden_import(
        Source::Gns3,
        &one_file("gns3/1_5_docker_remote.gns3"),
        "docker",
        "gns3/1_5_docker_remote.golden.json",
    );
}

#[test]
fn bad_gns3_files_are_refused_with_their_place() {
    let builtins = one_file("gns3/builtins.gns3");
    let error = import(Source::Gns3, &builtins, "builtins").unwrap_err().to_string();
    assert_eq!(
        error, "topology.nodes[1]: the node id `ANYUUID` is given twice",
        "GNS3's own test template, ids unfilled"
    );
    let cases = [
        ("{\"type\": \"topology\"}", "t.gns3: not a GNS3 project: it has no `topology.nodes`"),
        ("{\"topology\": {\"nodes\": [{\"name\": \"a\"}]}}", "topology.nodes[0]: not a GNS3 project: a node needs"),
        (
            "{\"topology\": {\"nodes\": [], \"links\": [{\"nodes\": [{\"node_id\": \"x\"}, {\"node_id\": \"y\"}]}]}}",
            "topology.links[0].nodes[0]: `x` is no node of the project",
        ),
        ("{\"topology\": ", "t.gns3 line 1: not a GNS3 project"),
    ];
    for (text, expected) in cases {
        let error = import(Source::Gns3, &SourceFiles::one("t.gns3", text), "t").unwrap_err().to_string();
        assert!(error.starts_with(expected), "{text}: {error}");
    }
}

// Generated labs

mod generated {
    use nslab_model::netem::Netem;
    use nslab_model::{BridgeNode, EditorData, Endpoint, NamespaceNode, Route, VethLink};
    use proptest::prelude::*;

    use super::*;

    /// What a generated namespace end may carry.
    fn settings() -> impl Strategy<Value = (Vec<String>, Option<u32>, Option<String>, bool, Option<Netem>)> {
        let address = (1u8..250, 0u8..4).prop_map(|(host, net)| format!("10.{net}.0.{host}/24"));
        let six = (1u16..250).prop_map(|host| format!("fd00::{host:x}/64"));
        let netem = prop_oneof![
            Just(None),
            Just(Some(Netem { delay: Some("10ms".into()), ..Netem::default() })),
            Just(Some(Netem {
                delay: Some("5ms".into()),
                jitter: Some("1ms".into()),
                loss: Some("2%".into()),
                ..Netem::default()
            })),
            Just(Some(Netem { rate: Some("10mbit".into()), limit: Some(50), ..Netem::default() })),
        ];
        (
            proptest::collection::vec(prop_oneof![address, six], 0..3),
            proptest::option::of(prop_oneof![Just(1400u32), Just(9000u32)]),
            proptest::option::of((0u8..255).prop_map(|last| format!("02:00:00:00:01:{last:02x}"))),
            any::<bool>(),
            netem,
        )
    }

    /// Labs of namespaces and host bridges, linked at random, with what every format
    /// carries: addresses, MTU, MAC, state and netem on namespace ends, a MAC on bridge
    /// ends, forwarding, routes, positions.
    pub fn lab() -> impl Strategy<Value = Lab> {
        let nodes = (1usize..5, 0usize..3);
        nodes
            .prop_flat_map(|(namespaces, bridges)| {
                let count = namespaces + bridges;
                let link = (0..count, 0..count, settings(), settings(), proptest::option::of(0u8..255));
                let namespace =
                    (any::<[bool; 3]>(), proptest::collection::vec((0u8..4, 1u8..250, any::<bool>()), 0..3));
                (
                    Just((namespaces, bridges)),
                    proptest::collection::vec(namespace, namespaces),
                    proptest::collection::vec(link, 0..6),
                    proptest::collection::vec((0i32..20, 0i32..20), count),
                )
            })
            .prop_map(|((namespaces, bridges), flags, links, places)| {
                let mut lab = Lab::new("generated");
                for (index, (flags, routes)) in flags.into_iter().enumerate() {
                    let mut namespace = NamespaceNode::new(format!("n{index}"));
                    [namespace.loopback_up, namespace.ipv4_forwarding, namespace.ipv6_forwarding] = flags;
                    namespace.routes = routes
                        .into_iter()
                        .enumerate()
                        .map(|(at, (net, gateway, metric))| Route {
                            to: format!("172.{}.{at}.0/24", 16 + net),
                            via: Some(format!("10.0.0.{gateway}")),
                            dev: None,
                            metric: metric.then_some(10 + at as u32),
                        })
                        .collect();
                    lab.nodes.push(Node::Namespace(namespace));
                }
                for index in 0..bridges {
                    lab.nodes.push(Node::Bridge(BridgeNode::new(format!("br{index}"))));
                }
                for (node, (x, y)) in lab.nodes.iter_mut().zip(places) {
                    let editor = Some(EditorData {
                        x: Some(f64::from(x * 40)),
                        y: Some(f64::from(y * 40)),
                        ..EditorData::default()
                    });
                    match node {
                        Node::Namespace(namespace) => namespace.editor = editor,
                        Node::Bridge(bridge) => bridge.editor = editor,
                        Node::Host(host) => host.editor = editor,
                    }
                }
                let mut counts = vec![0; namespaces + bridges];
                let mut port = 0;
                for (a, b, a_settings, b_settings, bridge_mac) in links {
                    let mut end = |index: usize,
                                   (addresses, mtu, mac, up, netem): (
                        Vec<String>,
                        Option<u32>,
                        Option<String>,
                        bool,
                        Option<Netem>,
                    )| {
                        if index >= namespaces {
                            port += 1;
                            let mut end = Endpoint::new(format!("br{}", index - namespaces), format!("p{port}"));
                            end.mac = bridge_mac.map(|last| format!("02:00:00:00:02:{last:02x}"));
                            return end;
                        }
                        counts[index] += 1;
                        let mut end = Endpoint::new(format!("n{index}"), format!("if{}", counts[index]));
                        let mut seen = Vec::new();
                        end.addresses = addresses
                            .into_iter()
                            .filter(|a| {
                                !seen.contains(a) && {
                                    seen.push(a.clone());
                                    true
                                }
                            })
                            .collect();
                        (end.mtu, end.mac, end.up, end.netem) = (mtu, mac, up, netem);
                        end
                    };
                    let (a, b) = (end(a, a_settings), end(b, b_settings));
                    lab.links.push(Link::Veth(VethLink { a, b, editor: None }));
                }
                lab
            })
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    #[test]
    fn generated_labs_go_through_each_format_and_come_back_the_same(lab in generated::lab()) {
        round_trip(Format::Clab, Source::Clab, &lab, false);
        round_trip(Format::Kathara, Source::Kathara, &lab, true);
        round_trip(Format::Core, Source::Core, &lab, true);
    }
}
