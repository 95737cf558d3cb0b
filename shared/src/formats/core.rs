//! CORE scenarios (the XML `core-gui` and `core-daemon` save), read and written.
//!
//! Reading: every device (PC, router, host, mdr, docker...) is a namespace at its
//! position; networks of type SWITCH and HUB are Linux bridges; a link joins two of them
//! with the interfaces (name, MAC, one IPv4 and one IPv6 address) CORE gives each device
//! end; a bridge's end is named after the device and interface at the other end. A link's
//! options (delay and jitter in microseconds, bandwidth in bits a second, loss and
//! duplicates in percent, buffer in packets) become the netem of both ends, or of node1's
//! end only when `unidirectional="1"`. The `IPForward` service turns forwarding on; the
//! shell templates of a node's customised services are read for routes and settings;
//! every other service, network type (wireless, EMANE, RJ45, tunnels) and what hangs on it
//! is named as left out. The XML is read without its DTD: a file with one (and so with
//! entities that could reach outside it) is refused.
//!
//! Writing: the same mapping back, devices of type `PC`; what the XML has no attribute
//! for (routes, MTU, a second address of one family...) goes into the `staticroute.sh`
//! template of the `StaticRoute` service, run when the node starts; what CORE has no place
//! for at all (bridge addresses, port names, the description) into the session metadata
//! entry `nslab`, which CORE keeps and nslab reads back.

use std::collections::HashMap;
use std::fmt::Write;
use std::net::IpAddr;

use roxmltree::{Document, Node as XmlNode};

use crate::import::{ImportError, Imported, SourceFiles};
use crate::lab::{Endpoint, Lab, Link, Node};
use crate::netem::{Chance, Impairment, Netem};

use super::draft::{coordinate, read_coordinate, Draft};
use super::extras::Extras;
use super::node_commands;
use super::startup::{ends_on, netem_args, route_line};
use super::xml;

/// The session metadata entry that carries the extras.
const EXTRAS_ENTRY: &str = "nslab";
/// The service whose template nslab writes a node's other settings into.
const SETUP_SERVICE: &str = "StaticRoute";
const SETUP_FILE: &str = "staticroute.sh";

pub fn import(files: &SourceFiles, lab_name: &str) -> Result<Imported, ImportError> {
    let (path, text) = files.main().ok_or_else(|| ImportError::new("core", "no file given"))?;
    let document = Document::parse(text).map_err(|error| {
        let at = error.pos();
        ImportError::new(format!("{path} line {}", at.row), format!("not a CORE scenario: {error}"))
    })?;
    let scenario = document.root_element();
    if scenario.tag_name().name() != "scenario" {
        let message =
            format!("not a CORE scenario: the root element is `<{}>`, not `<scenario>`", scenario.tag_name().name());
        return Err(ImportError::new(path, message));
    }
    let line_starts = std::iter::once(0).chain(text.match_indices('\n').map(|(at, _)| at + 1)).collect();
    let mut reader = Reader { path, line_starts, draft: Draft::new(lab_name), ids: HashMap::new() };
    reader.devices(&scenario);
    reader.networks(&scenario);
    reader.links(&scenario)?;
    reader.service_templates(&scenario);
    reader.other_sections(&scenario);
    let extras = reader.extras(&scenario)?;
    let mut draft = reader.draft;
    if let Some(extras) = extras {
        extras.apply(&mut draft.lab);
    }
    Ok(draft.finish())
}

/// What a CORE id stands for in the lab.
#[derive(Clone)]
enum Member {
    Node(String),
    /// A network nslab leaves out, with what it is.
    LeftOut(String),
}

struct Reader<'d> {
    path: &'d str,
    /// Where each line of the file starts, to name an element's line.
    line_starts: Vec<usize>,
    draft: Draft,
    ids: HashMap<String, Member>,
}

fn children<'a, 'input>(parent: &XmlNode<'a, 'input>, name: &'static str) -> impl Iterator<Item = XmlNode<'a, 'input>> {
    parent.children().filter(move |child| child.has_tag_name(name))
}

fn child<'a, 'input>(parent: &XmlNode<'a, 'input>, name: &'static str) -> Option<XmlNode<'a, 'input>> {
    children(parent, name).next()
}

/// The elements `<section><item/>...</section>` of the scenario.
fn items<'a, 'input>(
    scenario: &XmlNode<'a, 'input>,
    section: &'static str,
    item: &'static str,
) -> Vec<XmlNode<'a, 'input>> {
    child(scenario, section).map(|section| children(&section, item).collect()).unwrap_or_default()
}

fn position(element: &XmlNode) -> Option<(f64, f64)> {
    let at = child(element, "position")?;
    Some((read_coordinate(at.attribute("x")?)?, read_coordinate(at.attribute("y")?)?))
}

impl Reader<'_> {
    fn place(&self, element: &XmlNode) -> String {
        format!("{} line {}", self.path, self.line_of(element))
    }

    fn line_of(&self, element: &XmlNode) -> usize {
        self.line_starts.partition_point(|start| *start <= element.range().start)
    }

    fn devices(&mut self, scenario: &XmlNode) {
        for device in items(scenario, "devices", "device") {
            let (Some(id), Some(name)) = (device.attribute("id"), device.attribute("name")) else { continue };
            let place = self.place(&device);
            self.draft.add_namespace(name, position(&device));
            self.ids.insert(id.to_string(), Member::Node(name.to_string()));
            let kind = device.attribute("type").unwrap_or("");
            if let Some(image) = device.attribute("image").filter(|image| !image.is_empty()) {
                self.draft.leave_out(place.clone(), format!("the {kind} image `{image}` of {name}"));
            }
            let services: Vec<&str> = child(&device, "services")
                .map(|services| children(&services, "service").filter_map(|s| s.attribute("name")).collect())
                .unwrap_or_default();
            let mut not_run = Vec::new();
            for service in services {
                match service {
                    "IPForward" => {
                        if let Some(Node::Namespace(namespace)) = self.draft.node_mut(name) {
                            namespace.ipv4_forwarding = true;
                            namespace.ipv6_forwarding = true;
                        }
                    }
                    SETUP_SERVICE if has_template(scenario, id, SETUP_SERVICE) => {}
                    other => not_run.push(format!("`{other}`")),
                }
            }
            if !not_run.is_empty() {
                let word = if not_run.len() == 1 { "service" } else { "services" };
                self.draft.leave_out(place, format!("the {word} {} of {name}", not_run.join(", ")));
            }
        }
    }

    fn networks(&mut self, scenario: &XmlNode) {
        for network in items(scenario, "networks", "network") {
            let (Some(id), Some(name)) = (network.attribute("id"), network.attribute("name")) else { continue };
            let kind = network.attribute("type").unwrap_or("");
            let place = self.place(&network);
            match kind {
                "SWITCH" | "HUB" => {
                    let bridge = self.draft.host_interface(name);
                    self.draft.add_bridge(&bridge, position(&network));
                    if bridge != name {
                        self.draft.leave_out(place.clone(), format!("the {kind} `{name}` is the bridge `{bridge}`"));
                    }
                    if kind == "HUB" {
                        self.draft.leave_out(place, format!("`{name}` is a hub, drawn as a bridge (which learns)"));
                    }
                    self.ids.insert(id.to_string(), Member::Node(bridge));
                }
                _ => {
                    let what = format!("the {kind} network `{name}`");
                    self.draft.leave_out(place, what.clone());
                    self.ids.insert(id.to_string(), Member::LeftOut(what));
                }
            }
        }
    }

    fn links(&mut self, scenario: &XmlNode) -> Result<(), ImportError> {
        // Links already made, by their ends (node and interface id), for the second
        // direction of a unidirectional pair.
        let mut made: HashMap<[(String, String); 2], usize> = HashMap::new();
        for link in items(scenario, "links", "link") {
            let place = self.place(&link);
            let mut ends = Vec::new();
            for (field, iface) in [("node1", "iface1"), ("node2", "iface2")] {
                let id = link
                    .attribute(field)
                    .ok_or_else(|| ImportError::new(&place, format!("the link has no `{field}`")))?;
                let member = self.ids.get(id).cloned().ok_or_else(|| {
                    ImportError::new(&place, format!("`{field}=\"{id}\"` is no device or network of the scenario"))
                })?;
                ends.push((id.to_string(), member, child(&link, iface)));
            }
            if let Some(what) = ends.iter().find_map(|(_, member, _)| match member {
                Member::LeftOut(what) => Some(what.clone()),
                Member::Node(_) => None,
            }) {
                self.draft.leave_out(place, format!("a link to {what}"));
                continue;
            }
            let names: Vec<String> = ends
                .iter()
                .map(|(_, member, _)| match member {
                    Member::Node(name) => name.clone(),
                    Member::LeftOut(_) => unreachable!("left out above"),
                })
                .collect();
            let key = |first: usize, second: usize| {
                let id = |index: usize| ends[index].2.and_then(|iface| iface.attribute("id")).unwrap_or("").to_string();
                [(names[first].clone(), id(first)), (names[second].clone(), id(second))]
            };
            let netem = self.options(&link, &place);
            let unidirectional = child(&link, "options").and_then(|o| o.attribute("unidirectional")) == Some("1");
            if let Some(&index) = made.get(&key(1, 0)).filter(|_| unidirectional) {
                // The other direction of a link made already: what node1 sends.
                let Link::Veth(veth) = &mut self.draft.lab.links[index];
                veth.b.netem = netem;
                continue;
            }
            let mut made_ends = Vec::new();
            for (index, (_, _, iface)) in ends.iter().enumerate() {
                let other = &ends[1 - index];
                made_ends.push(self.endpoint(&names[index], iface.as_ref(), &names[1 - index], other.2.as_ref()));
            }
            let b = made_ends.pop().expect("two ends");
            let mut a = made_ends.pop().expect("two ends");
            let mut b = b;
            a.netem = netem.clone();
            if !unidirectional {
                b.netem = netem;
            }
            let index = self.draft.connect(a, b);
            made.insert(key(0, 1), index);
        }
        Ok(())
    }

    /// A link's end on `node`: its interface's name, MAC and addresses on a device; a free
    /// name after the other end on a bridge.
    fn endpoint(
        &mut self,
        node: &str,
        iface: Option<&XmlNode>,
        other: &str,
        other_iface: Option<&XmlNode>,
    ) -> Endpoint {
        let on_bridge = matches!(self.draft.lab.node(node), Some(Node::Bridge(_)));
        if on_bridge {
            let other_name = other_iface.and_then(|iface| iface_name(iface)).unwrap_or_default();
            let port = self.draft.host_interface(format!("{other}-{other_name}").trim_end_matches('-'));
            return Endpoint::new(node, port);
        }
        let mut end = Endpoint::new(node, iface.and_then(|iface| iface_name(iface)).unwrap_or_else(|| "eth0".into()));
        if let Some(iface) = iface {
            end.mac = iface.attribute("mac").filter(|mac| !mac.is_empty()).map(str::to_ascii_lowercase);
            for (address, mask) in [("ip4", "ip4_mask"), ("ip6", "ip6_mask")] {
                if let (Some(address), Some(mask)) = (iface.attribute(address), iface.attribute(mask)) {
                    end.addresses.push(format!("{address}/{mask}"));
                }
            }
        }
        end
    }

    /// A link's options as a netem; those netem has no word for are named.
    fn options(&mut self, link: &XmlNode, place: &str) -> Option<Netem> {
        let options = child(link, "options")?;
        let number = |name: &str| options.attribute(name).and_then(|value| value.parse::<f64>().ok()).unwrap_or(0.0);
        let positive = |value: f64| (value > 0.0).then_some(value);
        let impairment = Impairment {
            delay_ns: positive(number("delay")).map(|us| (us * 1000.0).round() as u64),
            jitter_ns: positive(number("jitter")).map(|us| (us * 1000.0).round() as u64),
            loss: positive(number("loss")).map(Chance::from_percent),
            duplicate: positive(number("dup")).map(Chance::from_percent),
            rate_bytes: positive(number("bandwidth")).map(|bits| (bits / 8.0).floor() as u64),
            limit: positive(number("buffer")).map(|packets| packets as u32),
            ..Impairment::default()
        };
        for name in ["mer", "burst", "mburst", "key"] {
            if let Some(value) =
                options.attribute(name).filter(|value| positive(value.parse().unwrap_or(0.0)).is_some())
            {
                self.draft.leave_out(place, format!("the link option `{name}=\"{value}\"`"));
            }
        }
        (!impairment.is_empty()).then(|| impairment.to_netem())
    }

    /// The shell templates of customised services, read as commands run in their node.
    fn service_templates(&mut self, scenario: &XmlNode) {
        let section =
            child(scenario, "service_configurations").or_else(|| child(scenario, "configservice_configurations"));
        let Some(section) = section else { return };
        for service in children(&section, "service") {
            let place = self.place(&service);
            let (Some(name), Some(id)) = (service.attribute("name"), service.attribute("node")) else { continue };
            let Some(Member::Node(node)) = self.ids.get(id).cloned() else { continue };
            if child(&service, "configs").is_some_and(|configs| configs.children().any(|c| c.is_element())) {
                self.draft.leave_out(place.clone(), format!("the settings of service `{name}` on {node}"));
            }
            let Some(templates) = child(&service, "templates") else { continue };
            for template in children(&templates, "template") {
                let file = template.attribute("name").unwrap_or("");
                let text = template.text().unwrap_or("");
                if !file.ends_with(".sh") {
                    self.draft.leave_out(place.clone(), format!("the file `{file}` of service `{name}` on {node}"));
                    continue;
                }
                let first = self.line_of(&template);
                let lines = text
                    .lines()
                    .enumerate()
                    .map(|(index, line)| (format!("{} line {}", self.path, first + index), line));
                node_commands::run(&mut self.draft, &node, lines);
            }
        }
    }

    /// Sections of the scenario that hold something a lab cannot, when they hold anything.
    fn other_sections(&mut self, scenario: &XmlNode) {
        for section in ["hooks", "mobility_configurations", "emane_configurations", "servers"] {
            if let Some(element) = child(scenario, section).filter(|s| s.children().any(|c| c.is_element())) {
                let place = self.place(&element);
                self.draft.leave_out(place, format!("`<{section}>`"));
            }
        }
    }

    fn extras(&self, scenario: &XmlNode) -> Result<Option<Extras>, ImportError> {
        let Some(metadata) = child(scenario, "session_metadata") else { return Ok(None) };
        let Some(entry) = children(&metadata, "configuration").find(|c| c.attribute("name") == Some(EXTRAS_ENTRY))
        else {
            return Ok(None);
        };
        let value = entry.attribute("value").unwrap_or("");
        serde_json::from_str(value)
            .map(Some)
            .map_err(|e| ImportError::new(self.place(&entry), format!("the `nslab` metadata does not read: {e}")))
    }
}

fn iface_name(iface: &XmlNode) -> Option<String> {
    iface
        .attribute("name")
        .filter(|name| !name.is_empty())
        .map(str::to_string)
        .or_else(|| iface.attribute("id").map(|id| format!("eth{id}")))
}

/// Whether the scenario customises `service`'s templates on the node with `id`.
fn has_template(scenario: &XmlNode, id: &str, service: &str) -> bool {
    let section = child(scenario, "service_configurations").or_else(|| child(scenario, "configservice_configurations"));
    section.is_some_and(|section| {
        children(&section, "service").any(|s| {
            s.attribute("name") == Some(service) && s.attribute("node") == Some(id) && child(&s, "templates").is_some()
        })
    })
}

/// The lab as a CORE scenario.
pub fn render(lab: &Lab) -> String {
    let ids: HashMap<&str, usize> =
        lab.nodes.iter().enumerate().map(|(index, node)| (node.name(), index + 1)).collect();
    let mut xml = String::from("<?xml version='1.0' encoding='UTF-8'?>\n");
    let _ = writeln!(xml, "<!-- nslab lab {}, as a CORE scenario. -->", escape_comment(&lab.name));
    let _ = writeln!(xml, "<scenario name=\"{}\">", xml::attribute(&lab.name));
    xml.push_str("  <networks>\n");
    for node in &lab.nodes {
        if let Node::Bridge(bridge) = node {
            let _ = writeln!(
                xml,
                "    <network id=\"{}\" name=\"{}\" icon=\"\" canvas=\"1\" type=\"SWITCH\">",
                ids[node.name()],
                xml::attribute(&bridge.name)
            );
            write_position(&mut xml, node);
            xml.push_str("    </network>\n");
        }
    }
    xml.push_str("  </networks>\n  <devices>\n");
    let mut setups = Vec::new();
    for node in &lab.nodes {
        let Node::Namespace(namespace) = node else { continue };
        let id = ids[node.name()];
        let _ = writeln!(
            xml,
            "    <device id=\"{id}\" name=\"{}\" icon=\"\" canvas=\"1\" type=\"PC\" class=\"\" image=\"\">",
            xml::attribute(&namespace.name)
        );
        write_position(&mut xml, node);
        let both = namespace.ipv4_forwarding && namespace.ipv6_forwarding;
        let setup = setup_script(lab, node, both);
        let mut services = Vec::new();
        if both {
            services.push("IPForward");
        }
        if !setup.is_empty() {
            services.push(SETUP_SERVICE);
            setups.push((id, setup));
        }
        if !services.is_empty() {
            xml.push_str("      <services>\n");
            for service in services {
                let _ = writeln!(xml, "        <service name=\"{service}\"/>");
            }
            xml.push_str("      </services>\n");
        }
        xml.push_str("    </device>\n");
    }
    xml.push_str("  </devices>\n  <links>\n");
    for Link::Veth(veth) in &lab.links {
        let (Some(&one), Some(&two)) = (ids.get(veth.a.node.as_str()), ids.get(veth.b.node.as_str())) else { continue };
        if !Extras::format_draws(lab, veth) {
            continue;
        }
        let _ = writeln!(xml, "    <link node1=\"{one}\" node2=\"{two}\">");
        for (field, end) in [("iface1", &veth.a), ("iface2", &veth.b)] {
            if matches!(lab.node(&end.node), Some(Node::Namespace(_))) {
                write_iface(&mut xml, lab, field, end);
            }
        }
        if let Some(options) = shared_options(&veth.a, &veth.b) {
            let _ = writeln!(xml, "      {options}");
        }
        xml.push_str("    </link>\n");
    }
    xml.push_str("  </links>\n");
    if !setups.is_empty() {
        xml.push_str("  <service_configurations>\n");
        for (id, script) in setups {
            let _ = writeln!(xml, "    <service name=\"{SETUP_SERVICE}\" node=\"{id}\">\n      <templates>");
            let _ = writeln!(
                xml,
                "        <template name=\"{SETUP_FILE}\"><![CDATA[{}]]></template>",
                script.replace("]]>", "]]]]><![CDATA[>")
            );
            xml.push_str("      </templates>\n    </service>\n");
        }
        xml.push_str("  </service_configurations>\n");
    }
    let mut extras = Extras::of(lab, false);
    extras.keep_undrawn_links(lab);
    let extras = serde_json::to_string(&extras).expect("extras serialise");
    let _ = writeln!(
        xml,
        "  <session_metadata>\n    <configuration name=\"{EXTRAS_ENTRY}\" value=\"{}\"/>\n  </session_metadata>",
        xml::attribute(&extras)
    );
    xml.push_str("</scenario>\n");
    xml
}

fn write_position(xml: &mut String, node: &Node) {
    if let Some((x, y)) = super::draft::position_of(node) {
        let _ = writeln!(xml, "      <position x=\"{}\" y=\"{}\"/>", coordinate(x), coordinate(y));
    }
}

/// `<iface1 id= name= mac= ip4= ip4_mask= ip6= ip6_mask=/>`: the first address of each
/// family (the others go into the node's setup script).
fn write_iface(xml: &mut String, lab: &Lab, field: &str, end: &Endpoint) {
    let id = ends_on(lab, &end.node).iter().position(|other| other.name == end.name).unwrap_or(0);
    let _ = write!(xml, "      <{field} id=\"{id}\" name=\"{}\"", xml::attribute(&end.name));
    if let Some(mac) = &end.mac {
        let _ = write!(xml, " mac=\"{}\"", xml::attribute(mac));
    }
    let (four, six) = first_addresses(end);
    for (family, address) in [("ip4", four), ("ip6", six)] {
        if let Some((ip, length)) = address.and_then(|a| a.split_once('/')) {
            let _ = write!(xml, " {family}=\"{}\" {family}_mask=\"{}\"", xml::attribute(ip), xml::attribute(length));
        }
    }
    xml.push_str("/>\n");
}

/// The addresses CORE's interface holds (one IPv4, one IPv6): those the lab lists first,
/// as the reader gives them back (IPv4 then IPv6). The others go into the setup script.
fn first_addresses(end: &Endpoint) -> (Option<&str>, Option<&str>) {
    let is_v4 =
        |address: &str| address.split('/').next().and_then(|ip| ip.parse::<IpAddr>().ok()).map(|ip| ip.is_ipv4());
    let first = end.addresses.first().map(String::as_str);
    let second = end.addresses.get(1).map(String::as_str);
    match (first.map(is_v4), second.map(is_v4)) {
        (Some(Some(true)), Some(Some(false))) => (first, second),
        (Some(Some(true)), _) => (first, None),
        (Some(Some(false)), _) => (None, first),
        _ => (None, None),
    }
}

/// `<options .../>` when both ends carry the same impairment and CORE's units hold it
/// exactly; None otherwise (each end's then goes into its node's setup script).
fn shared_options(a: &Endpoint, b: &Endpoint) -> Option<String> {
    let netem = a.netem.as_ref().filter(|netem| Some(*netem) == b.netem.as_ref())?;
    let options = core_options(netem)?;
    Some(options)
}

/// A netem in CORE's units, if they hold it exactly.
fn core_options(netem: &Netem) -> Option<String> {
    let impairment = netem.parse().ok()?;
    if impairment.corrupt.is_some() || impairment.reorder.is_some() {
        return None;
    }
    let us = |ns: Option<u64>| ns.filter(|ns| ns % 1000 == 0).map(|ns| ns / 1000);
    let delay = match impairment.delay_ns {
        Some(ns) => us(Some(ns))?,
        None => 0,
    };
    let jitter = match impairment.jitter_ns {
        Some(ns) => us(Some(ns))?,
        None => 0,
    };
    let percent = |chance: Option<Chance>| -> Option<String> {
        let Some(chance) = chance else { return Some("0".into()) };
        let text = format!("{}", chance.percent());
        (Chance::from_percent(text.parse().ok()?) == chance).then_some(text)
    };
    let back = Impairment {
        delay_ns: impairment.delay_ns,
        jitter_ns: impairment.jitter_ns,
        loss: impairment.loss,
        duplicate: impairment.duplicate,
        rate_bytes: impairment.rate_bytes,
        limit: impairment.limit,
        ..Impairment::default()
    };
    // What the reader gives back must be this netem, word for word.
    if back.to_netem() != *netem {
        return None;
    }
    Some(format!(
        "<options delay=\"{delay}\" bandwidth=\"{}\" loss=\"{}\" dup=\"{}\" jitter=\"{jitter}\" unidirectional=\"0\" buffer=\"{}\"/>",
        impairment.rate_bytes.map_or(0, |bytes| bytes * 8),
        percent(impairment.loss)?,
        percent(impairment.duplicate)?,
        impairment.limit.unwrap_or(0),
    ))
}

/// What the XML has no attribute for, as commands for the node's `staticroute.sh`.
fn setup_script(lab: &Lab, node: &Node, forwarding_by_service: bool) -> String {
    let Node::Namespace(namespace) = node else { return String::new() };
    let mut lines = Vec::new();
    if !namespace.loopback_up {
        lines.push("ip link set dev lo down".to_string());
    }
    for link in &lab.links {
        let [a, b] = link.ends();
        for (end, other) in [(a, b), (b, a)] {
            if end.node != namespace.name {
                continue;
            }
            let dev = &end.name;
            if let Some(mtu) = end.mtu {
                lines.push(format!("ip link set dev {dev} mtu {mtu}"));
            }
            if !end.up {
                lines.push(format!("ip link set dev {dev} down"));
            }
            let (four, six) = first_addresses(end);
            for address in end.addresses.iter().filter(|a| Some(a.as_str()) != four && Some(a.as_str()) != six) {
                lines.push(format!("ip address add {address} dev {dev}"));
            }
            if let Some(netem) = end.netem.as_ref().filter(|_| shared_options(end, other).is_none()) {
                lines.push(format!("tc qdisc add dev {dev} root netem {}", netem_args(netem)));
            }
        }
    }
    if !forwarding_by_service {
        lines.extend(super::startup::forwarding_lines(namespace));
    }
    lines.extend(namespace.routes.iter().map(|route| route_line(route, &|name| name.to_string())));
    if lines.is_empty() {
        return String::new();
    }
    format!(
        "#!/bin/sh\n# nslab: the settings of {} that CORE's XML has no attribute for.\n{}\n",
        namespace.name,
        lines.join("\n")
    )
}

fn escape_comment(text: &str) -> String {
    text.replace("--", "- -")
}
