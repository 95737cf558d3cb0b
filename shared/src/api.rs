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
