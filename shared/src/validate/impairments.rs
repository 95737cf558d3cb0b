//! Impairments (`netem` on a veth end): each value must read as `tc` reads it, shares stay
//! within 0-100 %, reordering needs a delay to reorder around, and a jitter larger than
//! its delay (allowed, but rarely meant) is pointed out.

use crate::lab::{Endpoint, Lab, Link};
use crate::netem::{time, Impairment};
use crate::path::DocPath;
use crate::problem::Rule;

use super::Report;

pub(super) fn check(lab: &Lab, report: &mut Report) {
    for (index, link) in lab.links.iter().enumerate() {
        let Link::Veth(veth) = link;
        for (side, end) in [("a", &veth.a), ("b", &veth.b)] {
            let path = DocPath::root().field("links").index(index).field(side).field("netem");
            check_end(end, &path, report);
        }
    }
}

fn check_end(end: &Endpoint, path: &DocPath, report: &mut Report) {
    let Some(netem) = &end.netem else { return };
    let at = format!("`{}` on {}", end.name, end.node);
    match netem.parse() {
        Err(errors) => {
            for error in errors {
                let message = format!("the {} of {at}: {}", error.field, error.message);
                report.push(Rule::InvalidImpairment, path.field(error.field), message);
            }
        }
        Ok(impairment) => check_sense(&impairment, &at, path, report),
    }
}

fn check_sense(impairment: &Impairment, at: &str, path: &DocPath, report: &mut Report) {
    let delay = impairment.delay_ns.unwrap_or(0);
    if impairment.reorder.is_some() && delay == 0 {
        report.push(
            Rule::ReorderWithoutDelay,
            path.field("reorder"),
            format!("{at} reorders packets but delays none: reordering sends some packets ahead of delayed ones, so give a `delay` too"),
        );
    }
    if let Some(jitter) = impairment.jitter_ns.filter(|jitter| *jitter > delay) {
        report.push(
            Rule::JitterAboveDelay,
            path.field("jitter"),
            format!(
                "{at}: the jitter ({}) is larger than the delay ({}), so some packets go out sooner than others sent before them",
                time(jitter),
                time(delay)
            ),
        );
    }
}
