//! The sandbox: a persistent private user + network + mount namespace (placeholder; being
//! written).

use thiserror::Error;

#[derive(Debug, Error)]
pub enum SandboxError {
    #[error("the sandbox is not available yet")]
    NotYet,
}

pub fn enter() -> Result<(), SandboxError> {
    Err(SandboxError::NotYet)
}

pub fn hold() -> Result<(), SandboxError> {
    Err(SandboxError::NotYet)
}

pub fn stop() -> Result<bool, SandboxError> {
    Err(SandboxError::NotYet)
}

pub fn status() -> Result<String, SandboxError> {
    Err(SandboxError::NotYet)
}

pub fn shell(_command: &[String]) -> i32 {
    1
}
