//! `attach` and `start -ai`, through the client loop of [`super::relay`].

use std::os::fd::OwnedFd;

use clap::Args;

use super::block_on;
use super::relay::{finish, relay, require_tty_stdin, ClientOptions};
use super::terminal;
use crate::engine::attach::client;
use crate::engine::container::Status;
use crate::engine::Engine;

/// `berth attach`.
#[derive(Debug, Clone, Args)]
pub struct AttachArgs {
    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys", value_name = "KEYS")]
    pub detach_keys: Option<String>,
    /// Do not attach STDIN
    #[arg(long = "no-stdin")]
    pub no_stdin: bool,
    /// Container name or id
    pub container: String,
}

/// `start -a[i]` of a container: attach before the start so that no output is missed.
pub fn start_interactive(engine: &Engine, id: &str, interactive: bool) -> anyhow::Result<i32> {
    let rec = block_on(engine.container(id.to_string()))?;
    let opts = ClientOptions {
        stdin: interactive && rec.config.open_stdin,
        tty: rec.config.tty,
        output: [true, true],
        detach_keys: None,
    };
    if rec.config.tty && opts.stdin {
        require_tty_stdin()?;
    }
    if rec.state.status == Status::Running {
        let stream = block_on(engine.attach_stream(id.to_string()))?;
        return Ok(finish(relay(stream, &opts)?));
    }
    let (ours, theirs) = client::pair()?;
    block_on(engine.start_container_with(
        id.to_string(),
        false,
        Some(OwnedFd::from(theirs)),
        false,
    ))?;
    Ok(finish(relay(ours, &opts)?))
}

/// `attach`.
pub fn attach(engine: &Engine, args: &AttachArgs) -> anyhow::Result<i32> {
    if let Some(k) = &args.detach_keys {
        terminal::parse_detach_keys(k)?;
    }
    let rec = block_on(engine.container(args.container.clone()))?;
    let stream = block_on(engine.attach_stream(rec.id.clone()))?;
    let outcome = relay(
        stream,
        &ClientOptions {
            stdin: !args.no_stdin && rec.config.open_stdin,
            tty: rec.config.tty,
            output: [true, true],
            detach_keys: args.detach_keys.clone(),
        },
    )?;
    Ok(finish(outcome))
}

/// The interactive commands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum InteractiveCommand {
    /// Attach local standard input, output, and error streams to a running container
    Attach(AttachArgs),
    /// Execute a command in a running container
    Exec(super::exec::ExecArgs),
}

/// Runs an interactive command on a blocking thread (the client loop polls the terminal).
pub async fn run(cli: &super::Cli, cmd: InteractiveCommand) -> anyhow::Result<i32> {
    let engine = cli.engine()?;
    tokio::task::spawn_blocking(move || match cmd {
        InteractiveCommand::Attach(a) => attach(&engine, &a),
        InteractiveCommand::Exec(a) => super::exec::exec(&engine, &a),
    })
    .await
    .map_err(|e| anyhow::anyhow!("internal task failed: {e}"))?
}
