//! GNS3 projects (`.gns3`, JSON), read.
//!
//! Docker containers, VPCS and Linux VMs (QEMU, VirtualBox, VMware) are namespaces, and so
//! are routers and firewalls (Dynamips, IOU), whose system is named as left out; Ethernet
//! switches and hubs are Linux bridges in the host. A link joins two adapters: a node's
//! adapter N is its `ethN`, a switch's port N its `SWITCH-eN`. A link's filters (`delay`
//! with its jitter, `packet_loss`, `corrupt`) become the netem of both ends. Clouds, NAT,
//! ATM and Frame Relay switches, with their links, the images, VLANs of a switch port,
//! other filters and drawings are named as left out. Positions are the nodes' `x`, `y`.

use std::collections::HashMap;

use serde_json::Value;

use crate::import::{ImportError, Imported, SourceFiles};
use crate::lab::{Endpoint, Link};
use crate::netem::Netem;

use super::draft::{interface_word, Draft};

pub fn import(files: &SourceFiles, lab_name: &str) -> Result<Imported, ImportError> {
    let (path, text) = files.main().ok_or_else(|| ImportError::new("gns3", "no file given"))?;
    let document: Value = serde_json::from_str(text)
        .map_err(|e| ImportError::new(format!("{path} line {}", e.line()), format!("not a GNS3 project: {e}")))?;
    let topology = document.get("topology").filter(|t| t.get("nodes").is_some_and(Value::is_array));
    let Some(topology) = topology else {
        return Err(ImportError::new(path, "not a GNS3 project: it has no `topology.nodes`"));
    };
    let mut reader = Reader { draft: Draft::new(lab_name), nodes: HashMap::new() };
    for (index, node) in topology["nodes"].as_array().into_iter().flatten().enumerate() {
        reader.node(&format!("topology.nodes[{index}]"), node)?;
    }
    for (index, link) in topology.get("links").and_then(Value::as_array).into_iter().flatten().enumerate() {
        reader.link(&format!("topology.links[{index}]"), link)?;
    }
    let drawings = topology.get("drawings").and_then(Value::as_array).map_or(0, Vec::len);
    if drawings > 0 {
        let what = if drawings == 1 { "1 drawing".to_string() } else { format!("{drawings} drawings") };
        reader.draft.leave_out("topology.drawings", what);
    }
    Ok(reader.draft.finish())
}

/// What a GNS3 node is in the lab.
#[derive(Clone)]
enum Member {
    Namespace(String),
    Bridge(String),
    /// Left out: what it is.
    Other(String),
}

struct Reader {
    draft: Draft,
    nodes: HashMap<String, Member>,
}

impl Reader {
    fn node(&mut self, place: &str, node: &Value) -> Result<(), ImportError> {
        let field = |key: &str| node.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
        let (id, given, kind) = (field("node_id"), field("name"), field("node_type"));
        if id.is_empty() || given.is_empty() {
            return Err(ImportError::new(place, "not a GNS3 project: a node needs `node_id` and `name`"));
        }
        if self.nodes.contains_key(&id) {
            return Err(ImportError::new(place, format!("the node id `{id}` is given twice")));
        }
        let name = interface_word(&given);
        let at = node.get("x").and_then(Value::as_f64).zip(node.get("y").and_then(Value::as_f64));
        let properties = node.get("properties");
        let property =
            |key: &str| properties.and_then(|p| p.get(key)).and_then(Value::as_str).filter(|v| !v.is_empty());
        let member = match kind.as_str() {
            "ethernet_switch" | "ethernet_hub" => {
                let bridge = self.draft.host_interface(&name);
                self.draft.add_bridge(&bridge, at);
                if kind == "ethernet_hub" {
                    self.draft.leave_out(place, format!("{given} is a hub, drawn as a bridge (which learns)"));
                }
                self.vlans(place, &given, properties);
                Member::Bridge(bridge)
            }
            "docker" | "vpcs" | "qemu" | "virtualbox" | "vmware" | "dynamips" | "iou" => {
                self.draft.add_namespace(&name, at);
                let system = match kind.as_str() {
                    "docker" => property("image").map(|image| format!("the image `{image}` of {given}")),
                    "vpcs" => None,
                    "qemu" => Some(format!(
                        "{given} is a QEMU VM (`{}`), drawn as a namespace",
                        property("hda_disk_image").unwrap_or("?")
                    )),
                    "dynamips" | "iou" => {
                        Some(format!("{given} is a {kind} router, drawn as a namespace; its configuration is not kept"))
                    }
                    _ => Some(format!("{given} is a {kind} VM, drawn as a namespace")),
                };
                if let Some(what) = system {
                    self.draft.leave_out(place, what);
                }
                for key in ["start_command", "environment", "extra_hosts"] {
                    if let Some(value) = property(key) {
                        self.draft.leave_out(
                            format!("{place}.properties.{key}"),
                            format!("`{key}: {}` of {given}", super::draft::shorten(value, 60)),
                        );
                    }
                }
                Member::Namespace(name.clone())
            }
            _ => {
                let what = format!("the {kind} node {given}");
                self.draft.leave_out(place, what.clone());
                Member::Other(what)
            }
        };
        if name != given && !matches!(member, Member::Other(_)) {
            self.draft.leave_out(format!("{place}.name"), format!("`{given}` is called `{name}`"));
        }
        self.nodes.insert(id, member);
        Ok(())
    }

    /// A switch's ports on another VLAN than 1, or trunks.
    fn vlans(&mut self, place: &str, switch: &str, properties: Option<&Value>) {
        let ports = properties.and_then(|p| p.get("ports_mapping")).and_then(Value::as_array).into_iter().flatten();
        let special: Vec<String> = ports
            .filter(|port| {
                let vlan = port.get("vlan").and_then(Value::as_u64).unwrap_or(1);
                let kind = port.get("type").and_then(Value::as_str).unwrap_or("access");
                vlan != 1 || kind != "access"
            })
            .filter_map(|port| port.get("name").and_then(Value::as_str).map(|n| format!("`{n}`")))
            .collect();
        if !special.is_empty() {
            self.draft.leave_out(
                format!("{place}.properties.ports_mapping"),
                format!("the VLANs of {switch}'s ports {}", special.join(", ")),
            );
        }
    }

    fn link(&mut self, place: &str, link: &Value) -> Result<(), ImportError> {
        let ends = link.get("nodes").and_then(Value::as_array).filter(|ends| ends.len() == 2);
        let Some(ends) = ends else {
            return Err(ImportError::new(place, "not a GNS3 project: a link has `nodes`, its 2 ends"));
        };
        let mut members = Vec::new();
        for (index, end) in ends.iter().enumerate() {
            let id = end.get("node_id").and_then(Value::as_str).unwrap_or_default();
            let member = self.nodes.get(id).cloned().ok_or_else(|| {
                ImportError::new(format!("{place}.nodes[{index}]"), format!("`{id}` is no node of the project"))
            })?;
            let adapter = end.get("adapter_number").and_then(Value::as_u64).unwrap_or(0);
            let port = end.get("port_number").and_then(Value::as_u64).unwrap_or(0);
            members.push((member, adapter, port));
        }
        if let Some(what) = members.iter().find_map(|(member, _, _)| match member {
            Member::Other(what) => Some(what.clone()),
            _ => None,
        }) {
            self.draft.leave_out(place, format!("a link to {what}"));
            return Ok(());
        }
        let mut made = Vec::new();
        for (member, adapter, port) in members {
            made.push(match member {
                Member::Namespace(node) => Endpoint::new(node, format!("eth{adapter}")),
                Member::Bridge(bridge) => {
                    let name = self.draft.host_interface(&format!("{bridge}-e{port}"));
                    Endpoint::new(bridge, name)
                }
                Member::Other(_) => unreachable!("left out above"),
            });
        }
        let netem = self.filters(place, link);
        let b = made.pop().expect("two ends");
        let a = made.pop().expect("two ends");
        let index = self.draft.connect(a, b);
        let Link::Veth(veth) = &mut self.draft.lab.links[index];
        veth.a.netem = netem.clone();
        veth.b.netem = netem;
        if link.get("suspend").and_then(Value::as_bool) == Some(true) {
            self.draft.leave_out(place, "the link is suspended in GNS3");
        }
        Ok(())
    }

    /// GNS3's packet filters as a netem: `delay` [latency, jitter] in ms, `packet_loss` and
    /// `corrupt` in %; the others are named.
    fn filters(&mut self, place: &str, link: &Value) -> Option<Netem> {
        let filters = link.get("filters").and_then(Value::as_object)?;
        let mut netem = Netem::default();
        for (name, values) in filters {
            let numbers: Vec<f64> = values.as_array().into_iter().flatten().filter_map(Value::as_f64).collect();
            match (name.as_str(), numbers.as_slice()) {
                ("delay", [latency, rest @ ..]) => {
                    netem.delay = Some(format!("{latency}ms"));
                    netem.jitter = rest.first().filter(|jitter| **jitter > 0.0).map(|jitter| format!("{jitter}ms"));
                }
                ("packet_loss", [percent]) => netem.loss = Some(format!("{percent}%")),
                ("corrupt", [percent]) => netem.corrupt = Some(format!("{percent}%")),
                _ => self.draft.leave_out(format!("{place}.filters.{name}"), format!("the `{name}` filter")),
            }
        }
        (netem != Netem::default()).then_some(netem)
    }
}
