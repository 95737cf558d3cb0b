//! The command line: parse, run, and map every outcome to an exit code
//! (0 ok, 1 failure, 2 bad input).

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};
use nslab_model::problem::has_errors;
use nslab_model::{validate_with, Lab, Limits, Problem};

use crate::lab_file::{read_lab, LabFileError};
use crate::{examples, sandbox, server};

pub const EXIT_OK: i32 = 0;
pub const EXIT_FAILURE: i32 = 1;
pub const EXIT_BAD_INPUT: i32 = 2;

/// Draw, apply and watch Linux network-namespace labs.
///
/// A lab is a JSON file of namespaces, bridges and veth pairs (see `nslab schema`).
/// `nslab serve` opens the editor in the browser; the other commands work headless.
#[derive(Debug, Parser)]
#[command(name = "nslab", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    /// Run inside nslab's sandbox: a private user, network and mount namespace with its own
    /// /run/netns, started on first use and kept until `nslab sandbox stop`, so that
    /// `nslab --sandbox apply` and a later `nslab --sandbox destroy` see the same lab.
    /// The host's namespaces are never touched. Works as root, and as an ordinary user
    /// where the kernel allows unprivileged user namespaces.
    #[arg(long, global = true)]
    pub sandbox: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a lab file and print every problem with its place in the file.
    ///
    /// Exits 0 when the lab can be applied (warnings are printed but allowed),
    /// 2 when it has errors or cannot be read.
    Validate {
        /// The lab file (`-` for standard input).
        file: PathBuf,
        /// Print problems as JSON instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Write a lab as canonical JSON, or as an `ip` script that builds it.
    ///
    /// The script takes `up` or `down`: `sh lab.sh up` builds the lab with iproute2,
    /// `sh lab.sh down` removes it.
    Export {
        /// The lab file (`-` for standard input).
        file: PathBuf,
        #[arg(long, short, value_enum, default_value_t = ExportFormat::Json)]
        format: ExportFormat,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Print the JSON Schema of the lab file format (for editors and other tools).
    Schema,
    /// Manage the sandbox that `--sandbox` runs commands in.
    Sandbox {
        #[command(subcommand)]
        action: SandboxAction,
    },
    /// Serve the editor and the API on a local port.
    ///
    /// Opens FILE, or the bundled seed-bridge example when no file is given.
    Serve {
        /// The lab to open.
        file: Option<PathBuf>,
        /// Address and port to listen on. Only loopback addresses are allowed for now.
        #[arg(long, default_value = "127.0.0.1:4780")]
        listen: SocketAddr,
        /// Directory with the built editor (Trunk's `dist/`).
        #[arg(long, env = "NSLAB_WEB_ROOT")]
        web_root: Option<PathBuf>,
        #[command(flatten)]
        limits: LimitArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum SandboxAction {
    /// Open a shell inside the sandbox (or run COMMAND there); `ip netns exec` works as usual.
    Shell {
        /// The command to run instead of an interactive shell.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        command: Vec<String>,
    },
    /// Stop the sandbox: every namespace, interface and mount in it goes away.
    Stop,
    /// Say whether the sandbox is running.
    Status,
    /// Internal: the process that keeps the sandbox alive.
    #[command(hide = true)]
    Hold,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// The canonical lab file.
    Json,
    /// A shell script of iproute2 commands, with `up` and `down`.
    Ip,
}

#[derive(Debug, Clone, Copy, clap::Args)]
pub struct LimitArgs {
    /// Refuse labs with more nodes than this.
    #[arg(long, default_value_t = Limits::default().max_nodes)]
    max_nodes: usize,
    /// Refuse labs with more links than this.
    #[arg(long, default_value_t = Limits::default().max_links)]
    max_links: usize,
}

impl LimitArgs {
    fn limits(self) -> Limits {
        Limits { max_nodes: self.max_nodes, max_links: self.max_links, ..Limits::default() }
    }
}

pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Validate { file, json, limits } => validate(&file, json, &limits.limits()),
        Command::Export { file, format, output, limits } => export(&file, format, output.as_deref(), &limits.limits()),
        Command::Schema => {
            print!("{}", nslab_model::schema::lab_schema_json());
            EXIT_OK
        }
        Command::Serve { file, listen, web_root, limits } => serve(file.as_deref(), listen, web_root, limits.limits()),
        Command::Sandbox { action } => sandbox_action(action),
    }
}

/// True when the command must run inside the sandbox (entered before anything else runs).
pub fn wants_sandbox(cli: &Cli) -> bool {
    cli.sandbox || matches!(cli.command, Command::Sandbox { action: SandboxAction::Shell { .. } })
}

fn sandbox_action(action: SandboxAction) -> i32 {
    let result = match action {
        SandboxAction::Shell { command } => return sandbox::shell(&command),
        SandboxAction::Hold => sandbox::hold(),
        SandboxAction::Stop => sandbox::stop().map(|was_running| {
            println!("{}", if was_running { "nslab: sandbox stopped" } else { "nslab: no sandbox was running" });
        }),
        SandboxAction::Status => sandbox::status().map(|line| println!("{line}")),
    };
    match result {
        Ok(()) => EXIT_OK,
        Err(error) => {
            eprintln!("nslab: {error}");
            EXIT_FAILURE
        }
    }
}

fn validate(file: &Path, json: bool, limits: &Limits) -> i32 {
    let problems = match read_lab(file, limits) {
        Ok(lab) => validate_with(&lab, limits),
        Err(LabFileError::Load { error, .. }) => vec![error.to_problem()],
        Err(error) => return report_file_error(&error),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&problems).expect("problems serialise"));
    } else {
        print_problems(file, &problems);
        let (errors, warnings) = count(&problems);
        if errors == 0 {
            println!("{}: ok{}", file.display(), plural_suffix(warnings, "warning"));
        } else {
            eprintln!(
                "{}: {errors} error{}{}",
                file.display(),
                if errors == 1 { "" } else { "s" },
                plural_suffix(warnings, "warning")
            );
        }
    }
    if has_errors(&problems) {
        EXIT_BAD_INPUT
    } else {
        EXIT_OK
    }
}

fn export(file: &Path, format: ExportFormat, output: Option<&Path>, limits: &Limits) -> i32 {
    let lab = match read_valid_lab(file, limits, format == ExportFormat::Ip) {
        Ok(lab) => lab,
        Err(code) => return code,
    };
    let text = match format {
        ExportFormat::Json => nslab_model::export::to_json(&lab),
        ExportFormat::Ip => nslab_model::export::to_ip_script(&lab),
    };
    let written = match output {
        Some(path) => std::fs::write(path, text).map_err(|e| format!("{}: cannot write: {e}", path.display())),
        None => std::io::stdout().write_all(text.as_bytes()).map_err(|e| format!("cannot write the export: {e}")),
    };
    match written {
        Ok(()) => EXIT_OK,
        Err(message) => {
            eprintln!("nslab: {message}");
            EXIT_FAILURE
        }
    }
}

/// Reads a lab; with `strict`, a lab with validation errors is refused (warnings go to stderr).
fn read_valid_lab(file: &Path, limits: &Limits, strict: bool) -> Result<Lab, i32> {
    let lab = read_lab(file, limits).map_err(|error| report_file_error(&error))?;
    let problems = validate_with(&lab, limits);
    if strict && has_errors(&problems) {
        print_problems(file, &problems);
        eprintln!("{}: fix the errors above first", file.display());
        return Err(EXIT_BAD_INPUT);
    }
    Ok(lab)
}

fn serve(file: Option<&Path>, listen: SocketAddr, web_root: Option<PathBuf>, limits: Limits) -> i32 {
    let lab = match file {
        Some(file) => match read_lab(file, &limits) {
            Ok(lab) => lab,
            Err(error) => return report_file_error(&error),
        },
        None => examples::example(examples::DEFAULT_EXAMPLE).expect("the default example is bundled"),
    };
    if !listen.ip().is_loopback() {
        eprintln!(
            "nslab: refusing to listen on {listen}: only loopback addresses (127.0.0.1, [::1]) are allowed for now"
        );
        return EXIT_BAD_INPUT;
    }
    let config = server::Config { listen, web_root: web_root.unwrap_or_else(server::default_web_root), limits };
    match server::run(config, lab) {
        Ok(()) => EXIT_OK,
        Err(error) => {
            eprintln!("nslab: {error}");
            EXIT_FAILURE
        }
    }
}

fn report_file_error(error: &LabFileError) -> i32 {
    eprintln!("nslab: {error}");
    EXIT_BAD_INPUT
}

/// Diagnostics go to standard error, like a compiler's; standard output stays for data.
fn print_problems(file: &Path, problems: &[Problem]) {
    for problem in problems {
        eprintln!("{}: {problem}", file.display());
    }
}

fn count(problems: &[Problem]) -> (usize, usize) {
    let errors = problems.iter().filter(|p| p.is_error()).count();
    (errors, problems.len() - errors)
}

fn plural_suffix(count: usize, word: &str) -> String {
    match count {
        0 => String::new(),
        1 => format!(", 1 {word}"),
        n => format!(", {n} {word}s"),
    }
}
