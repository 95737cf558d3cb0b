//! What is wrong with a lab, where, and in words a student understands.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::path::DocPath;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Blocks apply.
    Error,
    /// Shown, but the lab can be applied.
    Warning,
}

/// Which check found a problem. Stable identifiers: the editor and tests match on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    // Reading the file.
    FileTooLarge,
    Syntax,
    UnsupportedVersion,
    Shape,
    // Names.
    EmptyName,
    LabName,
    InterfaceNameTooLong,
    InterfaceNameCharacters,
    NamespaceName,
    DuplicateNodeName,
    DuplicateInterfaceName,
    ReservedName,
    SecondHost,
    // References.
    UnknownNode,
    WrongNodeKind,
    VethSameBridge,
    UnknownRouteDevice,
    // Addresses and routes.
    InvalidAddress,
    NetworkAddress,
    BroadcastAddress,
    UnusableAddress,
    DuplicateAddress,
    DuplicateAddressOnLink,
    InvalidMac,
    InvalidRoute,
    DuplicateRoute,
    // Impairments.
    InvalidImpairment,
    ReorderWithoutDelay,
    // Limits.
    MtuOutOfRange,
    TooManyNodes,
    TooManyLinks,
    // Lab sense: warnings.
    SubnetMismatch,
    MtuMismatch,
    MtuTooSmallForIpv6,
    GatewayUnreachable,
    BridgeLoop,
    IsolatedNamespace,
    AddressOnBridgePort,
    DuplicateMac,
    JitterAboveDelay,
    // Goals.
    InvalidGoal,
}

impl Rule {
    pub fn severity(self) -> Severity {
        use Rule::*;
        match self {
            SubnetMismatch
            | MtuMismatch
            | MtuTooSmallForIpv6
            | GatewayUnreachable
            | BridgeLoop
            | IsolatedNamespace
            | AddressOnBridgePort
            | DuplicateMac
            | JitterAboveDelay
            | DuplicateAddressOnLink => Severity::Warning,
            _ => Severity::Error,
        }
    }

    /// The identifier used in the wire format and in tests (`duplicate-address`).
    pub fn id(self) -> String {
        serde_json::to_value(self).ok().and_then(|value| value.as_str().map(str::to_string)).unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub severity: Severity,
    pub rule: Rule,
    /// Where in the document (`links[2].b.addresses[0]`); empty for the whole document.
    pub path: DocPath,
    pub message: String,
}

impl Problem {
    pub fn new(rule: Rule, path: DocPath, message: impl Into<String>) -> Self {
        Problem { severity: rule.severity(), rule, path, message: message.into() }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{word} at {}: {} [{}]", self.path, self.message, self.rule.id())
    }
}

/// True when any problem blocks apply.
pub fn has_errors(problems: &[Problem]) -> bool {
    problems.iter().any(Problem::is_error)
}

/// `the host namespace` -> `The host namespace`, for sentences that start with a name.
pub(crate) fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
