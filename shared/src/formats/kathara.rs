//! Kathará labs: `lab.conf` with each device's `NAME.startup`, read and written.
//!
//! Reading: every device is a namespace; `dev[N]="A"` puts its `ethN` on collision domain
//! `A` (with `"A/MAC"`, that MAC). A domain with exactly two members becomes one veth
//! between them (a point-to-point link, what an nslab user would draw); any other domain
//! becomes a Linux bridge in the host named after it, each member's interface plugged in
//! by a veth whose host end is `DEVICE-ethN`. Each device's `.startup` (and
//! `shared.startup`, run in every device) and its `dev[sysctl]`/`dev[exec]` options are
//! read for addresses, routes, forwarding and impairments; every other command, device
//! option (`image`, `bridged`, ...), `LAB_*` line other than the description, and file
//! (a daemon's configuration copied into a device) is named as left out.
//!
//! Writing: the same mapping back, `ethN` in the order of the node's links; what Kathará
//! has no place for (the lab's own interface names, bridges' addresses and port names,
//! positions) in one `# nslab {...}` comment line that Kathará skips and nslab reads back.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write;

use crate::import::{ImportError, Imported, SourceFiles};
use crate::lab::{Endpoint, Lab, Link, Node};
use crate::names::unique_interface_name;

use super::draft::{interface_word, Draft};
use super::extras::Extras;
use super::node_commands;
use super::startup::setup_lines;

/// The comment that carries the extras: `# nslab {...}`.
const EXTRAS_MARK: &str = "# nslab ";

/// The image a device runs when lab.conf names none: naming it loses nothing.
const DEFAULT_IMAGE: &str = "kathara/base";

pub fn import(files: &SourceFiles, lab_name: &str) -> Result<Imported, ImportError> {
    let (path, text) = files.main().ok_or_else(|| ImportError::new("kathara", "no file given"))?;
    let conf = LabConf::read(path, text)?;
    let folder = path.rsplit_once('/').map(|(dir, _)| format!("{dir}/")).unwrap_or_default();
    let mut draft = Draft::new(lab_name);
    let bridges: HashSet<&str> =
        conf.extras.iter().flat_map(|extras| extras.bridges.iter().map(|bridge| bridge.name.as_str())).collect();
    build(&mut draft, &conf, path, &bridges);
    let mut used: HashSet<String> = HashSet::from([path.to_string()]);
    for device in &conf.devices {
        let options = conf.options.iter().filter(|option| &option.device == device);
        for option in options {
            let Some(command) = option_command(option) else { continue };
            let place = format!("{path} line {}", option.line);
            let before = draft.left_out.len();
            node_commands::run(&mut draft, device, [(place, command.as_str())]);
            // Said as the file says it, not as the command it amounts to.
            for item in &mut draft.left_out[before..] {
                item.what = format!("`{}[{}]={}`", option.device, option.key, shorten(&option.value));
            }
        }
        for startup in [format!("{folder}shared.startup"), format!("{folder}{device}.startup")] {
            if let Some(text) = files.get(&startup) {
                used.insert(startup.clone());
                let name = startup.rsplit('/').next().unwrap_or(&startup);
                let lines = text.lines().enumerate().map(|(index, line)| (format!("{name} line {}", index + 1), line));
                node_commands::run(&mut draft, device, lines);
            }
        }
    }
    leave_out_other_files(&mut draft, files, &used, &folder, &conf.devices);
    if let Some(description) = &conf.description {
        draft.lab.description = description.clone();
    }
    if let Some(extras) = &conf.extras {
        extras.apply(&mut draft.lab);
    }
    Ok(draft.finish())
}

/// `lab.conf`, line by line.
#[derive(Default)]
struct LabConf {
    description: Option<String>,
    /// Devices in the order the file first names them.
    devices: Vec<String>,
    members: Vec<Member>,
    options: Vec<DeviceOption>,
    /// `LAB_VERSION=...` and the like: (line, key, value).
    metadata: Vec<(usize, String, String)>,
    extras: Option<Extras>,
}

/// `dev[N]="DOMAIN[/MAC]"`
struct Member {
    line: usize,
    device: String,
    index: u32,
    domain: String,
    mac: Option<String>,
}

/// `dev[key]=value`
struct DeviceOption {
    line: usize,
    device: String,
    key: String,
    value: String,
}

impl LabConf {
    fn read(path: &str, text: &str) -> Result<LabConf, ImportError> {
        let mut conf = LabConf::default();
        let mut seen: HashSet<(String, u32)> = HashSet::new();
        for (index, raw) in text.lines().enumerate() {
            let number = index + 1;
            let place = || format!("{path} line {number}");
            let line = raw.trim();
            if let Some(json) = line.strip_prefix(EXTRAS_MARK).filter(|rest| rest.starts_with('{')) {
                let extras = serde_json::from_str(json)
                    .map_err(|e| ImportError::new(place(), format!("the `# nslab` line does not read: {e}")))?;
                conf.extras = Some(extras);
                continue;
            }
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let not_kathara = || {
                ImportError::new(
                    place(),
                    format!(
                        "not a Kathará lab.conf line: `{}` (expected `device[0]=\"domain\"` or `LAB_DESCRIPTION=...`)",
                        shorten(line)
                    ),
                )
            };
            let (key, value) = line.split_once('=').ok_or_else(not_kathara)?;
            let (key, value) = (key.trim(), unquote(value.trim()));
            if key.starts_with("LAB_") && key.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
                match key {
                    "LAB_DESCRIPTION" => conf.description = Some(value),
                    _ => conf.metadata.push((number, key.to_string(), value)),
                }
                continue;
            }
            let (device, option) = key
                .strip_suffix(']')
                .and_then(|key| key.split_once('['))
                .filter(|(device, option)| is_device_name(device) && !option.is_empty())
                .ok_or_else(not_kathara)?;
            if !conf.devices.iter().any(|known| known == device) {
                conf.devices.push(device.to_string());
            }
            match option.parse::<u32>() {
                Ok(interface) => {
                    if !seen.insert((device.to_string(), interface)) {
                        return Err(ImportError::new(place(), format!("`{device}[{interface}]` is given twice")));
                    }
                    let (domain, mac) = match value.split_once('/') {
                        Some((domain, mac)) => (domain.to_string(), Some(mac.to_ascii_lowercase())),
                        None => (value, None),
                    };
                    if domain.is_empty() {
                        return Err(ImportError::new(
                            place(),
                            format!("`{device}[{interface}]` names no collision domain"),
                        ));
                    }
                    conf.members.push(Member {
                        line: number,
                        device: device.to_string(),
                        index: interface,
                        domain,
                        mac,
                    });
                }
                Err(_) => conf.options.push(DeviceOption {
                    line: number,
                    device: device.to_string(),
                    key: option.to_string(),
                    value,
                }),
            }
        }
        if conf.devices.is_empty() {
            return Err(ImportError::new(path, "not a Kathará lab: lab.conf names no device (`device[0]=\"domain\"`)"));
        }
        Ok(conf)
    }
}

fn is_device_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
}

fn unquote(value: &str) -> String {
    let quoted = |q: char| value.len() >= 2 && value.starts_with(q) && value.ends_with(q);
    if quoted('"') || quoted('\'') {
        value[1..value.len() - 1].to_string()
    } else {
        value.to_string()
    }
}

fn shorten(text: &str) -> String {
    super::draft::shorten(text, 60)
}

/// The device options nslab reads, as the command each amounts to.
fn option_command(option: &DeviceOption) -> Option<String> {
    match option.key.as_str() {
        "image" if option.value == DEFAULT_IMAGE => Some(String::new()),
        // A namespace always has IPv6: only turning it off is lost.
        "ipv6" if option.value.eq_ignore_ascii_case("true") => Some(String::new()),
        "sysctl" => Some(format!("sysctl -w {}", option.value)),
        "exec" => Some(option.value.clone()),
        _ => None,
    }
}

/// Devices, domains as veths or bridges, and the options and metadata left out.
/// `bridges`: domains that are bridges whatever their size (nslab's own, from the extras).
fn build(draft: &mut Draft, conf: &LabConf, path: &str, bridges_anyway: &HashSet<&str>) {
    for device in &conf.devices {
        draft.add_namespace(device, None);
    }
    let mut sizes: HashMap<&str, usize> = HashMap::new();
    for member in &conf.members {
        *sizes.entry(&member.domain).or_default() += 1;
    }
    let mut bridges: HashMap<&str, String> = HashMap::new();
    let mut waiting: HashMap<&str, Endpoint> = HashMap::new();
    for member in &conf.members {
        let mut end = Endpoint::new(&member.device, format!("eth{}", member.index));
        end.mac = member.mac.clone();
        if sizes[member.domain.as_str()] == 2 && !bridges_anyway.contains(member.domain.as_str()) {
            match waiting.remove(member.domain.as_str()) {
                Some(first) => {
                    draft.connect(first, end);
                }
                None => {
                    waiting.insert(&member.domain, end);
                }
            }
            continue;
        }
        let bridge = match bridges.get(member.domain.as_str()) {
            Some(bridge) => bridge.clone(),
            None => {
                let name = draft.host_interface(&member.domain);
                draft.add_bridge(&name, None);
                if name != member.domain {
                    let what = format!("collision domain `{}` is the bridge `{name}`", member.domain);
                    draft.leave_out(format!("{path} line {}", member.line), what);
                }
                bridges.insert(&member.domain, name.clone());
                name
            }
        };
        let port = draft.host_interface(&format!("{}-eth{}", member.device, member.index));
        draft.connect(end, Endpoint::new(bridge, port));
    }
    for option in &conf.options {
        if option_command(option).is_none() {
            let what = format!("`{}[{}]={}`", option.device, option.key, shorten(&option.value));
            draft.leave_out(format!("{path} line {}", option.line), what);
        }
    }
    for (line, key, value) in &conf.metadata {
        draft.leave_out(format!("{path} line {line}"), format!("`{key}={}`", shorten(value)));
    }
}

/// Files of the lab besides `lab.conf` and the startup files: named, one item a folder.
fn leave_out_other_files(
    draft: &mut Draft,
    files: &SourceFiles,
    used: &HashSet<String>,
    folder: &str,
    devices: &[String],
) {
    let mut by_place: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (path, _) in &files.files {
        if used.contains(path) {
            continue;
        }
        let relative = path.strip_prefix(folder).unwrap_or(path);
        let place = match relative.split_once('/') {
            Some((top, _)) => format!("{folder}{top}/"),
            None => path.clone(),
        };
        by_place.entry(place).or_default().push(relative.to_string());
    }
    for (place, paths) in by_place {
        let top = place.trim_end_matches('/').rsplit('/').next().unwrap_or(&place).to_string();
        let what = if place.ends_with('/') && devices.contains(&top) {
            let count = paths.len();
            let files = if count == 1 { "1 file".to_string() } else { format!("{count} files") };
            format!("{files} copied into {top} ({})", listed(&paths))
        } else if place.ends_with('/') {
            format!("the folder `{top}/` ({})", listed(&paths))
        } else {
            format!("the file `{}`, which nslab does not read", paths[0])
        };
        draft.leave_out(place, what);
    }
}

fn listed(paths: &[String]) -> String {
    let shown: Vec<String> = paths.iter().take(3).map(|path| format!("`{path}`")).collect();
    match paths.len() {
        0..=3 => shown.join(", "),
        n => format!("{}, and {} more", shown.join(", "), n - 3),
    }
}

/// The lab as a Kathará lab: `lab.conf` first, then one `NAME.startup` a device that has
/// settings.
pub fn render_files(lab: &Lab) -> Vec<(String, String)> {
    let plan = Plan::of(lab);
    let mut conf = String::new();
    let _ = writeln!(conf, "# nslab lab {}, as a Kathará lab: `kathara lstart` in this folder.", lab.name);
    if let Some(first) = lab.description.lines().next() {
        let _ = writeln!(conf, "LAB_DESCRIPTION=\"{}\"", first.replace('"', "'"));
    }
    for note in &plan.not_carried {
        let _ = writeln!(conf, "# Not carried: {note}.");
    }
    conf.push('\n');
    for (device, index, domain, mac) in &plan.members {
        match mac {
            Some(mac) => {
                let _ = writeln!(conf, "{device}[{index}]=\"{domain}/{mac}\"");
            }
            None => {
                let _ = writeln!(conf, "{device}[{index}]=\"{domain}\"");
            }
        }
    }
    for device in &plan.lonely {
        let _ = writeln!(conf, "{device}[image]=\"{DEFAULT_IMAGE}\"");
    }
    conf.push_str("\n# What Kathará has no place for (interface names, bridges, positions), for nslab to read back:\n");
    let extras = serde_json::to_string(&plan.extras).expect("extras serialise");
    let _ = writeln!(conf, "{EXTRAS_MARK}{extras}");
    let mut files = vec![("lab.conf".to_string(), conf)];
    for node in &lab.nodes {
        let renames = plan.names.get(node.name());
        let rename =
            |name: &str| renames.and_then(|names| names.get(name)).cloned().unwrap_or_else(|| name.to_string());
        let lines = setup_lines(lab, node, &rename);
        if !lines.is_empty() {
            files.push((format!("{}.startup", node.name()), lines.join("\n") + "\n"));
        }
    }
    files
}

/// How a lab maps onto devices and collision domains.
struct Plan {
    /// (device, N, domain, MAC) in link order.
    members: Vec<(String, u32, String, Option<String>)>,
    /// Device -> the lab's interface name -> `ethN`.
    names: HashMap<String, HashMap<String, String>>,
    extras: Extras,
    /// Devices without links: named by their image alone.
    lonely: Vec<String>,
    not_carried: Vec<String>,
}

impl Plan {
    fn of(lab: &Lab) -> Plan {
        let mut extras = Extras::of(lab, true);
        extras.keep_undrawn_links(lab);
        let mut plan =
            Plan { members: Vec::new(), names: HashMap::new(), extras, lonely: Vec::new(), not_carried: Vec::new() };
        let is_device = |node: &str| matches!(lab.node(node), Some(Node::Namespace(_)));
        let is_bridge = |node: &str| matches!(lab.node(node), Some(Node::Bridge(_)));
        let mut domains: HashSet<String> =
            lab.nodes.iter().filter(|n| is_bridge(n.name())).map(|n| n.name().to_string()).collect();
        let mut next_index: HashMap<String, u32> = HashMap::new();
        for Link::Veth(veth) in lab.links.iter().filter(|Link::Veth(veth)| Extras::format_draws(lab, veth)) {
            let (a, b) = (&veth.a, &veth.b);
            let domain = match (is_device(&a.node), is_device(&b.node)) {
                (true, true) => {
                    let name = unique_interface_name(&interface_word(&format!("{}-{}", a.node, b.node)), |n| {
                        domains.contains(n)
                    });
                    domains.insert(name.clone());
                    name
                }
                (true, false) if is_bridge(&b.node) => b.node.clone(),
                (false, true) if is_bridge(&a.node) => a.node.clone(),
                _ => {
                    plan.not_carried.push(format!("the link `{}` {} -- `{}` {}", a.name, a.node, b.name, b.node));
                    continue;
                }
            };
            for end in [a, b].into_iter().filter(|end| is_device(&end.node)) {
                let index = next_index.entry(end.node.clone()).or_default();
                let kathara_name = format!("eth{index}");
                plan.names.entry(end.node.clone()).or_default().insert(end.name.clone(), kathara_name.clone());
                if end.name != kathara_name {
                    plan.extras.names.entry(end.node.clone()).or_default().insert(kathara_name, end.name.clone());
                }
                plan.members.push((end.node.clone(), *index, domain.clone(), end.mac.clone()));
                *index += 1;
            }
        }
        for node in &lab.nodes {
            if is_device(node.name()) && !next_index.contains_key(node.name()) {
                plan.lonely.push(node.name().to_string());
            }
        }
        plan
    }
}

/// The lab as one file: a shell script that writes the Kathará lab's folder.
pub fn render_script(lab: &Lab) -> String {
    let folder = crate::shell::sh_word(&lab.name).into_owned();
    let mut script = String::from("#!/bin/sh\n");
    let _ = writeln!(script, "# nslab lab {}, as a Kathará lab. `sh THIS [FOLDER]` writes lab.conf and the", lab.name);
    let _ = writeln!(script, "# .startup files into FOLDER (default {folder}); then `kathara lstart -d FOLDER`.");
    script.push_str("set -e\n");
    let _ = writeln!(script, "dir=\"${{1:-{}}}\"", folder.replace('"', ""));
    script.push_str("mkdir -p \"$dir\"\n");
    for (path, text) in render_files(lab) {
        let _ = write!(script, "cat > \"$dir/{path}\" <<'NSLAB_END_OF_FILE'\n{text}NSLAB_END_OF_FILE\n");
    }
    script
}
