//! `attach`, the interactive forms of `run` (`-i`, `-t`) and `start -ai`, and the client loop
//! they share with `exec`: local stdin to the process (raw mode with a tty, detach keys),
//! output to stdout and stderr, window sizes, and the exit code.

use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;

use clap::Args;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use super::container_run::RunArgs;
use super::terminal::{self, DetachDetector, RawGuard, WinchWatcher, DEFAULT_DETACH_KEYS};
use crate::engine::attach::client;
use crate::engine::attach::frame::{Frame, FrameBuffer};
use crate::engine::container::{self as ct, Status};
use crate::engine::{Engine, EngineError};

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

/// How a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Exited(i32),
    Detached,
}

/// What the client loop does with the local terminal.
pub struct ClientOptions {
    /// Forward local stdin.
    pub stdin: bool,
    /// The process has a tty: raw mode, window sizes, detach keys.
    pub tty: bool,
    /// `--detach-keys` (Docker's default when `None`).
    pub detach_keys: Option<String>,
}

fn to_frame_err(e: std::io::Error) -> EngineError {
    EngineError::io("the attach connection failed", e)
}

/// Runs the client loop over a connected session until the process exits or the user detaches.
pub fn relay(mut stream: UnixStream, opts: &ClientOptions) -> anyhow::Result<Outcome> {
    let stdin = std::io::stdin();
    let stdin_tty = terminal::is_tty(stdin.as_fd());
    let keys =
        terminal::parse_detach_keys(opts.detach_keys.as_deref().unwrap_or(DEFAULT_DETACH_KEYS))?;
    let mut detector = (opts.tty && stdin_tty).then(|| DetachDetector::new(keys));
    let winch = if opts.tty {
        Some(WinchWatcher::install()?)
    } else {
        None
    };
    let send_size = |s: &mut UnixStream| -> std::io::Result<()> {
        let out = std::io::stdout();
        let size = terminal::window_size(out.as_fd()).or_else(|| {
            let i = std::io::stdin();
            terminal::window_size(i.as_fd())
        });
        match size {
            Some((rows, cols)) => Frame::Resize { rows, cols }.write_to(s),
            None => Ok(()),
        }
    };
    if opts.tty {
        send_size(&mut stream).map_err(to_frame_err)?;
    }
    let _raw = if opts.tty && stdin_tty && opts.stdin {
        Some(RawGuard::enter(stdin.as_fd())?)
    } else {
        None
    };
    let mut stdin_open = opts.stdin;
    let mut frames = FrameBuffer::default();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let (stdin_ready, sock_ready, winch_ready) = {
            let mut fds = vec![PollFd::new(stream.as_fd(), PollFlags::POLLIN)];
            if let Some(w) = &winch {
                fds.push(PollFd::new(w.fd(), PollFlags::POLLIN));
            }
            if stdin_open {
                fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
            }
            match poll(&mut fds, PollTimeout::NONE) {
                Ok(_) => {}
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(EngineError::Runtime(format!("poll: {e}")).into()),
            }
            let r: Vec<bool> = fds
                .iter()
                .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
                .collect();
            let w = winch.is_some() && r[1];
            let s = stdin_open && r[r.len() - 1];
            (s, r[0], w)
        };
        if winch_ready {
            if let Some(w) = &winch {
                w.drain();
            }
            send_size(&mut stream).map_err(to_frame_err)?;
        }
        if sock_ready {
            let n = match stream.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(to_frame_err(e).into()),
            };
            if n == 0 {
                return Err(EngineError::Runtime(
                    "the container's monitor closed the connection without an exit code".into(),
                )
                .into());
            }
            frames.push(&buf[..n]);
            while let Some(f) = frames.next_frame().map_err(to_frame_err)? {
                match f {
                    Frame::Stdout(d) => {
                        let mut o = std::io::stdout().lock();
                        let _ = o.write_all(&d).and_then(|_| o.flush());
                    }
                    Frame::Stderr(d) => {
                        let _ = std::io::stderr().write_all(&d);
                    }
                    Frame::Error(m) => eprintln!("Error: {m}"),
                    Frame::Exit(code) => return Ok(Outcome::Exited(code)),
                    _ => {}
                }
            }
        }
        if stdin_ready {
            let n = match stdin.lock().read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => 0,
            };
            if n == 0 {
                stdin_open = false;
                Frame::StdinClose
                    .write_to(&mut stream)
                    .map_err(to_frame_err)?;
                continue;
            }
            let (data, detach) = match detector.as_mut() {
                Some(d) => d.feed(&buf[..n]),
                None => (buf[..n].to_vec(), false),
            };
            if !data.is_empty() {
                Frame::Stdin(data)
                    .write_to(&mut stream)
                    .map_err(to_frame_err)?;
            }
            if detach {
                let _ = Frame::Detach.write_to(&mut stream);
                return Ok(Outcome::Detached);
            }
        }
    }
}

fn finish(outcome: Outcome) -> i32 {
    match outcome {
        Outcome::Exited(code) => code,
        Outcome::Detached => 0,
    }
}

fn require_tty_stdin() -> Result<(), EngineError> {
    if terminal::is_tty(std::io::stdin().as_fd()) {
        Ok(())
    } else {
        Err(EngineError::InvalidInput(
            "the input device is not a TTY: run without -t, or from a terminal".into(),
        ))
    }
}

/// `run -i`/`run -t` in the foreground: create, connect a client before the start, relay.
pub fn run_interactive(engine: &Engine, args: &RunArgs) -> anyhow::Result<i32> {
    let create = &args.create;
    if create.tty && create.interactive {
        require_tty_stdin()?;
    }
    let opts = create.options()?;
    let id = super::container_run::create_with(engine, create, &opts)?;
    let (ours, theirs) = client::pair()?;
    // A `--rm` container whose start fails is removed by the engine.
    ct::start_new(engine, &id, false, Some(OwnedFd::from(theirs)))?;
    let outcome = relay(
        ours,
        &ClientOptions {
            stdin: create.interactive,
            tty: create.tty,
            detach_keys: args.detach_keys.clone(),
        },
    )?;
    Ok(finish(outcome))
}

/// `start -a[i]` of a container: attach before the start so that no output is missed.
pub fn start_interactive(engine: &Engine, id: &str, interactive: bool) -> anyhow::Result<i32> {
    let rec = ct::get(engine, id)?;
    let opts = ClientOptions {
        stdin: interactive && rec.config.open_stdin,
        tty: rec.config.tty,
        detach_keys: None,
    };
    if rec.config.tty && opts.stdin {
        require_tty_stdin()?;
    }
    if rec.state.status == Status::Running {
        return Ok(finish(relay(client::attach(engine, id)?, &opts)?));
    }
    let (ours, theirs) = client::pair()?;
    ct::start_with(engine, id, false, Some(OwnedFd::from(theirs)))?;
    Ok(finish(relay(ours, &opts)?))
}

/// `attach`.
pub fn attach(engine: &Engine, args: &AttachArgs) -> anyhow::Result<i32> {
    if let Some(k) = &args.detach_keys {
        terminal::parse_detach_keys(k)?;
    }
    let id = ct::resolve(engine, &args.container)?;
    let rec = ct::get(engine, &id)?;
    let stream = client::attach(engine, &id)?;
    let outcome = relay(
        stream,
        &ClientOptions {
            stdin: !args.no_stdin && rec.config.open_stdin,
            tty: rec.config.tty,
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
