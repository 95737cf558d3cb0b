//! `nslab serve`: the editor, the API and the live event stream.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use nslab_model::Limits;

use super::{CliError, CliResult};
use crate::examples;
use crate::lab_file::read_lab;
use crate::server::{self, Access};

pub struct ServeArgs<'a> {
    pub file: Option<&'a Path>,
    pub listen: SocketAddr,
    pub web_root: Option<PathBuf>,
    pub state_dir: Option<PathBuf>,
    pub token: Option<String>,
    pub viewer_token: Option<String>,
    pub terminals: server::TerminalSettings,
    pub limits: Limits,
}

pub fn serve(args: ServeArgs) -> CliResult {
    let opened = match args.file {
        Some(file) => Some(read_lab(file, &args.limits)?),
        None => None,
    };
    let access = access(args.listen, args.token, args.viewer_token).map_err(CliError::bad_input)?;
    let config = server::Config {
        listen: args.listen,
        web_root: args.web_root.unwrap_or_else(server::default_web_root),
        state_dir: args.state_dir.unwrap_or_else(server::default_state_dir),
        limits: args.limits,
        access,
        terminals: args.terminals,
    };
    let fallback = || examples::example(examples::DEFAULT_EXAMPLE).expect("the default example is bundled");
    server::run(config, opened, fallback).map_err(CliError::failed)
}

/// Loopback needs no token unless one is given; anything else always does (a generated
/// one when none is given: anyone who can reach the port could otherwise run the lab).
fn access(listen: SocketAddr, token: Option<String>, viewer: Option<String>) -> Result<Access, String> {
    if token.as_deref().is_some_and(|t| t.len() < 16) || viewer.as_deref().is_some_and(|t| t.len() < 16) {
        return Err("tokens must be at least 16 characters long".to_string());
    }
    let full = match token {
        Some(token) => Some(token),
        None if listen.ip().is_loopback() => None,
        None => Some(server::generate_token().map_err(|e| format!("cannot make a token: {e}"))?),
    };
    if full.is_none() && viewer.is_some() {
        return Err("a viewer token needs a full token too (--token)".to_string());
    }
    if full.is_some() && full == viewer {
        return Err(
            "the viewer token must differ from the full token: with the same token a viewer could edit and run the lab"
                .to_string(),
        );
    }
    Ok(Access { full, viewer })
}
