//! The Docker-style command line. Each area has its own file with its own subcommand enum,
//! flattened into [`Command`].

pub mod archive;
pub mod attach;
pub mod build;
pub mod commit;
pub mod container;
pub mod container_ps;
pub mod container_run;
pub mod cp;
pub mod events;
pub mod exec;
pub mod format;
pub mod format_funcs;
pub mod format_print;
pub mod health_args;
pub mod image;
pub mod inspect;
pub mod login;
pub mod mount_args;
pub mod network;
pub mod progress;
pub mod prompt;
pub mod push;
pub mod relay;
pub mod search;
pub mod stats;
pub mod system;
pub mod system_df;
pub mod table;
pub mod terminal;
pub mod volume;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::engine::{layout, Engine, EngineError, ErrorKind};

/// berth: a container manager with its own daemonless engine. Run with no command for the TUI.
#[derive(Debug, Parser)]
#[command(name = "berth", version, about, propagate_version = true)]
pub struct Cli {
    /// Engine root directory [default: /var/lib/berth as root, $XDG_DATA_HOME/berth otherwise]
    #[arg(long, global = true, env = "BERTH_ROOT", value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// Print debug logging to stderr
    #[arg(long, global = true)]
    pub debug: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Every CLI command.
#[derive(Debug, Subcommand)]
pub enum Command {
    #[command(flatten)]
    Image(image::ImageCommand),
    #[command(flatten)]
    Archive(archive::ArchiveCommand),
    #[command(flatten)]
    Volume(volume::VolumeCommand),
    #[command(flatten)]
    Commit(commit::CommitCommand),
    /// Build an image from a Dockerfile
    Build(build::BuildArgs),
    /// Manage the build cache
    #[command(subcommand)]
    Builder(build::BuilderCommand),
    #[command(flatten)]
    Network(network::NetworkCommand),
    #[command(flatten)]
    Container(Box<container::ContainerCommand>),
    #[command(flatten)]
    Login(login::LoginCommand),
    #[command(flatten)]
    Interactive(attach::InteractiveCommand),
    #[command(flatten)]
    System(system::SystemCommand),
    /// Run a container's monitor (internal; started by berth itself)
    #[command(hide = true)]
    Monitor(MonitorArgs),
}

/// `berth monitor` (internal).
#[derive(Debug, clap::Args)]
pub struct MonitorArgs {
    /// Relay output and the exit code to the spawner (fds 4, 5 and 3)
    #[arg(long)]
    pub attach: bool,
    /// Fd 6 is an attach client connected before the start
    #[arg(long)]
    pub client: bool,
    /// Run exec session EXEC_ID (its process.json is in the container's attach dir)
    #[arg(long, value_name = "EXEC_ID")]
    pub exec: Option<String>,
    /// Run the container's health checks (started by its monitor)
    #[arg(long)]
    pub health: bool,
    /// Go on from the state in descriptor FD (the relay binary hands the monitor back)
    #[arg(long, value_name = "FD")]
    pub resume: Option<i32>,
    /// Wait for the container's id on fd 7 and put it in place of ID, a placeholder (started
    /// before the container is created)
    #[arg(long, conflicts_with_all = ["exec", "health", "resume", "client"])]
    pub pending: bool,
    /// Container id
    pub id: String,
}

impl Cli {
    /// The engine root this invocation uses.
    pub fn root(&self) -> PathBuf {
        self.root.clone().unwrap_or_else(layout::default_root)
    }

    /// Opens the engine at this invocation's root.
    pub fn engine(&self) -> Result<Engine, EngineError> {
        Engine::open(&self.root())
    }
}

/// Parses the command line. On a usage error prints clap's message (naming what is wrong and
/// pointing at `--help`) and returns docker's exit code: 125 for a bad or unknown flag, 1 for a
/// wrong number of arguments or an unknown command; 0 after `--help` or `--version`.
pub fn parse() -> Result<Cli, i32> {
    Cli::try_parse().map_err(|e| {
        let _ = e.print();
        usage_exit_code(&e)
    })
}

fn usage_exit_code(e: &clap::Error) -> i32 {
    use clap::error::{ContextKind, ContextValue, ErrorKind as K};
    match e.kind() {
        K::DisplayHelp | K::DisplayVersion => 0,
        K::MissingRequiredArgument
        | K::MissingSubcommand
        | K::DisplayHelpOnMissingArgumentOrSubcommand
        | K::TooFewValues
        | K::TooManyValues
        | K::WrongNumberOfValues
        | K::InvalidSubcommand => 1,
        // An extra positional argument is an argument-count error; an unknown flag a flag error.
        K::UnknownArgument => match e.get(ContextKind::InvalidArg) {
            Some(ContextValue::String(a)) if !a.starts_with('-') => 1,
            _ => 125,
        },
        _ => 125,
    }
}

/// Whether the command only prints (lists and inspects). Those die quietly of SIGPIPE when
/// their reader goes away (`berth images | head -1`), as docker does, instead of panicking on
/// the broken pipe. Commands that talk to monitors keep SIGPIPE ignored: a monitor that went
/// away is an error to report there, not a reason to die.
pub fn prints_only(cli: &Cli) -> bool {
    use container::{ContainerCommand as CC, ContainerSub as CS, ContainerVerb as CV};
    use image::{ImageCommand as IC, ImageSubcommand as IS};
    use volume::{VolumeCommand, VolumeSub as VS};
    match &cli.command {
        Some(Command::Container(c)) => matches!(
            &**c,
            CC::Verb(CV::Ps(_) | CV::Inspect(_) | CV::Top(_) | CV::Stats(_))
                | CC::Container(
                    CS::Ls(_) | CS::Verb(CV::Ps(_) | CV::Inspect(_) | CV::Top(_) | CV::Stats(_))
                )
        ),
        Some(Command::Image(c)) => {
            matches!(c, IC::Images(_) | IC::Image(IS::Ls(_) | IS::Inspect(_)))
        }
        Some(Command::Volume(VolumeCommand::Volume(v))) => {
            matches!(v, VS::Ls(_) | VS::Inspect(_))
        }
        Some(Command::Network(network::NetworkCommand::Network(n))) => {
            matches!(
                n,
                network::NetworkSub::Ls(_) | network::NetworkSub::Inspect(_)
            )
        }
        // `system check --repair` moves the database: never die half-way through it.
        Some(Command::System(c)) => !matches!(c, system::SystemCommand::System(_)),
        _ => false,
    }
}

/// Restores the default SIGPIPE action (death, silently) for [`prints_only`] commands; Rust
/// starts with it ignored, which turns a closed pipe into a panic in `println!`.
pub fn die_on_sigpipe(cli: &Cli) {
    if prints_only(cli) {
        // SAFETY: setting a signal's disposition to SIG_DFL is async-signal-safe and runs
        // before any thread is started.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
}

/// Sets up logging to stderr (only with `--debug` or `RUST_LOG`).
pub fn init_tracing(debug: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = if debug {
        EnvFilter::new("berth=debug")
    } else {
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("off"))
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Commands that must run before any async runtime exists (the monitor). Returns the exit code
/// when the command was one of them.
pub fn run_without_runtime(cli: &Cli) -> Option<i32> {
    let Some(Command::Monitor(args)) = &cli.command else {
        return None;
    };
    let root = cli.root();
    let id = &args.id;
    Some(if args.pending {
        // The id comes later, on fd 7.
        crate::engine::monitor::main(&root, None, args.attach, false)
    } else if args.health {
        crate::engine::health::checker::main(&root, id)
    } else if let Some(fd) = args.resume {
        crate::engine::monitor::resume_main(&root, id, fd)
    } else if let Some(exec_id) = &args.exec {
        crate::engine::exec::monitor_main(&root, id, exec_id, args.client)
    } else {
        crate::engine::monitor::main(&root, Some(id), args.attach, args.client)
    })
}

/// `run` without `-i`/`-t`: its container's monitor starts loading before the engine is
/// opened ([`Engine::prespawn_monitor`]). Call early, and [`finish`] before exiting.
pub fn prespawn(cli: &Cli) {
    use container::{ContainerCommand as CC, ContainerSub as CS, ContainerVerb as CV};
    let Some(Command::Container(c)) = &cli.command else {
        return;
    };
    let (CC::Verb(CV::Run(a)) | CC::Container(CS::Verb(CV::Run(a)))) = &**c else {
        return;
    };
    if a.create.tty || a.create.interactive || a.create.image().starts_with('-') {
        return;
    }
    Engine::prespawn_monitor(&cli.root(), !a.detach);
    crate::engine::trace::phase("cli: monitor prespawned");
}

/// What must happen before the process exits: a prespawned monitor nobody used is let go.
pub fn finish() {
    Engine::discard_prespawned_monitor();
}

/// Runs a CLI command (or the TUI) and returns the process exit code.
pub async fn run(cli: Cli) -> i32 {
    let result = match &cli.command {
        None => crate::tui::run(&cli.root()).await,
        Some(Command::Image(cmd)) => image::run(&cli, cmd).await,
        Some(Command::Archive(cmd)) => archive::run(&cli, cmd).await,
        Some(Command::Volume(cmd)) => volume::run(&cli, cmd).await,
        Some(Command::Commit(cmd)) => commit::run(&cli, cmd).await,
        Some(Command::Build(a)) => build::run(&cli, a).await,
        Some(Command::Builder(c)) => build::builder(&cli, c).await,
        Some(Command::Network(cmd)) => network::run(&cli, cmd).await,
        Some(Command::Container(cmd)) => container::run(&cli, cmd.clone()).await,
        Some(Command::Interactive(cmd)) => attach::run(&cli, cmd.clone()).await,
        Some(Command::Monitor(_)) => Ok(125),
        Some(Command::Login(cmd)) => login::run(cmd).await,
        Some(Command::System(cmd)) => system::run(&cli, cmd).await,
    };
    // Docker answers 125 for every failure of `run` and `create`, but a missing object
    // ("No such container") is 1 in every other command.
    let creates = {
        use container::{ContainerCommand as CC, ContainerSub as CS, ContainerVerb as CV};
        matches!(
            &cli.command,
            Some(Command::Container(c)) if matches!(
                &**c,
                CC::Verb(CV::Run(_) | CV::Create(_))
                    | CC::Container(CS::Verb(CV::Run(_) | CV::Create(_)))
            )
        )
    };
    match result {
        Ok(code) => code,
        Err(e) => match report(&e) {
            125 if !creates
                && e.downcast_ref::<EngineError>()
                    .is_some_and(|e| e.is(ErrorKind::NotFound)) =>
            {
                1
            }
            code => code,
        },
    }
}

/// Waits for an engine API call (an async `Engine` method) from a command that runs on a
/// blocking thread (`spawn_blocking`): the CLI calls the same API as the TUI.
pub(crate) fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Handle::current().block_on(f)
}

/// An error's text for the user: the contexts the CLI added, then the engine's message (which
/// already ends with its causes, so they show once).
pub fn message(e: &anyhow::Error) -> String {
    let mut out = String::new();
    let _ = crate::engine::error::render(e.as_ref(), &mut out);
    out
}

/// Prints an error the way docker does and returns its exit code (125 for engine errors).
pub fn report(e: &anyhow::Error) -> i32 {
    eprintln!("Error: {}", message(e));
    match e.downcast_ref::<EngineError>() {
        Some(engine) => engine.exit_code(),
        None => 125,
    }
}
