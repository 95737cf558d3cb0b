//! Goals: what an exercise asks of a lab ("ns1 reaches 10.0.2.2", "router forwards"),
//! carried in the lab file and checked against the live kernel by `nslab check` and the
//! editor's goals panel. This module holds the goals, the addresses they name, and the
//! checklist's shape; the checking itself needs the kernel and lives in the backend.

use std::net::IpAddr;

use ipnet::IpNet;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};

use crate::address::parse_interface_address;
use crate::lab::Lab;
use crate::serde_tagged::{self, Tagged};
use crate::topology::{Role, Topology};

/// One thing the lab must achieve. Each may carry a hint the student asks for.
// Read by `serde_tagged` (see `GoalKind`), written by the derive.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Goal {
    /// A ping from `from` to `to` is answered.
    Reach(ReachGoal),
    /// A ping from `from` to `to` is not answered (isolation).
    NoReach(ReachGoal),
    /// The namespace has a route to `to` (a connected subnet counts).
    Route(RouteGoal),
    /// The namespace forwards packets of the family between its interfaces.
    Forwarding(ForwardingGoal),
    /// The interface is up with an address in `subnet`.
    Address(AddressGoal),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReachGoal {
    /// The namespace (or host node) the ping starts in.
    pub from: String,
    /// An address (`10.0.2.2`), `NODE:INTERFACE` (that interface's first address, IPv4
    /// first), or a node's name (every address the node holds).
    pub to: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteGoal {
    /// The namespace (or host node) that must hold the route.
    pub node: String,
    /// `default` (IPv4; `default6` for IPv6) or a prefix (`10.0.2.0/24`).
    pub to: String,
    /// The gateway the route must use, when it matters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ForwardingGoal {
    /// The namespace (or host node) that must forward.
    pub node: String,
    /// `ipv4` (the default) or `ipv6`.
    #[serde(default, skip_serializing_if = "is_ipv4")]
    pub family: GoalFamily,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressGoal {
    /// The node the interface is in (a bridge node for the bridge itself).
    pub node: String,
    pub interface: String,
    /// The subnet the address must be in (`10.0.1.0/24`); the prefix length must match too.
    pub subnet: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GoalFamily {
    #[default]
    Ipv4,
    Ipv6,
}

fn is_ipv4(family: &GoalFamily) -> bool {
    *family == GoalFamily::Ipv4
}

/// The `kind`s of `Goal`.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case", variant_identifier)]
pub enum GoalKind {
    Reach,
    NoReach,
    Route,
    Forwarding,
    Address,
}

impl Tagged for Goal {
    const NAME: &'static str = "Goal";
    const TAG: &'static str = "kind";
    type Kind = GoalKind;

    fn read_variant<'de, D: Deserializer<'de>>(kind: GoalKind, fields: D) -> Result<Goal, D::Error> {
        Ok(match kind {
            GoalKind::Reach => Goal::Reach(ReachGoal::deserialize(fields)?),
            GoalKind::NoReach => Goal::NoReach(ReachGoal::deserialize(fields)?),
            GoalKind::Route => Goal::Route(RouteGoal::deserialize(fields)?),
            GoalKind::Forwarding => Goal::Forwarding(ForwardingGoal::deserialize(fields)?),
            GoalKind::Address => Goal::Address(AddressGoal::deserialize(fields)?),
        })
    }
}

impl<'de> Deserialize<'de> for Goal {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Goal, D::Error> {
        serde_tagged::deserialize(deserializer)
    }
}

impl Goal {
    pub fn hint(&self) -> Option<&str> {
        match self {
            Goal::Reach(goal) | Goal::NoReach(goal) => goal.hint.as_deref(),
            Goal::Route(goal) => goal.hint.as_deref(),
            Goal::Forwarding(goal) => goal.hint.as_deref(),
            Goal::Address(goal) => goal.hint.as_deref(),
        }
    }

    /// The goal in a sentence, for the checklist: "ns1 reaches 10.0.2.2".
    pub fn describe(&self) -> String {
        match self {
            Goal::Reach(goal) => format!("{} reaches {}", goal.from, goal.to),
            Goal::NoReach(goal) => format!("{} does not reach {}", goal.from, goal.to),
            Goal::Route(goal) => match &goal.via {
                Some(via) => format!("{} has a route to {} via {via}", goal.node, goal.to),
                None => format!("{} has a route to {}", goal.node, goal.to),
            },
            Goal::Forwarding(goal) => format!("{} forwards {}", goal.node, goal.family.word()),
            Goal::Address(goal) => {
                format!("{} {} is up with an address in {}", goal.node, goal.interface, goal.subnet)
            }
        }
    }
}

impl GoalFamily {
    pub fn word(self) -> &'static str {
        match self {
            GoalFamily::Ipv4 => "IPv4",
            GoalFamily::Ipv6 => "IPv6",
        }
    }
}

/// The addresses a reach goal pings: the address itself, the interface's first address
/// (IPv4 first), or every address of the node (link-local ones aside).
pub fn goal_targets(lab: &Lab, to: &str) -> Result<Vec<IpAddr>, String> {
    if let Ok(address) = to.parse::<IpAddr>() {
        return Ok(vec![address]);
    }
    let topology = Topology::of(lab);
    if let Some((node, interface)) = to.split_once(':') {
        let netns = topology.netns_of_node(node).ok_or_else(|| format!("there is no node called `{node}`"))?;
        let found = topology
            .interfaces_in(netns)
            .find(|found| found.name == interface)
            .ok_or_else(|| format!("`{node}` has no interface `{interface}`"))?;
        let addresses = usable_addresses(found.addresses);
        let first = addresses.iter().find(|a| a.is_ipv4()).or(addresses.first());
        return first.map(|address| vec![*address]).ok_or_else(|| format!("`{to}` has no address"));
    }
    let netns = topology
        .netns_of_node(to)
        .ok_or_else(|| format!("`{to}` is neither an address, NODE:INTERFACE nor a node of the lab"))?;
    // A bridge node holds only the bridge's own addresses, not its namespace's.
    let is_bridge = matches!(lab.node(to), Some(crate::lab::Node::Bridge(_)));
    let addresses: Vec<IpAddr> = topology
        .interfaces_in(netns)
        .filter(|interface| !is_bridge || (matches!(interface.role, Role::Bridge { .. }) && interface.name == to))
        .flat_map(|interface| usable_addresses(interface.addresses))
        .collect();
    if addresses.is_empty() {
        return Err(format!("`{to}` holds no address to reach"));
    }
    Ok(addresses)
}

fn usable_addresses(texts: &[String]) -> Vec<IpAddr> {
    texts
        .iter()
        .filter_map(|text| parse_interface_address(text).ok())
        .map(|net| net.addr())
        .filter(|address| !crate::address::is_link_local(address))
        .collect()
}

/// The destination of a route goal: `default` / `default6`, or a prefix.
pub fn route_goal_destination(to: &str) -> Result<IpNet, String> {
    match to {
        "default" => Ok(IpNet::V4(Default::default())),
        "default6" => Ok(IpNet::V6(Default::default())),
        _ => to
            .parse::<IpNet>()
            .map(|net| net.trunc())
            .map_err(|_| format!("`{to}` is not `default`, `default6` or a prefix like 10.0.2.0/24")),
    }
}

/// The subnet of an address goal: a prefix, its host bits ignored.
pub fn address_goal_subnet(subnet: &str) -> Result<IpNet, String> {
    subnet.parse::<IpNet>().map(|net| net.trunc()).map_err(|_| format!("`{subnet}` is not a subnet like 10.0.1.0/24"))
}

/// Whether `family` is the family of `address`.
pub fn family_matches(family: GoalFamily, address: &IpAddr) -> bool {
    address.is_ipv4() == (family == GoalFamily::Ipv4)
}

/// One goal as checked: whether it holds, and what was seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoalResult {
    /// Index of the goal in the lab's `goals`.
    pub index: usize,
    /// The goal in a sentence.
    pub goal: String,
    pub met: bool,
    /// What was seen: "10.0.2.2 answered in 0.1 ms", "no default route in ns1".
    pub detail: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// Every goal of a lab as checked, in the file's order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Checklist {
    pub goals: Vec<GoalResult>,
    /// True when every goal holds.
    pub all_met: bool,
}

impl Checklist {
    pub fn new(goals: Vec<GoalResult>) -> Self {
        let all_met = goals.iter().all(|goal| goal.met);
        Checklist { goals, all_met }
    }

    pub fn met_count(&self) -> usize {
        self.goals.iter().filter(|goal| goal.met).count()
    }
}
