//! export -> import -> export is byte-identical, on generated labs (valid or not: the file
//! format must carry whatever the editor holds, half-typed addresses included).

use std::collections::BTreeMap;

use nslab_model::export::to_json;
use nslab_model::goals::{AddressGoal, ForwardingGoal, Goal, GoalFamily, ReachGoal, RouteGoal};
use nslab_model::*;
use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9-]{0,14}",
        "\\PC{0,20}",
        Just(String::new()),
        Just("quote\" back\\slash\nnewline\u{0}nul".to_string()),
    ]
}

fn address() -> impl Strategy<Value = String> {
    prop_oneof![
        (any::<[u8; 4]>(), 0u8..=32).prop_map(|(ip, prefix)| format!("{}/{prefix}", std::net::Ipv4Addr::from(ip))),
        (any::<[u16; 8]>(), 0u8..=128).prop_map(|(ip, prefix)| format!("{}/{prefix}", std::net::Ipv6Addr::from(ip))),
        text(),
    ]
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(serde_json::Value::from),
        text().prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            btree_map("[a-z]{1,6}", inner, 0..4).prop_map(|map| serde_json::Value::Object(map.into_iter().collect())),
        ]
    })
}

fn coordinate() -> impl Strategy<Value = f64> {
    prop_oneof![any::<f64>().prop_filter("finite", |f| f.is_finite()), (-5000i32..5000).prop_map(f64::from)]
}

fn editor() -> impl Strategy<Value = Option<EditorData>> {
    option::of((
        option::of(coordinate()),
        option::of(coordinate()),
        option::of(text()),
        option::of(text()),
        btree_map("extra_[a-z]{1,5}", json_value(), 0..3),
    ))
    .prop_map(|data| {
        data.map(|(x, y, color, note, extra): (_, _, _, _, BTreeMap<String, serde_json::Value>)| EditorData {
            x,
            y,
            color,
            note,
            extra,
        })
    })
}

fn route() -> impl Strategy<Value = Route> {
    (text(), option::of(text()), option::of(text()), option::of(any::<u32>()))
        .prop_map(|(to, via, dev, metric)| Route { to, via, dev, metric })
}

fn node() -> impl Strategy<Value = Node> {
    prop_oneof![
        (text(), option::of(any::<bool>()), option::of(any::<bool>()), vec(route(), 0..3), editor()).prop_map(
            |(name, ipv4_forwarding, ipv6_forwarding, routes, editor)| {
                Node::Host(HostNode { name, ipv4_forwarding, ipv6_forwarding, routes, editor })
            }
        ),
        (text(), any::<[bool; 3]>(), vec(route(), 0..3), editor()).prop_map(|(name, flags, routes, editor)| {
            Node::Namespace(NamespaceNode {
                name,
                loopback_up: flags[0],
                ipv4_forwarding: flags[1],
                ipv6_forwarding: flags[2],
                routes,
                editor,
            })
        }),
        (
            text(),
            option::of(text()),
            vec(address(), 0..3),
            option::of(any::<u32>()),
            any::<bool>(),
            option::of(text()),
            editor()
        )
            .prop_map(|(name, namespace, addresses, mtu, up, mac, editor)| {
                Node::Bridge(BridgeNode { name, namespace, addresses, mtu, up, mac, editor })
            }),
    ]
}

fn endpoint() -> impl Strategy<Value = Endpoint> {
    (text(), text(), vec(address(), 0..3), option::of(any::<u32>()), any::<bool>(), option::of(text()))
        .prop_map(|(node, name, addresses, mtu, up, mac)| Endpoint { node, name, addresses, mtu, up, mac, netem: None })
}

fn goal() -> impl Strategy<Value = Goal> {
    let family = prop_oneof![Just(GoalFamily::Ipv4), Just(GoalFamily::Ipv6)];
    prop_oneof![
        (text(), text(), option::of(text())).prop_map(|(from, to, hint)| Goal::Reach(ReachGoal { from, to, hint })),
        (text(), text(), option::of(text())).prop_map(|(from, to, hint)| Goal::NoReach(ReachGoal { from, to, hint })),
        (text(), text(), option::of(text()), option::of(text()))
            .prop_map(|(node, to, via, hint)| Goal::Route(RouteGoal { node, to, via, hint })),
        (text(), family, option::of(text())).prop_map(|(node, family, hint)| Goal::Forwarding(ForwardingGoal {
            node,
            family,
            hint
        })),
        (text(), text(), text(), option::of(text()))
            .prop_map(|(node, interface, subnet, hint)| Goal::Address(AddressGoal { node, interface, subnet, hint })),
    ]
}

fn lab() -> impl Strategy<Value = Lab> {
    let parts = (text(), text(), vec(node(), 0..6), vec((endpoint(), endpoint(), editor()), 0..6), editor());
    (parts, vec(goal(), 0..4)).prop_map(|((name, description, nodes, links, editor), goals)| Lab {
        version: FORMAT_VERSION,
        name,
        description,
        nodes,
        links: links.into_iter().map(|(a, b, editor)| Link::Veth(VethLink { a, b, editor })).collect(),
        goals,
        editor,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn export_import_export_is_byte_identical(lab in lab()) {
        let first = to_json(&lab);
        let imported = load_lab(first.as_bytes(), &Limits::default()).expect("an exported lab loads");
        prop_assert_eq!(&imported, &lab);
        prop_assert_eq!(to_json(&imported), first);
    }

    #[test]
    fn validation_and_exporters_never_panic(lab in lab()) {
        let _ = validate(&lab);
        let _ = nslab_model::export::to_ip_script(&lab);
    }
}

#[test]
fn export_formats_parse_by_name_and_unknown_ones_are_named() {
    use nslab_model::export::Format;
    for format in Format::ALL {
        assert_eq!(format.name().parse::<Format>(), Ok(format));
    }
    let unknown = "svg".parse::<Format>().unwrap_err();
    assert!(unknown.starts_with("unknown format `svg`; use one of json, ip, "), "{unknown}");
    assert_eq!("JSON".parse::<Format>().map_err(|_| ()), Err(()), "names are exact");
}
