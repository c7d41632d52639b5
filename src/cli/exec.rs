//! `exec [-i] [-t] [-d] [-e K=V] [-w DIR] [-u USER] [--detach-keys K] C CMD…`: run a command in
//! a running container. `shell` as the command starts the user's login shell (else bash, else
//! sh).

use std::os::fd::{AsFd, OwnedFd};

use clap::Args;

use super::block_on;
use super::relay::{relay, ClientOptions, Outcome};
use super::terminal;
use crate::engine::attach::client;
use crate::engine::exec::ExecOptions;
use crate::engine::shell::SHELL_WORD;
use crate::engine::{Engine, EngineError};

/// `berth exec`.
#[derive(Debug, Clone, Args)]
pub struct ExecArgs {
    /// Keep STDIN open
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Allocate a pseudo-TTY
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Detached mode: run the command in the background
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Set environment variables
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long = "workdir")]
    pub workdir: Option<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short = 'u', long = "user")]
    pub user: Option<String>,
    /// Override the key sequence for detaching
    #[arg(long = "detach-keys", value_name = "KEYS")]
    pub detach_keys: Option<String>,
    /// The container (name or id), then the command and its arguments (`shell` for the user's
    /// login shell). Everything after CONTAINER belongs to the command, as in docker.
    #[arg(required = true, num_args = 2.., trailing_var_arg = true, allow_hyphen_values = true,
          value_names = ["CONTAINER", "COMMAND"])]
    pub args: Vec<String>,
}

impl ExecArgs {
    /// CONTAINER: the first positional argument.
    pub fn container(&self) -> &str {
        self.args.first().map(String::as_str).unwrap_or_default()
    }

    /// The command and its arguments: everything after CONTAINER.
    pub fn command(&self) -> &[String] {
        self.args.get(1..).unwrap_or_default()
    }
}

/// Runs `exec`; returns the command's exit code.
pub fn exec(engine: &Engine, args: &ExecArgs) -> anyhow::Result<i32> {
    if let Some(k) = &args.detach_keys {
        terminal::parse_detach_keys(k)?;
    }
    if args.tty && args.interactive && !args.detach && !terminal::is_tty(std::io::stdin().as_fd()) {
        return Err(EngineError::InvalidInput(
            "the input device is not a TTY: run without -t, or from a terminal".into(),
        )
        .into());
    }
    let id = block_on(engine.container_id(args.container().to_string()))?;
    let mut cmd = args.command().to_vec();
    if cmd.len() == 1 && cmd[0] == SHELL_WORD {
        cmd = vec![block_on(engine.container_shell(id.clone()))?];
    }
    let opts = ExecOptions {
        cmd,
        env: args.env.clone(),
        workdir: args.workdir.clone(),
        user: args.user.clone(),
        tty: args.tty,
        interactive: args.interactive && !args.detach,
    };
    if args.detach {
        block_on(engine.exec_start(id, opts, None))?;
        return Ok(0);
    }
    let (ours, theirs) = client::pair()?;
    block_on(engine.exec_start(id, opts, Some(OwnedFd::from(theirs))))?;
    let outcome = relay(
        ours,
        &ClientOptions {
            stdin: args.interactive,
            tty: args.tty,
            output: [true, true],
            detach_keys: args.detach_keys.clone(),
        },
    )?;
    Ok(match outcome {
        Outcome::Exited(code) => code,
        Outcome::Detached => 0,
    })
}
