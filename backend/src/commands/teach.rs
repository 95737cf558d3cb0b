//! `nslab explain` and `nslab reach`: the reachability the lab predicts, from the file
//! alone (no kernel): why a ping would fail, and the whole predicted matrix.

use std::net::IpAddr;
use std::path::Path;

use nslab_model::address::{is_link_local, parse_interface_address, Family};
use nslab_model::reach::{explain as explain_ping, predict_matrix, Direction, Explanation, Finding, Hop};
use nslab_model::topology::Topology;
use nslab_model::{Lab, Limits};

use super::{read_valid_lab, CliError, CliResult};

/// `nslab explain`: the ping would not be answered.
pub const EXIT_UNREACHABLE: i32 = 4;

/// Explains a ping from `from` to `to` (an address, `NODE:INTERFACE`, or a node); exits 0
/// when it would be answered, 4 when not.
pub fn explain(file: &Path, from: &str, to: &str, json: bool, limits: &Limits) -> CliResult {
    let lab = read_valid_lab(file, limits)?;
    let target = target_of(&lab, to).map_err(CliError::bad_input)?;
    let explained = explain_ping(&lab, from, target).map_err(CliError::bad_input)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&explained).expect("an explanation serialises"));
    } else {
        print!("{}", explanation_text(&explained));
    }
    if explained.reach {
        Ok(())
    } else {
        Err(CliError::said(EXIT_UNREACHABLE))
    }
}

/// Prints the predicted matrix: one line per pair, or `{"pairs": [...]}`.
pub fn reach(file: &Path, json: bool, limits: &Limits) -> CliResult {
    let lab = read_valid_lab(file, limits)?;
    let matrix = predict_matrix(&lab);
    if json {
        println!("{}", serde_json::to_string_pretty(&matrix).expect("a matrix serialises"));
        return Ok(());
    }
    let width = matrix.pairs.iter().map(|pair| pair.from.len()).max().unwrap_or(0);
    let to_width = matrix.pairs.iter().map(|pair| pair.to.to_string().len()).max().unwrap_or(0);
    for pair in &matrix.pairs {
        let verdict = if pair.reach { "reaches" } else { "does not reach" };
        println!("{:width$} -> {:to_width$}  {verdict}", pair.from, pair.to.to_string());
    }
    let reaching = matrix.pairs.iter().filter(|pair| pair.reach).count();
    println!("{reaching} of {} {} reach", matrix.pairs.len(), if matrix.pairs.len() == 1 { "pair" } else { "pairs" });
    Ok(())
}

/// What to ping: an address, `NODE:INTERFACE` (its first address, IPv4 first), or a node
/// (its first address that is not link-local, IPv4 first).
fn target_of(lab: &Lab, to: &str) -> Result<IpAddr, String> {
    if let Ok(address) = to.parse::<IpAddr>() {
        if is_link_local(&address) && address.is_ipv6() {
            return Err(format!("{to} is link-local: a ping to it needs an interface; name another address"));
        }
        return Ok(address);
    }
    if to.contains(':') {
        let v4 = nslab_model::ping::target_of(lab, to, Family::V4);
        return v4.or_else(|_| nslab_model::ping::target_of(lab, to, Family::V6));
    }
    let topology = Topology::of(lab);
    let Some(netns) = topology.netns_of_node(to) else {
        return Err(format!("`{to}` is neither an address, nor NODE:INTERFACE, nor a node of the lab"));
    };
    let addresses: Vec<IpAddr> = topology
        .interfaces_in(netns)
        .flat_map(|interface| interface.addresses.iter())
        .filter_map(|text| parse_interface_address(text).ok())
        .map(|net| net.addr())
        .filter(|address| !is_link_local(address))
        .collect();
    addresses
        .iter()
        .find(|address| address.is_ipv4())
        .or(addresses.first())
        .copied()
        .ok_or_else(|| format!("`{to}` has no address to ping"))
}

fn explanation_text(explained: &Explanation) -> String {
    let mut text = String::new();
    let source = explained.source.map(|source| format!(" (from {source})")).unwrap_or_default();
    let verdict = if explained.reach { "reaches" } else { "fails" };
    text.push_str(&format!("ping from {} to {}{source}: {verdict}\n", explained.from, explained.to));
    text.push_str(&hops_text("request", &explained.request));
    if !explained.reply.is_empty() {
        text.push_str(&hops_text("reply", &explained.reply));
    }
    if let Some(failure) = &explained.failure {
        text.push_str(&finding_text("fails", failure));
    }
    for warning in &explained.warnings {
        text.push_str(&finding_text("warning", warning));
    }
    for limit in &explained.limits {
        text.push_str(&format!("may differ: {}\n", limit.message));
    }
    text
}

fn hops_text(title: &str, hops: &[Hop]) -> String {
    let mut text = format!("{title}:\n");
    for (index, hop) in hops.iter().enumerate() {
        let mut line = format!("  {}. {}", index + 1, hop.namespace);
        if hop.delivered {
            line.push_str(": delivered");
        } else if let Some(out) = &hop.out {
            line.push_str(&format!(": out of {out}"));
            if let Some(next_hop) = hop.next_hop {
                line.push_str(&format!(" to {next_hop}"));
            }
            if let Some(route) = &hop.route {
                line.push_str(&format!(" (route {route})"));
            }
        }
        if hop.crossed.len() > 1 {
            let crossed: Vec<String> =
                hop.crossed.iter().map(|crossing| format!("{}@{}", crossing.interface, crossing.namespace)).collect();
            line.push_str(&format!(", across {}", crossed.join(" -> ")));
        }
        text.push_str(&line);
        text.push('\n');
    }
    text
}

fn finding_text(word: &str, finding: &Finding) -> String {
    let direction = match finding.direction {
        Direction::Request => "request",
        Direction::Reply => "reply",
    };
    let mut text = format!(
        "{word} at {direction} hop {} ({}): {} [{}]\n",
        finding.hop + 1,
        finding.namespace,
        finding.message,
        finding.reason.id()
    );
    if let Some(fix) = &finding.fix {
        text.push_str(&format!("fix: {}\n", fix.description));
        if !fix.command.is_empty() {
            text.push_str(&format!("  {}\n", fix.command));
        }
        if let Some(edit) = &fix.edit {
            let edit = serde_json::to_string(edit).expect("an edit serialises");
            text.push_str(&format!("  lab edit: {edit}\n"));
        }
    }
    text
}
