//! The `ip` importer on whole labs: the seed article's two labs typed as a student would
//! (golden files), and round trips lab -> `ip` script -> lab over the bundled examples and
//! generated labs.

use std::path::PathBuf;

use nslab_model::export::to_ip_script;
use nslab_model::formats::ip_script::parse_script;
use nslab_model::lab::{BridgeNode, Endpoint, HostNode, Lab, Link, NamespaceNode, Node, Route, VethLink};
use nslab_model::netem::Netem;
use nslab_model::{validate, Severity};
use proptest::prelude::*;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn example(name: &str) -> Lab {
    let text = std::fs::read_to_string(repo().join("examples").join(format!("{name}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// What the kernel gets of a lab: no description, no editor data, nodes in no order, netem
/// in the kernel's units.
fn kernel_parts(lab: &Lab) -> Lab {
    let mut lab = lab.clone();
    lab.description.clear();
    lab.editor = None;
    lab.nodes.sort_by(|a, b| (a.kind_word(), a.name()).cmp(&(b.kind_word(), b.name())));
    for node in &mut lab.nodes {
        match node {
            Node::Host(host) => host.editor = None,
            Node::Namespace(namespace) => namespace.editor = None,
            Node::Bridge(bridge) => bridge.editor = None,
        }
    }
    for Link::Veth(veth) in &mut lab.links {
        veth.editor = None;
        for end in [&mut veth.a, &mut veth.b] {
            end.netem = end.netem.as_ref().map(|netem| netem.parse().expect("a valid netem").to_netem());
        }
    }
    lab
}

/// The commands of the `up)` part of an exported script.
fn up_part(script: &str) -> String {
    let start = script.find("up)\n").expect("an up part") + 4;
    let end = start + script[start..].find("  ;;").expect("its end");
    script[start..end].to_string()
}

fn round_trip(lab: &Lab) -> Lab {
    let script = up_part(&to_ip_script(lab));
    let read = parse_script(&script, &lab.name);
    assert!(read.errors.is_empty(), "{:?}\n{script}", read.errors);
    assert!(read.imported.left_out.is_empty(), "{:?}\n{script}", read.imported.left_out);
    read.imported.lab
}

#[test]
fn the_seed_article_typed_by_a_student_imports_as_the_bundled_examples() {
    for name in ["seed-veth", "seed-bridge"] {
        let folder = repo().join("tests/fixtures/seed-article");
        let text = std::fs::read_to_string(folder.join(format!("{name}.txt"))).unwrap();
        let read = parse_script(&text, name);
        assert!(read.errors.is_empty(), "{name}: {:?}", read.errors);
        assert!(read.imported.left_out.is_empty(), "{name}: {:?}", read.imported.left_out);
        let lab = read.imported.lab;
        assert_eq!(kernel_parts(&lab), kernel_parts(&example(name)), "{name}");
        assert!(validate(&lab).is_empty(), "{name}: {:?}", validate(&lab));
        let golden = folder.join(format!("{name}.expected.json"));
        let written = nslab_model::export::to_json(&lab);
        if std::env::var_os("NSLAB_UPDATE_GOLDEN").is_some() {
            std::fs::write(&golden, &written).unwrap();
        }
        assert_eq!(
            written,
            std::fs::read_to_string(&golden).unwrap(),
            "{name}: golden file (NSLAB_UPDATE_GOLDEN=1 rewrites it)"
        );
    }
}

#[test]
fn every_bundled_example_comes_back_from_its_ip_script() {
    for entry in std::fs::read_dir(repo().join("examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|extension| extension != "json") {
            continue;
        }
        let lab: Lab = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(kernel_parts(&round_trip(&lab)), kernel_parts(&lab), "{}", path.display());
    }
}

/// A valid lab: `count` namespaces on a bridge (in the host or in a router namespace) or in
/// a chain, some with a host link, addresses, MTUs, MACs, ends down, forwarding, routes
/// and netem.
fn generated(count: usize, shape: u8, seed: Vec<u8>) -> Lab {
    let pick = |i: usize| seed.get(i % seed.len().max(1)).copied().unwrap_or(0);
    let mut lab = Lab::new("generated");
    let bridged = !shape.is_multiple_of(3);
    if shape % 3 == 2 {
        let mut router = NamespaceNode::new("router");
        router.ipv4_forwarding = true;
        router.ipv6_forwarding = pick(1).is_multiple_of(2);
        lab.nodes.push(Node::Namespace(router));
    }
    if bridged {
        let mut bridge = BridgeNode::new("br0");
        bridge.namespace = (shape % 3 == 2).then(|| "router".to_string());
        bridge.addresses = vec!["10.0.0.254/16".to_string()];
        bridge.up = !pick(2).is_multiple_of(5);
        bridge.mtu = (pick(3).is_multiple_of(4)).then_some(1400);
        lab.nodes.push(Node::Bridge(bridge));
    }
    for i in 0..count {
        let mut namespace = NamespaceNode::new(format!("n{i}"));
        namespace.loopback_up = !pick(i + 4).is_multiple_of(7);
        if pick(i + 5).is_multiple_of(3) {
            namespace.routes.push(Route {
                to: "default".into(),
                via: Some("10.0.0.254".into()),
                dev: None,
                metric: None,
            });
        }
        if pick(i + 6).is_multiple_of(4) {
            namespace.routes.push(Route {
                to: "192.168.0.0/24".into(),
                via: None,
                dev: Some("eth0".into()),
                metric: Some(10),
            });
        }
        lab.nodes.push(Node::Namespace(namespace));
        let other = if bridged {
            Endpoint::new("br0", format!("p{i}"))
        } else if i == 0 {
            continue;
        } else {
            Endpoint::new(format!("n{}", i - 1), "right")
        };
        let mut end = Endpoint::new(format!("n{i}"), "eth0");
        end.addresses.push(format!("10.0.{}.{}/16", i / 200, i % 200 + 1));
        if pick(i + 7).is_multiple_of(3) {
            end.addresses.push(format!("fd00::{:x}/64", i + 1));
        }
        end.mtu = (pick(i + 8).is_multiple_of(5)).then_some(1280 + i as u32);
        end.up = !pick(i + 9).is_multiple_of(6);
        end.mac = (pick(i + 10).is_multiple_of(4)).then(|| format!("02:00:00:00:{:02x}:{:02x}", i / 256, i % 256));
        if pick(i + 11).is_multiple_of(4) {
            end.netem = Some(Netem {
                delay: Some(format!("{}ms", pick(i) % 90 + 1)),
                loss: Some("1%".into()),
                ..Netem::default()
            });
        }
        lab.links.push(Link::Veth(VethLink { a: other, b: end, editor: None }));
    }
    if pick(0).is_multiple_of(2) && count > 0 {
        let mut host = HostNode::new("host");
        host.routes.push(Route { to: "10.9.0.0/16".into(), via: None, dev: Some("to-n0".into()), metric: None });
        lab.nodes.insert(0, Node::Host(host));
        let mut far = Endpoint::new("n0", "up0");
        far.addresses.push("10.9.0.2/16".into());
        lab.links.push(Link::Veth(VethLink { a: Endpoint::new("host", "to-n0"), b: far, editor: None }));
    }
    lab
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn generated_labs_come_back_from_their_ip_scripts(count in 0usize..12, shape in any::<u8>(), seed in proptest::collection::vec(any::<u8>(), 1..16)) {
        let lab = generated(count, shape, seed);
        let errors: Vec<_> = validate(&lab).into_iter().filter(|problem| problem.severity == Severity::Error).collect();
        prop_assume!(errors.is_empty(), "{:?}", errors);
        prop_assert_eq!(kernel_parts(&round_trip(&lab)), kernel_parts(&lab));
    }
}

/// Words scripts are made of, good and bad, with the shell's quoting and separators.
fn script_word() -> impl Strategy<Value = String> {
    const WORDS: &str = "ip -n -6 netns add del exec link set dev type veth bridge peer name master nomaster up down \
        mtu 1400 address 02:00:00:00:00:01 addr a l route default via 10.0.0.1 10.0.0.0/24 fd00::1/64 metric 5 \
        ns0 ns1 veth0 veth1 eth0 lo br0 ifconfig netmask 255.255.0.0 brctl addbr addif sysctl -w \
        net.ipv4.ip_forward=1 tc qdisc root netem delay 50ms loss 1% bash sh -c exit sudo # $ ; && | ' \" \\ > $i for done";
    let mut words: Vec<String> = WORDS.split_whitespace().map(str::to_string).collect();
    words.extend(["\n".to_string(), "\n".to_string(), "\n".to_string()]);
    prop_oneof![
        8 => proptest::sample::select(words),
        1 => "[a-z0-9/.:%-]{0,20}",
        1 => any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_text_reads_without_a_panic_and_every_error_names_a_line_of_it(words in proptest::collection::vec(script_word(), 0..60)) {
        let text = words.join(" ");
        let read = parse_script(&text, "fuzzed");
        let lines = text.lines().count().max(1);
        for error in &read.errors {
            prop_assert!(error.line >= 1 && error.line <= lines, "{} of {} lines: {}", error.line, lines, error.message);
        }
        let _ = nslab_model::export::to_json(&read.imported.lab);
    }
}
