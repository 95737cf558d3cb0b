//! Mininet's MiniEdit files (`.mn`, JSON), read.
//!
//! Hosts are namespaces and legacy routers namespaces with IPv4 forwarding; switches
//! (Open vSwitch, user or legacy ones) are Linux bridges in the host. Interfaces are named
//! as Mininet names them: `NODE-ethN`, counted in the order of the links from 0 on hosts and
//! routers and from 1 on switches. A host's `ip` goes on its first interface (`/8` when the
//! file gives no prefix length, as Mininet's `setIP` does; the address MiniEdit derives
//! from `ipBase` and the host's number when it gives none), its `defaultRoute` becomes a
//! default route, its `startCommand` is read as commands run in it. A link's `bw` (Mbit/s),
//! `delay`, `jitter`, `loss` (%) and `max_queue_size` become the netem of both its ends, as
//! Mininet's `TCLink` sets both. Controllers, OpenFlow and switch settings, CPU limits and
//! the like are named as left out.

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;

use serde_json::{Map, Value};

use crate::import::{ImportError, Imported, SourceFiles};
use crate::lab::{Endpoint, Node, Route};
use crate::netem::Netem;

use super::draft::{describe_setting, read_coordinate, Draft};
use super::node_commands;

pub fn import(files: &SourceFiles, lab_name: &str) -> Result<Imported, ImportError> {
    let (path, text) = files.main().ok_or_else(|| ImportError::new("miniedit", "no file given"))?;
    let document: Value = serde_json::from_str(text)
        .map_err(|e| ImportError::new(format!("{path} line {}", e.line()), format!("not a MiniEdit file: {e}")))?;
    let Some(root) = document.as_object().filter(|root| root.contains_key("hosts") || root.contains_key("switches"))
    else {
        return Err(ImportError::new(path, "not a MiniEdit file: it has no `hosts` nor `switches`"));
    };
    let mut reader = Reader { draft: Draft::new(lab_name), ports: HashMap::new(), switches: HashSet::new() };
    let base = ip_base(root);
    let hosts = list(root, "hosts")?;
    let switches = list(root, "switches")?;
    for (index, host) in hosts.iter().enumerate() {
        reader.node(&format!("hosts[{index}]"), host, "h", false)?;
    }
    for (index, switch) in switches.iter().enumerate() {
        reader.node(&format!("switches[{index}]"), switch, "s", true)?;
    }
    for (index, link) in list(root, "links")?.iter().enumerate() {
        reader.link(&format!("links[{index}]"), link)?;
    }
    for (index, host) in hosts.iter().enumerate() {
        reader.host_settings(&format!("hosts[{index}]"), host, base);
    }
    for (index, controller) in list(root, "controllers")?.iter().enumerate() {
        let opts = controller.get("opts");
        let name = opts.and_then(|o| o.get("hostname")).and_then(Value::as_str).unwrap_or("c0");
        let kind = opts.and_then(|o| o.get("controllerType")).and_then(Value::as_str).unwrap_or("ref");
        reader.draft.leave_out(format!("controllers[{index}]"), format!("the OpenFlow controller {name} ({kind})"));
    }
    if let Some(application) = root.get("application").and_then(Value::as_object) {
        for (key, target) in [("netflow", "nflowTarget"), ("sflow", "sflowTarget")] {
            let set =
                application.get(key).and_then(|v| v.get(target)).and_then(Value::as_str).filter(|t| !t.is_empty());
            if let Some(target) = set {
                reader.draft.leave_out(format!("application.{key}"), format!("{key} to `{target}`"));
            }
        }
    }
    Ok(reader.draft.finish())
}

fn list<'v>(root: &'v Map<String, Value>, key: &str) -> Result<Vec<&'v Value>, ImportError> {
    match root.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => Ok(items.iter().collect()),
        Some(_) => Err(ImportError::new(key, format!("not a MiniEdit file: `{key}` must be a list"))),
    }
}

/// `application.ipBase`: the network hosts without an `ip` are numbered in.
fn ip_base(root: &Map<String, Value>) -> Ipv4Addr {
    let text = root.get("application").and_then(|a| a.get("ipBase")).and_then(Value::as_str).unwrap_or("10.0.0.0/8");
    text.split('/').next().and_then(|ip| ip.parse().ok()).unwrap_or(Ipv4Addr::new(10, 0, 0, 0))
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

struct Reader {
    draft: Draft,
    /// The next port number of each node (`NODE-ethN`).
    ports: HashMap<String, u32>,
    switches: HashSet<String>,
}

impl Reader {
    fn node(&mut self, place: &str, node: &Value, prefix: &str, is_switch: bool) -> Result<(), ImportError> {
        let opts = node.get("opts").and_then(Value::as_object);
        let number = node.get("number").and_then(text).unwrap_or_default();
        let name = opts
            .and_then(|o| o.get("hostname"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| format!("{prefix}{number}"));
        if name.is_empty() || self.draft.has_node(&name) {
            return Err(ImportError::new(
                place,
                format!("not a MiniEdit file: the node name `{name}` is empty or given twice"),
            ));
        }
        let at = node
            .get("x")
            .and_then(text)
            .and_then(|x| read_coordinate(&x))
            .zip(node.get("y").and_then(text).and_then(|y| read_coordinate(&y)));
        let kind = opts.and_then(|o| o.get("switchType")).and_then(Value::as_str).unwrap_or("default");
        if is_switch && kind != "legacyRouter" {
            self.draft.add_bridge(&name, at);
            self.draft.take_host_interface(&name);
            self.switches.insert(name.clone());
            self.ports.insert(name.clone(), 1);
            if kind != "legacySwitch" {
                self.draft.leave_out(place, format!("{name} is an OpenFlow switch ({kind}), drawn as a Linux bridge"));
            }
        } else {
            self.draft.add_namespace(&name, at);
            self.ports.insert(name.clone(), 0);
            if kind == "legacyRouter" {
                if let Some(Node::Namespace(router)) = self.draft.node_mut(&name) {
                    router.ipv4_forwarding = true;
                }
            }
        }
        for (key, value) in opts.into_iter().flatten() {
            // `controllers`: each controller is named once, below.
            let kept =
                ["hostname", "nodeNum", "ip", "defaultRoute", "startCommand", "switchType", "sched", "controllers"];
            let empty = matches!(value, Value::String(s) if s.is_empty() || s == "0")
                || matches!(value, Value::Array(items) if items.is_empty());
            // A switch's start command is not run: it configures Open vSwitch.
            let read = kept.contains(&key.as_str()) && !(is_switch && key == "startCommand");
            if read || empty {
                continue;
            }
            let what = match value {
                Value::Array(items) => describe_setting(key, None, Some(items.len())),
                Value::Object(entries) => describe_setting(key, None, Some(entries.len())),
                other => describe_setting(key, text(other).as_deref(), None),
            };
            self.draft.leave_out(format!("{place}.opts.{key}"), format!("{what} of {name}"));
        }
        Ok(())
    }

    fn link(&mut self, place: &str, link: &Value) -> Result<(), ImportError> {
        let end = |field: &str| -> Result<String, ImportError> {
            let name = link.get(field).and_then(Value::as_str).unwrap_or_default();
            if self.draft.has_node(name) {
                Ok(name.to_string())
            } else {
                Err(ImportError::new(format!("{place}.{field}"), format!("`{name}` is no host or switch of the file")))
            }
        };
        let (src, dest) = (end("src")?, end("dest")?);
        let mut ends = Vec::new();
        for node in [&src, &dest] {
            let port = self.ports.entry(node.clone()).or_default();
            let name = format!("{node}-eth{port}");
            *port += 1;
            if self.switches.contains(node) {
                self.draft.take_host_interface(&name);
            }
            ends.push(Endpoint::new(node.as_str(), name));
        }
        let netem = link.get("opts").and_then(Value::as_object).and_then(|opts| self.netem(place, opts));
        let b = ends.pop().expect("two ends");
        let a = ends.pop().expect("two ends");
        let index = self.draft.connect(a, b);
        let crate::lab::Link::Veth(veth) = &mut self.draft.lab.links[index];
        veth.a.netem = netem.clone();
        veth.b.netem = netem;
        Ok(())
    }

    /// `TCLink`'s options as a netem; a value that does not read is named.
    fn netem(&mut self, place: &str, opts: &Map<String, Value>) -> Option<Netem> {
        let mut netem = Netem::default();
        for (key, value) in opts {
            let value = text(value).unwrap_or_default();
            let read = match key.as_str() {
                "bw" => checked(&format!("{value}mbit"), crate::netem::parse_rate).map(|rate| netem.rate = Some(rate)),
                "delay" => checked(&with_time_unit(&value), crate::netem::parse_time).map(|d| netem.delay = Some(d)),
                "jitter" => checked(&with_time_unit(&value), crate::netem::parse_time).map(|j| netem.jitter = Some(j)),
                "loss" => checked(&format!("{value}%"), crate::netem::parse_chance).map(|l| netem.loss = Some(l)),
                "max_queue_size" => value.parse().ok().map(|limit| netem.limit = Some(limit)),
                _ => None,
            };
            if read.is_none() {
                self.draft.leave_out(format!("{place}.opts.{key}"), format!("the link option `{key}: {value}`"));
            }
        }
        (netem != Netem::default()).then_some(netem)
    }

    /// A host's address, default route and start command, once its links exist.
    fn host_settings(&mut self, place: &str, host: &Value, base: Ipv4Addr) {
        let Some(opts) = host.get("opts").and_then(Value::as_object) else { return };
        let Some(name) = opts.get("hostname").and_then(Value::as_str).map(str::to_string) else { return };
        let number = opts.get("nodeNum").and_then(|n| n.as_u64()).unwrap_or(0) as u32;
        let address = match opts.get("ip").and_then(Value::as_str).filter(|ip| !ip.is_empty()) {
            Some(ip) if ip.contains('/') => ip.to_string(),
            Some(ip) => format!("{ip}/8"),
            None => format!("{}/8", Ipv4Addr::from(u32::from(base).wrapping_add(number))),
        };
        let first = format!("{name}-eth0");
        match self.draft.endpoint_mut(&name, &first) {
            Some(end) => end.addresses.push(address),
            None => self
                .draft
                .leave_out(format!("{place}.opts.ip"), format!("the address {address} of {name}, which has no link")),
        }
        if let Some(gateway) = opts.get("defaultRoute").and_then(Value::as_str).filter(|g| !g.is_empty()) {
            if let Some(Node::Namespace(namespace)) = self.draft.node_mut(&name) {
                namespace.routes.push(Route {
                    to: "default".into(),
                    via: Some(gateway.to_string()),
                    dev: None,
                    metric: None,
                });
            }
        }
        if let Some(command) = opts.get("startCommand").and_then(Value::as_str).filter(|c| !c.is_empty()) {
            node_commands::run(&mut self.draft, &name, [(format!("{place}.opts.startCommand"), command)]);
        }
    }
}

fn checked(text: &str, parse: fn(&str) -> Result<u64, String>) -> Option<String> {
    parse(text).ok().map(|_| text.to_string())
}

/// A time as `tc` takes it: a bare number is microseconds.
fn with_time_unit(value: &str) -> String {
    if value.chars().last().is_some_and(|c| c.is_ascii_digit()) {
        format!("{value}us")
    } else {
        value.to_string()
    }
}
