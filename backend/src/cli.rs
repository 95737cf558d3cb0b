//! The command line: parse, run, and map every outcome to an exit code
//! (0 ok, 1 failure, 2 bad input).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Parser, Subcommand};
use nslab_model::export::Format;
use nslab_model::import::Source;
use nslab_model::Limits;

use crate::commands::{check, convert, goals, lab, list, serve, teach, CliError, CliResult};
pub use crate::commands::{EXIT_FAILURE, EXIT_OK};
use crate::sandbox;

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
        #[arg(long, short, default_value = "json", value_parser = format_parser())]
        format: Format,
        /// Write to this file instead of standard output (for `kathara`, this folder).
        #[arg(long, short)]
        output: Option<PathBuf>,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Read a lab from another tool's files: a containerlab topology, a Kathará lab, a
    /// CORE scenario, a MiniEdit or GNS3 file, or a script of `ip` commands.
    ///
    /// FILE may be a folder or a `.tar`, `.tar.gz` or `.zip` archive (a Kathará lab with
    /// its `.startup` files). What the source holds that a lab cannot is named on standard
    /// error and in the lab's description. Exits 2, writing nothing, when the input is
    /// not that format, is empty, or the format cannot be told.
    Import {
        /// The file, folder or archive (`-` for standard input).
        file: PathBuf,
        /// The format; by default told from the file's name, then from its content.
        #[arg(long, value_parser = source_parser())]
        from: Option<Source>,
        /// Write the lab to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// The lab's name; by default the file's name without its extensions.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Print the JSON Schema of the lab file format (for editors and other tools).
    Schema,
    /// Explain whether a ping from FROM to TO would be answered, from the lab alone.
    ///
    /// Prints the path of the request and of the reply, hop by hop, or the first hop that
    /// stops it with the reason and a fix (the `ip` command and the lab edit). Exits 0
    /// when the ping would be answered, 4 when not, 2 for bad input.
    Explain {
        /// The lab file (`-` for standard input).
        file: PathBuf,
        /// The namespace (or host node) that pings.
        from: String,
        /// An address, NODE:INTERFACE, or a node (its first address).
        to: String,
        /// Print the explanation as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Print the reachability matrix the lab predicts: every namespace to every address.
    Reach {
        /// The lab file (`-` for standard input).
        file: PathBuf,
        /// Print `{"pairs": [{"from": ..., "to": ..., "reach": ...}]}`.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Show what `apply` would change, as the `ip` commands that do it.
    ///
    /// Nothing is changed. With --exit-code: exit 0 when the kernel already holds the lab,
    /// 3 when there are changes (like `git diff --exit-code`).
    Plan {
        /// The lab file (`-` for standard input).
        file: PathBuf,
        /// Exit 3 when there is something to do.
        #[arg(long)]
        exit_code: bool,
        /// Take over namespaces and interfaces of the lab's names that were built by hand.
        #[arg(long)]
        adopt: bool,
        /// Print the ops as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Make the kernel hold the lab: create, change or delete only what differs.
    ///
    /// Shows the plan and asks on a terminal before changing anything; --yes skips the
    /// question, and without a terminal nothing is changed unless --yes is given. If a step fails, what this apply
    /// created is removed again and the failing step is named with the kernel's reason.
    /// Everything nslab creates carries the alias `nslab:LAB`; what it did not create is
    /// never changed or deleted (use --adopt to take over a lab built by hand).
    Apply {
        /// The lab file (`-` for standard input).
        file: PathBuf,
        /// Do not ask.
        #[arg(long, short)]
        yes: bool,
        /// Take over namespaces and interfaces of the lab's names that were built by hand.
        #[arg(long)]
        adopt: bool,
        /// End the processes that run in the namespaces this apply deletes (SIGTERM, then
        /// SIGKILL), instead of refusing to delete them while they run.
        #[arg(long)]
        kill: bool,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Remove everything the lab owns, and return when it is gone.
    ///
    /// The lab is named by its file or, without the file, by `--lab NAME` (see `nslab
    /// list`): what carries the lab's mark goes either way. Asks first, as apply does.
    #[command(group = clap::ArgGroup::new("which").required(true).args(["file", "lab"]))]
    Destroy {
        /// The lab file (`-` for standard input).
        file: Option<PathBuf>,
        /// Destroy the lab of this name without its file.
        #[arg(long, value_name = "NAME")]
        lab: Option<String>,
        /// Do not ask.
        #[arg(long, short)]
        yes: bool,
        /// End the processes that run in the lab's namespaces (SIGTERM, then SIGKILL),
        /// instead of refusing to destroy it while they run.
        #[arg(long)]
        kill: bool,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Check the lab's goals against the live kernel and print a checklist.
    ///
    /// Reach goals ping from inside the namespaces (three probes of a second each); route,
    /// forwarding and address goals read the kernel. Exits 0 when every goal holds, 4 when
    /// some does not, 2 when the lab has errors or no goals.
    Check {
        /// The lab file (`-` for standard input).
        file: PathBuf,
        /// Print the checklist as JSON.
        #[arg(long)]
        json: bool,
        /// Show the hint of each goal that does not hold.
        #[arg(long)]
        hints: bool,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// List the labs the kernel holds, found by the marks on what nslab made.
    ///
    /// For each: its namespaces, its interfaces (and how many of them are in the host), and
    /// whether the kernel still holds it as it was last applied.
    List {
        /// Print the labs as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Draw what the kernel holds as a lab file (labs built by hand with `ip` included).
    Scan {
        /// Write the lab here instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// The scanned lab's name.
        #[arg(long, default_value = "scanned")]
        name: String,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Open a shell inside the sandbox (or run COMMAND there): `nslab --sandbox shell`, the
    /// same as `nslab sandbox shell`. The sandbox is implied.
    Shell {
        /// The command to run instead of an interactive shell.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        command: Vec<String>,
    },
    /// Manage the sandbox that `--sandbox` runs commands in.
    Sandbox {
        #[command(subcommand)]
        action: SandboxAction,
    },
    /// Serve the editor, the API and the live event stream.
    ///
    /// Opens FILE (it becomes the document), else the document saved in the state
    /// directory, else the bundled seed-bridge example. Listens on 127.0.0.1 unless told
    /// otherwise; any other address needs a token (one is generated and printed if none is
    /// given), checked on every request and websocket.
    Serve {
        /// The lab to open.
        file: Option<PathBuf>,
        /// Address and port to listen on.
        #[arg(long, default_value = "127.0.0.1:4780")]
        listen: SocketAddr,
        /// Directory with the built editor (Trunk's `dist/`).
        #[arg(long, env = "NSLAB_WEB_ROOT")]
        web_root: Option<PathBuf>,
        /// Where the document is kept across restarts
        /// [default: $XDG_STATE_HOME/nslab, else ~/.local/state/nslab].
        #[arg(long, env = "NSLAB_STATE_DIR")]
        state_dir: Option<PathBuf>,
        /// The token that may change the lab (required, or generated, off loopback).
        #[arg(long, env = "NSLAB_TOKEN")]
        token: Option<String>,
        /// A token that may only watch (for students).
        #[arg(long, env = "NSLAB_VIEWER_TOKEN")]
        viewer_token: Option<String>,
        /// Let the editor open terminals: root shells in the lab's namespaces (and the host
        /// node's), for whoever holds the full token.
        #[arg(long)]
        terminals: bool,
        /// Internal: how many terminals may be open at once (tests lower it).
        #[arg(long, hide = true, default_value_t = crate::server::MAX_OPEN_TERMINALS)]
        max_terminals: usize,
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

/// The export formats as clap offers them: each named, with its description.
fn format_parser() -> impl clap::builder::TypedValueParser<Value = Format> {
    let values = Format::ALL.map(|format| PossibleValue::new(format.name()).help(format.description()));
    PossibleValuesParser::new(values).map(|name| name.parse::<Format>().expect("one of the possible values"))
}

/// The import formats as clap offers them: each named, with its description.
fn source_parser() -> impl clap::builder::TypedValueParser<Value = Source> {
    let values = Source::ALL.map(|source| PossibleValue::new(source.name()).help(source.description()));
    PossibleValuesParser::new(values).map(|name| name.parse::<Source>().expect("one of the possible values"))
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

/// Runs the command; its exit code. A failure's last words are printed here.
pub fn run(cli: Cli) -> i32 {
    match dispatch(cli) {
        Ok(()) => EXIT_OK,
        Err(error) => {
            if let Some(line) = &error.line {
                eprintln!("{line}");
            }
            error.code
        }
    }
}

fn dispatch(cli: Cli) -> CliResult {
    match cli.command {
        Command::Validate { file, json, limits } => check::validate(&file, json, &limits.limits()),
        Command::Export { file, format, output, limits } => {
            check::export(&file, format, output.as_deref(), &limits.limits())
        }
        Command::Import { file, from, output, name, limits } => convert::import_lab(convert::ImportArgs {
            file: &file,
            from,
            output: output.as_deref(),
            name: name.as_deref(),
            limits: &limits.limits(),
        }),
        Command::Schema => {
            print!("{}", nslab_model::schema::lab_schema_json());
            Ok(())
        }
        Command::Explain { file, from, to, json, limits } => teach::explain(&file, &from, &to, json, &limits.limits()),
        Command::Reach { file, json, limits } => teach::reach(&file, json, &limits.limits()),
        Command::Serve { file, listen, web_root, state_dir, token, viewer_token, terminals, max_terminals, limits } => {
            serve::serve(serve::ServeArgs {
                file: file.as_deref(),
                listen,
                web_root,
                state_dir,
                token,
                viewer_token,
                terminals: crate::server::TerminalSettings { enabled: terminals, max_open: max_terminals },
                limits: limits.limits(),
            })
        }
        Command::Plan { file, exit_code, adopt, json, limits } => lab::plan(
            lab::PlanArgs { file: &file, adopt, limits: limits.limits() },
            lab::PlanOutput { exit_code, json },
        ),
        Command::Apply { file, yes, adopt, kill, limits } => {
            lab::apply(lab::PlanArgs { file: &file, adopt, limits: limits.limits() }, lab::RunOptions { yes, kill })
        }
        Command::Destroy { file, lab: name, yes, kill, limits } => {
            let which = match (file, name) {
                (Some(file), _) => lab::Which::File(file),
                (None, Some(name)) => lab::Which::Named(name),
                (None, None) => unreachable!("clap requires the file or --lab"),
            };
            lab::destroy(&which, lab::RunOptions { yes, kill }, limits.limits())
        }
        Command::Check { file, json, hints, limits } => goals::check(&file, json, hints, &limits.limits()),
        Command::List { json, limits } => list::list(json, &limits.limits()),
        Command::Scan { output, name, limits } => lab::scan(output.as_deref(), &name, limits.limits()),
        Command::Shell { command } => exited(sandbox::shell(&command)),
        Command::Sandbox { action } => sandbox_action(action),
    }
}

/// A command's own exit code, passed on.
fn exited(code: i32) -> CliResult {
    match code {
        EXIT_OK => Ok(()),
        code => Err(CliError::said(code)),
    }
}

/// How many namespaces the command may hold descriptors of (see `descriptors::reserve`):
/// those under /run/netns, `present()`, for the commands that read or change the kernel;
/// for the server also as many as its largest lab could have (it stays up while labs
/// grow). None for the others, which need no room: they read no namespace list either.
pub fn namespaces_to_open(cli: &Cli, present: impl FnOnce() -> usize) -> Option<usize> {
    match &cli.command {
        Command::Serve { limits, .. } => Some(present().max(limits.max_nodes)),
        Command::Plan { .. }
        | Command::Apply { .. }
        | Command::Destroy { .. }
        | Command::Scan { .. }
        | Command::Check { .. }
        | Command::List { .. } => Some(present()),
        Command::Validate { .. }
        | Command::Explain { .. }
        | Command::Reach { .. }
        | Command::Export { .. }
        | Command::Import { .. }
        | Command::Schema
        | Command::Shell { .. }
        | Command::Sandbox { .. } => None,
    }
}

/// True when the command must run inside the sandbox (entered before anything else runs).
pub fn wants_sandbox(cli: &Cli) -> bool {
    match &cli.command {
        Command::Shell { .. } | Command::Sandbox { action: SandboxAction::Shell { .. } } => true,
        // Managing the sandbox happens from outside it (`--sandbox sandbox stop` included).
        Command::Sandbox { .. } => false,
        _ => cli.sandbox,
    }
}

fn sandbox_action(action: SandboxAction) -> CliResult {
    match action {
        SandboxAction::Shell { command } => exited(sandbox::shell(&command)),
        SandboxAction::Hold => sandbox::hold().map_err(CliError::failed),
        SandboxAction::Stop => {
            let was_running = sandbox::stop().map_err(CliError::failed)?;
            println!("{}", if was_running { "nslab: sandbox stopped" } else { "nslab: no sandbox was running" });
            Ok(())
        }
        SandboxAction::Status => {
            println!("{}", sandbox::status().map_err(CliError::failed)?);
            Ok(())
        }
    }
}
