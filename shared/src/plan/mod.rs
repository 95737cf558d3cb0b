//! Planning: the ordered ops that make the kernel hold a lab.
//!
//! - `creation_ops` / `teardown_ops`: a lab from nothing and back (the `ip` script);
//! - `plan`: desired lab + observed kernel -> only the ops that close the difference;
//! - `destroy_ops`: remove exactly what a lab owns.
//!
//! All pure: the kernel driver observes and executes, nothing here touches the kernel.

mod creation;
mod destroy;
mod diff;
mod impairment;
mod schedule;
mod settings;
mod steps;
mod touched;

pub use creation::{creation_ops, teardown_ops};
pub use destroy::{destroy_ops, is_gone, lingering};
pub use diff::{plan, Conflict, PlanOptions};
pub use impairment::{netem_as_kernel_reports, DEFAULT_NETEM_LIMIT};
pub use schedule::Schedule;
pub use settings::{WantedRoute, DEFAULT_IPV6_METRIC, DEFAULT_MTU};
pub use steps::{steps, Step};
pub use touched::{touched, Settling};
