//! `nslab list`: the labs the kernel holds, found by their marks, each compared with the
//! record of its last apply.

use std::collections::BTreeMap;

use nslab_model::footprint::{footprints, standing, Footprint, Standing};
use nslab_model::{Lab, Limits};
use serde::Serialize;

use super::{print_kernel_notes, runtime, CliError, CliResult};
use crate::engine::Engine;
use crate::records;

/// One lab, as `--json` prints it.
#[derive(Debug, Serialize)]
struct Listed {
    name: String,
    #[serde(flatten)]
    footprint: Footprint,
    standing: Standing,
}

pub fn list(json: bool, limits: &Limits) -> CliResult {
    let observed = runtime().block_on(async { Engine::new(*limits).observe().await }).map_err(CliError::failed)?;
    print_kernel_notes(&observed);
    // Only records that hold a valid lab of their name: a stray file there is no lab.
    let recorded: BTreeMap<String, Lab> = records::recorded_labs()
        .into_iter()
        .filter_map(|name| Some((name.clone(), records::recorded_lab(&name, limits)?)))
        .collect();
    let mut labs: BTreeMap<String, Footprint> = footprints(&observed);
    // A record whose lab the kernel no longer holds is listed too: it says so.
    for name in recorded.keys() {
        labs.entry(name.clone()).or_default();
    }
    let listed: Vec<Listed> = labs
        .into_iter()
        .map(|(name, footprint)| {
            let standing = standing(recorded.get(&name), &observed);
            Listed { name, footprint, standing }
        })
        .collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&listed).expect("plain data serializes"));
    } else {
        print!("{}", table(&listed));
    }
    Ok(())
}

fn table(listed: &[Listed]) -> String {
    if listed.is_empty() {
        return "nslab: the kernel holds no labs\n".to_string();
    }
    let width = listed.iter().map(|lab| lab.name.len()).max().unwrap_or(0).max("LAB".len());
    let mut text = format!("{:<width$}  NAMESPACES  INTERFACES  IN THE HOST  STATE\n", "LAB");
    for lab in listed {
        text += &format!(
            "{:<width$}  {:>10}  {:>10}  {:>11}  {}\n",
            lab.name,
            lab.footprint.namespaces.len(),
            lab.footprint.interfaces,
            lab.footprint.host_interfaces.len(),
            describe(lab.standing)
        );
    }
    let only_records: Vec<&str> =
        listed.iter().filter(|lab| lab.standing == Standing::Absent).map(|lab| lab.name.as_str()).collect();
    if !only_records.is_empty() {
        text += &format!(
            "nslab: `nslab destroy --lab NAME` removes the record of a lab with nothing in the kernel ({})\n",
            only_records.join(", ")
        );
    }
    text
}

fn describe(standing: Standing) -> String {
    let plural = |count: usize, what: &str| format!("{count} {what}{}", if count == 1 { "" } else { "s" });
    match standing {
        Standing::AsApplied => "as applied".into(),
        Standing::Changed { changes } => format!("{} from its last apply", plural(changes, "change")),
        Standing::Conflicting { conflicts } => format!("{} with what is there", plural(conflicts, "conflict")),
        Standing::Unrecorded => "no record of its apply".into(),
        Standing::Absent => "nothing in the kernel (only its record)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(name: &str, namespaces: usize, standing: Standing) -> Listed {
        let footprint = Footprint {
            namespaces: (0..namespaces).map(|index| format!("n{index}")).collect(),
            interfaces: 2 * namespaces,
            host_interfaces: vec!["br0".into()],
        };
        Listed { name: name.into(), footprint, standing }
    }

    #[test]
    fn the_table_lines_up_under_its_header_and_says_each_state() {
        let text = table(&[
            listed("a-long-lab-name", 300, Standing::AsApplied),
            listed("b", 1, Standing::Changed { changes: 1 }),
            listed("c", 2, Standing::Conflicting { conflicts: 3 }),
            listed("d", 0, Standing::Unrecorded),
            listed("e", 0, Standing::Absent),
        ]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "LAB              NAMESPACES  INTERFACES  IN THE HOST  STATE");
        assert_eq!(lines[1], "a-long-lab-name         300         600            1  as applied");
        assert_eq!(lines[2], "b                         1           2            1  1 change from its last apply");
        assert!(lines[3].ends_with("  3 conflicts with what is there"), "{}", lines[3]);
        assert!(lines[4].ends_with("  no record of its apply"), "{}", lines[4]);
        assert!(lines[5].ends_with("  nothing in the kernel (only its record)"), "{}", lines[5]);
        assert_eq!(
            lines[6],
            "nslab: `nslab destroy --lab NAME` removes the record of a lab with nothing in the kernel (e)"
        );
        assert_eq!(table(&[listed("a", 1, Standing::AsApplied)]).lines().count(), 2, "no such line without one");
    }

    #[test]
    fn no_labs_is_said_in_words() {
        assert_eq!(table(&[]), "nslab: the kernel holds no labs\n");
    }

    #[test]
    fn json_gives_the_footprint_at_the_top_and_the_standing_by_name() {
        let value = serde_json::to_value(listed("b", 1, Standing::Changed { changes: 2 })).unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "name": "b", "namespaces": ["n0"], "interfaces": 2, "host_interfaces": ["br0"],
                "standing": { "state": "changed", "changes": 2 }
            })
        );
    }
}
