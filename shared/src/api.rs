//! HTTP bodies shared by the server and the browser.

use serde::{Deserialize, Serialize};

use crate::lab::Lab;
use crate::problem::Problem;

/// `GET /api/lab`: the lab being edited, with what validation says of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabView {
    /// Bumped on every accepted change of the document.
    pub revision: u64,
    pub lab: Lab,
    pub problems: Vec<Problem>,
}

/// Every error answer of the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
}

/// How far one op of an apply or destroy has got (an event per op, in plan order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpProgress {
    /// Position in the plan, from 0.
    pub index: usize,
    pub total: usize,
    /// The op as an iproute2 command.
    pub command: String,
    pub state: OpState,
    /// The kernel's reason, in words, when the op failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpState {
    Started,
    Done,
    Failed,
    /// Undone after a later op failed.
    Undone,
}
