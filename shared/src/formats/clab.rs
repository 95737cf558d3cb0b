//! containerlab's topology file (`NAME.clab.yml`), read and written.
//!
//! Reading: every node becomes a namespace, except `bridge` (and `ovs-bridge`) nodes, which
//! become Linux bridges in the host; `host:IFACE` ends become the host node. A node's
//! settings are read as containerlab reads them: `kind` from the node, its group, the
//! default group, then `defaults`; `exec` lines and `labels` merged from `defaults`, the
//! kind, the group and the node (node last, so it wins). The `exec` lines set addresses,
//! routes, forwarding and impairments (`node_commands`); so do the links' own `ipv4`,
//! `ipv6`, `mac` and `mtu`. Positions come from the `graph-posX`/`graph-posY` labels that
//! containerlab's graph and TopoViewer write. Everything else (images, the management
//! network, startup configurations, binds...) is named as left out, each at its place.
//!
//! Writing: namespaces as `linux` nodes whose `exec` lines build the interfaces' addresses,
//! routes and forwarding; bridges as `bridge` nodes, what containerlab cannot give a bridge
//! (its addresses, MTU...) carried in `nslab.*` labels that containerlab passes over.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write;

use serde_norway::{Mapping, Value};

use crate::import::{ImportError, Imported, SourceFiles};
use crate::lab::{Endpoint, Lab, Link, Node};

use super::draft::{coordinate, describe_setting, interface_word, position_of, read_coordinate, Draft};
use super::node_commands;
use super::startup::setup_lines;

/// The image the written `linux` nodes run: containerlab's own examples use it, and it has
/// iproute2 and tc for the `exec` lines.
pub const LINUX_IMAGE: &str = "wbitt/network-multitool";

/// Labels that carry what containerlab has no field for.
const LABEL_PREFIX: &str = "nslab.";
const POS_X: &str = "graph-posX";
const POS_Y: &str = "graph-posY";
/// The name containerlab gives the host in a link's end (`host:veth-r1`).
const HOST: &str = "host";
/// The interface containerlab puts on its management network in every node.
const MANAGEMENT_INTERFACE: &str = "eth0";

pub fn import(files: &SourceFiles, lab_name: &str) -> Result<Imported, ImportError> {
    let (path, text) = files.main().ok_or_else(|| ImportError::new("clab", "no file given"))?;
    let document: Value = serde_norway::from_str(text).map_err(|error| yaml_error(path, &error))?;
    let topology = Topology::read(path, &document)?;
    let mut reader = Reader { topology: &topology, draft: Draft::new(lab_name), reported: HashSet::new() };
    reader.top_level(&document);
    reader.nodes()?;
    reader.links()?;
    reader.exec_lines();
    Ok(reader.draft.finish())
}

fn yaml_error(path: &str, error: &serde_norway::Error) -> ImportError {
    let place = match error.location() {
        Some(location) => format!("{path} line {}", location.line()),
        None => path.to_string(),
    };
    let message = error.to_string();
    let message = message.split(" at line ").next().unwrap_or(&message).to_string();
    ImportError::new(place, format!("not a containerlab topology: {message}"))
}

/// The parts of the file a node's settings come from.
struct Topology<'v> {
    nodes: Vec<(String, Option<&'v Mapping>)>,
    kinds: Option<&'v Mapping>,
    groups: Option<&'v Mapping>,
    defaults: Option<&'v Mapping>,
    links: Vec<&'v Value>,
    topology: &'v Mapping,
}

/// One layer of a node's settings: where it is written and what it says.
struct Layer<'v> {
    place: String,
    settings: &'v Mapping,
}

impl<'v> Topology<'v> {
    fn read(path: &str, document: &'v Value) -> Result<Self, ImportError> {
        let not_clab =
            |place: &str, message: &str| ImportError::new(place, format!("not a containerlab topology: {message}"));
        let Value::Mapping(root) = document else {
            return Err(not_clab(path, "the file is not a YAML mapping of `name:` and `topology:`"));
        };
        let Some(topology) = root.get("topology") else {
            return Err(not_clab(path, "it has no `topology:`"));
        };
        let Value::Mapping(topology) = topology else {
            return Err(not_clab("topology", "`topology` must be a mapping of `nodes:` and `links:`"));
        };
        let mapping_at = |key: &str| -> Result<Option<&'v Mapping>, ImportError> {
            match topology.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Mapping(mapping)) => Ok(Some(mapping)),
                Some(_) => Err(not_clab(&format!("topology.{key}"), &format!("`{key}` must be a mapping"))),
            }
        };
        let mut nodes = Vec::new();
        for (name, settings) in mapping_at("nodes")?.into_iter().flatten() {
            let name = scalar(name).ok_or_else(|| not_clab("topology.nodes", "a node's name must be a string"))?;
            let settings = match settings {
                Value::Null => None,
                Value::Mapping(settings) => Some(settings),
                _ => return Err(not_clab(&format!("topology.nodes.{name}"), "a node must be a mapping of settings")),
            };
            nodes.push((name, settings));
        }
        let links = match topology.get("links") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Sequence(links)) => links.iter().collect(),
            Some(_) => return Err(not_clab("topology.links", "`links` must be a list")),
        };
        Ok(Topology {
            nodes,
            kinds: mapping_at("kinds")?,
            groups: mapping_at("groups")?,
            defaults: mapping_at("defaults")?,
            links,
            topology,
        })
    }

    fn node(&self, name: &str) -> Option<&'v Mapping> {
        self.nodes.iter().find(|(node, _)| node == name).and_then(|(_, settings)| *settings)
    }

    fn group(&self, name: &str) -> Option<&'v Mapping> {
        self.groups.and_then(|groups| groups.get(name)).and_then(Value::as_mapping)
    }

    fn kind_settings(&self, name: &str) -> Option<&'v Mapping> {
        self.kinds.and_then(|kinds| kinds.get(name)).and_then(Value::as_mapping)
    }

    /// The node's kind: its own, its group's, the default group's, then `defaults`'.
    fn kind_of(&self, node: &str) -> String {
        let own = self.node(node);
        let group = own.and_then(|settings| text(settings, "group")).and_then(|group| self.group(&group));
        let default_group = self.defaults.and_then(|defaults| text(defaults, "group")).and_then(|g| self.group(&g));
        [own, group, default_group, self.defaults]
            .into_iter()
            .flatten()
            .find_map(|settings| text(settings, "kind"))
            .unwrap_or_default()
    }

    /// The node's group: its own, its kind's, then `defaults`'.
    fn group_of(&self, node: &str, kind: &str) -> Option<String> {
        let own = self.node(node).and_then(|settings| text(settings, "group"));
        own.or_else(|| self.kind_settings(kind).and_then(|settings| text(settings, "group")))
            .or_else(|| self.defaults.and_then(|defaults| text(defaults, "group")))
    }

    /// The layers a node's settings merge from, the weakest first.
    fn layers(&self, node: &str) -> Vec<Layer<'v>> {
        let kind = self.kind_of(node);
        let group = self.group_of(node, &kind);
        let mut layers = Vec::new();
        if let Some(defaults) = self.defaults {
            layers.push(Layer { place: "topology.defaults".into(), settings: defaults });
        }
        if let Some(settings) = self.kind_settings(&kind) {
            layers.push(Layer { place: format!("topology.kinds.{kind}"), settings });
        }
        if let Some((group, settings)) = group.as_deref().and_then(|group| Some((group, self.group(group)?))) {
            layers.push(Layer { place: format!("topology.groups.{group}"), settings });
        }
        if let Some(settings) = self.node(node) {
            layers.push(Layer { place: format!("topology.nodes.{node}"), settings });
        }
        layers
    }
}

/// A string, number or boolean as text.
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

fn text(settings: &Mapping, key: &str) -> Option<String> {
    settings.get(key).and_then(scalar).filter(|text| !text.is_empty())
}

struct Reader<'t, 'v> {
    topology: &'t Topology<'v>,
    draft: Draft,
    /// Places already named as left out: a group's image is named once, not per node.
    reported: HashSet<String>,
}

impl Reader<'_, '_> {
    fn leave_out_once(&mut self, place: String, what: String) {
        if self.reported.insert(place.clone()) {
            self.draft.leave_out(place, what);
        }
    }

    /// `prefix`, `mgmt` and the rest of the file besides `topology`'s nodes and links.
    fn top_level(&mut self, document: &Value) {
        let Value::Mapping(root) = document else { return };
        let managed = self.topology.nodes.iter().any(|(name, _)| {
            let mode = self.topology.layers(name).iter().rev().find_map(|layer| text(layer.settings, "network-mode"));
            !matches!(self.topology.kind_of(name).as_str(), "bridge" | "ovs-bridge") && mode.as_deref() != Some("none")
        });
        if managed {
            self.management_network(root.get("mgmt").and_then(Value::as_mapping));
        }
        for (key, value) in root {
            let key = scalar(key).unwrap_or_default();
            if !matches!(key.as_str(), "name" | "topology" | "mgmt") {
                self.draft.leave_out(key.clone(), describe(&key, value));
            }
        }
        for (key, value) in self.topology.topology {
            let key = scalar(key).unwrap_or_default();
            if !matches!(key.as_str(), "nodes" | "links" | "kinds" | "groups" | "defaults") {
                self.draft.leave_out(format!("topology.{key}"), describe(&key, value));
            }
        }
    }

    /// containerlab puts every node's `eth0` on a management network, `mgmt` or not
    /// (unless its `network-mode` is `none`).
    fn management_network(&mut self, mgmt: Option<&Mapping>) {
        let setting = |key: &str| mgmt.and_then(|mgmt| text(mgmt, key));
        let network = setting("network").unwrap_or_else(|| "clab".to_string());
        let subnet = setting("ipv4-subnet").unwrap_or_else(|| "172.20.20.0/24".to_string());
        let place = if mgmt.is_some() { "mgmt" } else { "topology" };
        self.draft
            .leave_out(place, format!("the management network `{network}` ({subnet}) and each node's `eth0` on it"));
    }

    fn nodes(&mut self) -> Result<(), ImportError> {
        for (name, _) in &self.topology.nodes {
            let kind = self.topology.kind_of(name);
            let layers = self.topology.layers(name);
            let labels = merged_labels(&layers);
            let at = match (labels.get(POS_X), labels.get(POS_Y)) {
                (Some((_, x)), Some((_, y))) => read_coordinate(x).zip(read_coordinate(y)),
                _ => None,
            };
            let place = format!("topology.nodes.{name}");
            match kind.as_str() {
                "bridge" | "ovs-bridge" => {
                    self.draft.add_bridge(name, at);
                    self.bridge_labels(name, &labels);
                    if kind == "ovs-bridge" {
                        self.draft
                            .leave_out(format!("{place}.kind"), "an Open vSwitch bridge, drawn as a Linux bridge");
                    }
                }
                "" => {
                    return Err(ImportError::new(place, "the node has no `kind` (nor a group or default giving one)"))
                }
                _ => {
                    self.draft.add_namespace(name, at);
                    if kind != "linux" {
                        self.draft.leave_out(
                            format!("{place}.kind"),
                            format!("kind `{kind}`: drawn as a namespace; what it runs is not kept"),
                        );
                    }
                }
            }
            for (key, (label_place, value)) in &labels {
                if key != POS_X && key != POS_Y && !key.starts_with(LABEL_PREFIX) {
                    self.leave_out_once(format!("{label_place}.labels.{key}"), format!("the label `{key}: {value}`"));
                }
            }
            for layer in &layers {
                for (key, value) in layer.settings {
                    let key = scalar(key).unwrap_or_default();
                    // `network-mode: none`: no management interface, as a namespace has none.
                    let no_management = key == "network-mode" && scalar(value).as_deref() == Some("none");
                    if !matches!(key.as_str(), "kind" | "group" | "exec" | "labels") && !no_management {
                        self.leave_out_once(format!("{}.{key}", layer.place), describe(&key, value));
                    }
                }
            }
        }
        Ok(())
    }

    /// What an exported bridge carries in `nslab.*` labels.
    fn bridge_labels(&mut self, name: &str, labels: &BTreeMap<String, (String, String)>) {
        let Some(Node::Bridge(bridge)) = self.draft.node_mut(name) else { return };
        let label = |key: &str| labels.get(&format!("{LABEL_PREFIX}{key}")).map(|(_, value)| value.clone());
        if let Some(addresses) = label("addresses") {
            bridge.addresses = addresses.split(',').map(|a| a.trim().to_string()).filter(|a| !a.is_empty()).collect();
        }
        bridge.mtu = label("mtu").and_then(|mtu| mtu.parse().ok());
        bridge.mac = label("mac");
        bridge.up = label("up").as_deref() != Some("false");
        if let Some(namespace) = label("namespace") {
            bridge.namespace = Some(namespace);
        }
    }

    fn links(&mut self) -> Result<(), ImportError> {
        for (index, link) in self.topology.links.iter().enumerate() {
            let place = format!("topology.links[{index}]");
            let Value::Mapping(link) = link else {
                return Err(ImportError::new(place, "a link must be a mapping with `endpoints`"));
            };
            let kind = text(link, "type");
            match kind.as_deref() {
                None => self.short_link(&place, link)?,
                Some("veth") => self.extended_link(&place, link)?,
                Some("host") => self.host_link(&place, link)?,
                Some(other) => {
                    self.draft.leave_out(place, format!("a link of type `{other}`"));
                    continue;
                }
            }
            for (key, value) in link {
                let key = scalar(key).unwrap_or_default();
                if !matches!(
                    key.as_str(),
                    "type" | "endpoints" | "endpoint" | "host-interface" | "mtu" | "ipv4" | "ipv6"
                ) {
                    self.draft.leave_out(format!("{place}.{key}"), describe(&key, value));
                }
            }
        }
        Ok(())
    }

    /// `{node, interface, mac, ipv4, ipv6}`; anything else on it is named.
    fn extended_end(&mut self, place: &str, end: &Value) -> Result<End, ImportError> {
        let Value::Mapping(settings) = end else {
            return Err(ImportError::new(place, "an end must be a mapping of `node` and `interface`"));
        };
        let node = text(settings, "node").ok_or_else(|| ImportError::new(place, "the end has no `node`"))?;
        let interface =
            text(settings, "interface").ok_or_else(|| ImportError::new(place, "the end has no `interface`"))?;
        let mut end = End::new(place.to_string(), &node, &interface);
        end.mac = text(settings, "mac").map(|mac| mac.to_ascii_lowercase());
        end.addresses = ["ipv4", "ipv6"].iter().filter_map(|family| text(settings, family)).collect();
        for (key, value) in settings {
            let key = scalar(key).unwrap_or_default();
            if !matches!(key.as_str(), "node" | "interface" | "mac" | "ipv4" | "ipv6") {
                self.draft.leave_out(format!("{place}.{key}"), describe(&key, value));
            }
        }
        Ok(end)
    }

    /// `endpoints: ["a:eth1", "b:eth1"]`, with `mtu`, `ipv4` and `ipv6` for both ends.
    fn short_link(&mut self, place: &str, link: &Mapping) -> Result<(), ImportError> {
        let ends = endpoint_list(place, link)?;
        let mut parsed = Vec::new();
        for (index, end) in ends.iter().enumerate() {
            let end_place = format!("{place}.endpoints[{index}]");
            let word = scalar(end).ok_or_else(|| ImportError::new(&end_place, "an end must be `node:interface`"))?;
            let (node, interface) = word
                .split_once(':')
                .filter(|(node, interface)| !node.is_empty() && !interface.is_empty())
                .ok_or_else(|| ImportError::new(&end_place, format!("`{word}` is not `node:interface`")))?;
            parsed.push(End::new(end_place, node, interface));
        }
        if let Some(special) = parsed.iter().find(|end| is_special_end(&end.node)) {
            let what =
                format!("a link to containerlab's `{}` (`{}:{}`)", special.node, special.node, special.interface);
            self.draft.leave_out(place, what);
            return Ok(());
        }
        let index = self.connect(parsed)?;
        self.link_settings(link, index);
        Ok(())
    }

    /// `type: veth` with `endpoints: [{node, interface, mac, ipv4, ipv6}, ...]`.
    fn extended_link(&mut self, place: &str, link: &Mapping) -> Result<(), ImportError> {
        let ends = endpoint_list(place, link)?;
        let mut parsed = Vec::new();
        for (index, end) in ends.iter().enumerate() {
            let end_place = format!("{place}.endpoints[{index}]");
            parsed.push(self.extended_end(&end_place, end)?);
        }
        if let Some(special) = parsed.iter().find(|end| is_special_end(&end.node)) {
            self.draft.leave_out(place, format!("a link to containerlab's `{}`", special.node));
            return Ok(());
        }
        let index = self.connect(parsed)?;
        self.link_settings(link, index);
        Ok(())
    }

    /// `type: host` with `endpoint: {node, interface}` and `host-interface`.
    fn host_link(&mut self, place: &str, link: &Mapping) -> Result<(), ImportError> {
        let end = link.get("endpoint").ok_or_else(|| ImportError::new(place, "a `host` link needs `endpoint`"))?;
        let end = self.extended_end(&format!("{place}.endpoint"), end)?;
        let host_interface = text(link, "host-interface")
            .ok_or_else(|| ImportError::new(place, "a `host` link needs `host-interface`"))?;
        let host_end = End::new(format!("{place}.host-interface"), HOST, &host_interface);
        let index = self.connect(vec![end, host_end])?;
        self.link_settings(link, index);
        Ok(())
    }

    /// Joins two ends, making the host node when an end is on it.
    fn connect(&mut self, ends: Vec<End>) -> Result<usize, ImportError> {
        let mut made = Vec::new();
        for End { place, node, interface, mac, addresses } in ends {
            if node == HOST && !self.draft.has_node(HOST) {
                self.draft.add_host(HOST);
            }
            if !self.draft.has_node(&node) {
                return Err(ImportError::new(place, format!("`{node}` is not a node of `topology.nodes`")));
            }
            let name = self.kernel_name(&place, &node, &interface);
            let mut end = Endpoint::new(node, name);
            end.mac = mac;
            end.addresses = addresses;
            made.push(end);
        }
        let b = made.pop().expect("two ends");
        let a = made.pop().expect("two ends");
        Ok(self.draft.connect(a, b))
    }

    /// The interface name as the kernel takes it; a changed one is said.
    fn kernel_name(&mut self, place: &str, node: &str, interface: &str) -> String {
        let mut name = interface_word(interface);
        while name.len() > 15 {
            name.pop();
        }
        if self.draft.in_host_namespace(node) {
            self.draft.take_host_interface(&name);
        }
        if name != interface {
            self.draft.leave_out(place, format!("the interface `{interface}` of {node} is called `{name}`"));
        }
        name
    }

    /// A link's `mtu`, and the `ipv4`/`ipv6` lists of its ends.
    fn link_settings(&mut self, link: &Mapping, index: usize) {
        let Link::Veth(veth) = &mut self.draft.lab.links[index];
        if let Some(mtu) = link.get("mtu").and_then(Value::as_u64).and_then(|mtu| u32::try_from(mtu).ok()) {
            veth.a.mtu = Some(mtu);
            veth.b.mtu = Some(mtu);
        }
        for family in ["ipv4", "ipv6"] {
            let Some(Value::Sequence(addresses)) = link.get(family) else { continue };
            for (end, address) in [&mut veth.a, &mut veth.b].into_iter().zip(addresses) {
                if let Some(address) = scalar(address).filter(|a| !a.is_empty()) {
                    end.addresses.push(address);
                }
            }
        }
    }

    /// Each node's `exec` lines, merged as containerlab merges them (duplicates once).
    fn exec_lines(&mut self) {
        let nodes: Vec<String> = self.topology.nodes.iter().map(|(name, _)| name.clone()).collect();
        for name in nodes {
            if !matches!(self.draft.lab.node(&name), Some(Node::Namespace(_))) {
                continue;
            }
            let mut seen = HashSet::new();
            let mut lines = Vec::new();
            for layer in self.topology.layers(&name) {
                let Some(Value::Sequence(exec)) = layer.settings.get("exec") else { continue };
                for (index, line) in exec.iter().enumerate() {
                    let Some(line) = scalar(line) else { continue };
                    if seen.insert(line.clone()) {
                        lines.push((format!("{}.exec[{index}]", layer.place), line));
                    }
                }
            }
            node_commands::run(
                &mut self.draft,
                &name,
                lines.iter().map(|(place, line)| (place.clone(), line.as_str())),
            );
        }
    }
}

/// A link's end as the file gives it.
struct End {
    place: String,
    node: String,
    interface: String,
    mac: Option<String>,
    addresses: Vec<String>,
}

impl End {
    fn new(place: String, node: &str, interface: &str) -> Self {
        End { place, node: node.to_string(), interface: interface.to_string(), mac: None, addresses: Vec::new() }
    }
}

fn endpoint_list<'m>(place: &str, link: &'m Mapping) -> Result<&'m Vec<Value>, ImportError> {
    match link.get("endpoints") {
        Some(Value::Sequence(ends)) if ends.len() == 2 => Ok(ends),
        Some(Value::Sequence(ends)) => {
            Err(ImportError::new(format!("{place}.endpoints"), format!("a link has 2 ends, not {}", ends.len())))
        }
        _ => Err(ImportError::new(place, "a link needs `endpoints`, a list of its 2 ends")),
    }
}

/// Ends that are not nodes: the management network, a host interface for macvlan.
fn is_special_end(node: &str) -> bool {
    matches!(node, "mgmt-net" | "macvlan")
}

/// Labels merged from the weakest layer to the node: (place, value) by key.
fn merged_labels(layers: &[Layer]) -> BTreeMap<String, (String, String)> {
    let mut labels = BTreeMap::new();
    for layer in layers {
        let Some(Value::Mapping(own)) = layer.settings.get("labels") else { continue };
        for (key, value) in own {
            if let (Some(key), Some(value)) = (scalar(key), scalar(value)) {
                labels.insert(key, (layer.place.clone(), value));
            }
        }
    }
    labels
}

fn describe(key: &str, value: &Value) -> String {
    match value {
        Value::Sequence(items) => describe_setting(key, None, Some(items.len())),
        Value::Mapping(entries) => describe_setting(key, None, Some(entries.len())),
        other => describe_setting(key, scalar(other).as_deref(), None),
    }
}

/// The lab as a containerlab topology.
pub fn render(lab: &Lab) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# nslab lab {}, as a containerlab topology.", lab.name);
    for line in lab.description.lines() {
        let _ = writeln!(out, "# {line}");
    }
    for note in not_carried(lab) {
        let _ = writeln!(out, "# Not carried: {note}.");
    }
    let bridges: Vec<&str> = lab
        .nodes
        .iter()
        .filter_map(|node| match node {
            Node::Bridge(bridge) => Some(bridge.name.as_str()),
            _ => None,
        })
        .collect();
    if !bridges.is_empty() {
        // containerlab plugs into a bridge node's bridge but does not make it.
        let commands: Vec<String> = bridges.iter().map(|name| format!("ip link add {name} type bridge")).collect();
        let _ = writeln!(out, "# Make the bridges first: {}.", commands.join("; "));
    }
    let _ = writeln!(out, "name: {}", yaml_text(&clab_name(&lab.name)));
    out.push_str("topology:\n");
    if lab.nodes.iter().any(|node| matches!(node, Node::Namespace(_))) {
        let _ = writeln!(out, "  kinds:\n    linux:\n      image: {LINUX_IMAGE}");
    }
    let nodes: Vec<&Node> = lab.nodes.iter().filter(|node| !matches!(node, Node::Host(_))).collect();
    if !nodes.is_empty() {
        out.push_str("  nodes:\n");
    }
    for node in nodes {
        write_node(&mut out, lab, node);
    }
    if !lab.links.is_empty() {
        out.push_str("  links:\n");
    }
    for Link::Veth(veth) in &lab.links {
        write_link(&mut out, lab, &veth.a, &veth.b);
    }
    out
}

/// containerlab's lab names: a letter or digit, then letters, digits, `-`, `.` and `_`.
fn clab_name(name: &str) -> String {
    let cleaned: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || "-._".contains(c) { c } else { '-' }).collect();
    match cleaned.chars().next() {
        Some(first) if first.is_ascii_alphanumeric() => cleaned,
        _ => format!("lab{cleaned}"),
    }
}

fn write_node(out: &mut String, lab: &Lab, node: &Node) {
    let _ = writeln!(out, "    {}:", yaml_key(node.name()));
    let mut labels: Vec<(String, String)> = Vec::new();
    if let Some((x, y)) = position_of(node) {
        labels.push((POS_X.into(), coordinate(x)));
        labels.push((POS_Y.into(), coordinate(y)));
    }
    match node {
        Node::Bridge(bridge) => {
            out.push_str("      kind: bridge\n");
            let mut carried = |key: &str, value: String| labels.push((format!("{LABEL_PREFIX}{key}"), value));
            if !bridge.addresses.is_empty() {
                carried("addresses", bridge.addresses.join(","));
            }
            if let Some(mtu) = bridge.mtu {
                carried("mtu", mtu.to_string());
            }
            if let Some(mac) = &bridge.mac {
                carried("mac", mac.clone());
            }
            if !bridge.up {
                carried("up", "false".into());
            }
            if let Some(namespace) = &bridge.namespace {
                carried("namespace", namespace.clone());
            }
        }
        _ => {
            out.push_str("      kind: linux\n");
            // containerlab gives every node an `eth0` on its management network: a node
            // whose own link end is `eth0` goes without it.
            if super::startup::ends_on(lab, node.name()).iter().any(|end| end.name == MANAGEMENT_INTERFACE) {
                out.push_str("      network-mode: none\n");
            }
        }
    }
    if !labels.is_empty() {
        out.push_str("      labels:\n");
        for (key, value) in labels {
            let _ = writeln!(out, "        {key}: {}", yaml_text(&value));
        }
    }
    let exec = setup_lines(lab, node, &|name| name.to_string());
    if !exec.is_empty() {
        out.push_str("      exec:\n");
        for line in exec {
            let _ = writeln!(out, "        - {}", yaml_text(&line));
        }
    }
}

fn write_link(out: &mut String, lab: &Lab, a: &Endpoint, b: &Endpoint) {
    let end_word = |end: &Endpoint| match lab.node(&end.node) {
        Some(Node::Host(_)) => format!("{HOST}:{}", end.name),
        _ => format!("{}:{}", end.node, end.name),
    };
    if a.mac.is_none() && b.mac.is_none() {
        let _ = writeln!(out, "    - endpoints: [{}, {}]", yaml_text(&end_word(a)), yaml_text(&end_word(b)));
        return;
    }
    out.push_str("    - type: veth\n      endpoints:\n");
    for end in [a, b] {
        let node = match lab.node(&end.node) {
            Some(Node::Host(_)) => HOST,
            _ => end.node.as_str(),
        };
        let _ = write!(out, "        - node: {}\n          interface: {}\n", yaml_text(node), yaml_text(&end.name));
        if let Some(mac) = &end.mac {
            let _ = writeln!(out, "          mac: {}", yaml_text(mac));
        }
    }
}

/// What of the lab a containerlab topology cannot carry, a phrase each.
fn not_carried(lab: &Lab) -> Vec<String> {
    let mut notes = Vec::new();
    for node in &lab.nodes {
        if let Node::Host(host) = node {
            if !host.routes.is_empty() || host.ipv4_forwarding.is_some() || host.ipv6_forwarding.is_some() {
                notes.push(format!("the routes and forwarding of the host node {}", host.name));
            }
        }
    }
    for end in lab.links.iter().flat_map(|link| link.ends()) {
        let on_node_without_exec = !matches!(lab.node(&end.node), Some(Node::Namespace(_)));
        let has_settings = !end.addresses.is_empty() || end.mtu.is_some() || !end.up || end.netem.is_some();
        if on_node_without_exec && has_settings {
            notes.push(format!("the addresses, MTU, state and impairment of `{}` on {}", end.name, end.node));
        }
    }
    notes
}

/// A YAML key: plain when it reads back as the same string, quoted otherwise.
fn yaml_key(text: &str) -> String {
    let plain = !text.is_empty()
        && text.chars().all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
        && text.starts_with(|c: char| c.is_ascii_alphabetic())
        && !matches!(
            text.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n"
        );
    if plain {
        text.to_string()
    } else {
        yaml_text(text)
    }
}

/// A double-quoted YAML string (JSON's quoting, which YAML reads the same).
fn yaml_text(text: &str) -> String {
    serde_json::to_string(text).expect("a string always serialises")
}
