//! Container commands: create, run, start, stop, kill, restart, rm, ps, inspect, logs, wait,
//! top, pause, unpause, rename, container prune.

use std::io::Write;

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};

use super::container_ps::PsArgs;
use super::container_run::{self, CreateArgs, RunArgs};
use super::{block_on, Cli};
use crate::engine::container as ct;
use crate::engine::logs::{LogOptions, Stream};
use crate::engine::{Engine, EngineError, ErrorKind};

/// Container commands: the verbs at the top level (`berth ps`) and the management form
/// (`berth container ls`), as docker has both.
#[derive(Debug, Clone, Subcommand)]
pub enum ContainerCommand {
    #[command(flatten)]
    Verb(ContainerVerb),
    /// Manage containers
    #[command(subcommand)]
    Container(ContainerSub),
}

/// The container verbs, under both `berth VERB` and `berth container VERB`.
#[derive(Debug, Clone, Subcommand)]
pub enum ContainerVerb {
    /// Create a new container
    Create(CreateArgs),
    /// Create and run a new container from an image
    Run(RunArgs),
    /// Start one or more stopped containers
    Start(StartArgs),
    /// Stop one or more running containers
    Stop(StopArgs),
    /// Kill one or more running containers
    Kill(KillArgs),
    /// Restart one or more containers
    Restart(StopArgs),
    /// Remove one or more containers
    Rm(RmArgs),
    /// List containers
    Ps(PsArgs),
    /// Display detailed information on one or more containers (at the top level: any object)
    Inspect(super::inspect::InspectArgs),
    /// Fetch the logs of a container
    Logs(LogsArgs),
    /// Block until one or more containers stop, then print their exit codes
    Wait(Targets),
    /// Display the running processes of a container
    Top(super::container_ps::TopArgs),
    /// Pause all processes within one or more containers
    Pause(Targets),
    /// Unpause all processes within one or more containers
    Unpause(Targets),
    /// Rename a container
    Rename(RenameArgs),
    /// List port mappings or a specific mapping for the container
    Port(super::network::PortArgs),
    /// Display a live stream of container(s) resource usage statistics
    Stats(super::stats::StatsArgs),
    /// Update configuration of one or more containers
    Update(UpdateArgs),
}

#[derive(Debug, Clone, Args)]
pub struct UpdateArgs {
    /// Memory limit (e.g. 64m; 0: none)
    #[arg(short = 'm', long)]
    pub memory: Option<String>,
    /// Number of CPUs (0: no limit)
    #[arg(long)]
    pub cpus: Option<f64>,
    /// Tune the container pids limit (0 or -1: unlimited)
    #[arg(long, allow_negative_numbers = true)]
    pub pids_limit: Option<i64>,
    /// Restart policy to apply when a container exits
    #[arg(long)]
    pub restart: Option<String>,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

/// `berth container …`: every verb, plus `ls`, `prune`, `attach` and `exec`.
// Parsed once per process: the size of the verb variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Subcommand)]
pub enum ContainerSub {
    #[command(flatten)]
    Verb(ContainerVerb),
    /// List containers
    #[command(visible_alias = "list")]
    Ls(PsArgs),
    /// Remove all stopped containers
    Prune(PruneArgs),
    /// Copy files/folders between a container and the local filesystem
    Cp(super::cp::CpArgs),
    /// Export a container's filesystem as a tar archive
    Export(super::archive::ExportArgs),
    #[command(flatten)]
    Interactive(super::attach::InteractiveCommand),
}

#[derive(Debug, Clone, Args)]
pub struct Targets {
    /// Container names or ids
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct Target {
    /// Container name or id
    pub container: String,
}

#[derive(Debug, Clone, Args)]
pub struct StartArgs {
    /// Attach stdout/stderr and return the container's exit code
    #[arg(short = 'a', long)]
    pub attach: bool,
    /// Attach the container's STDIN
    #[arg(short = 'i', long)]
    pub interactive: bool,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct StopArgs {
    /// Seconds to wait before killing the container (-1 waits without a limit)
    #[arg(
        short = 't',
        long = "time",
        alias = "timeout",
        allow_negative_numbers = true
    )]
    pub time: Option<i64>,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct KillArgs {
    /// Signal to send to the container
    #[arg(short = 's', long = "signal")]
    pub signal: Option<String>,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct RmArgs {
    /// Force the removal of a running container (uses SIGKILL)
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Remove anonymous volumes associated with the container
    #[arg(short = 'v', long)]
    pub volumes: bool,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct LogsArgs {
    /// Follow log output
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Show timestamps
    #[arg(short = 't', long)]
    pub timestamps: bool,
    /// Number of lines to show from the end of the logs ("all" or -1 for everything)
    #[arg(short = 'n', long, allow_hyphen_values = true)]
    pub tail: Option<String>,
    /// Show logs since a timestamp (RFC 3339, Unix seconds) or relative (e.g. 42m)
    #[arg(long)]
    pub since: Option<String>,
    /// Show logs before a timestamp (RFC 3339, Unix seconds) or relative (e.g. 42m)
    #[arg(long)]
    pub until: Option<String>,
    pub container: String,
}

#[derive(Debug, Clone, Args)]
pub struct RenameArgs {
    pub container: String,
    pub new_name: String,
}

#[derive(Debug, Clone, Args)]
pub struct PruneArgs {
    /// Do not prompt for confirmation
    #[arg(short = 'f', long)]
    pub force: bool,
}

/// An optional `--since`/`--until` value, parsed by [`parse_time`].
pub fn parse_time_opt(
    s: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, EngineError> {
    s.map(|s| parse_time(s, now)).transpose()
}

/// Parses `--since`/`--until`: RFC 3339, Unix seconds (with fraction), or a duration ago.
pub fn parse_time(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, EngineError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(secs) = s.parse::<f64>() {
        let whole = secs.trunc() as i64;
        let nanos = ((secs - secs.trunc()) * 1e9) as u32;
        if let Some(t) = DateTime::from_timestamp(whole, nanos) {
            return Ok(t);
        }
    }
    let units = [("ms", 1i64), ("s", 1000), ("m", 60_000), ("h", 3_600_000)];
    for (suffix, ms) in units {
        if let Some(n) = s.strip_suffix(suffix).and_then(|n| n.parse::<f64>().ok()) {
            return Ok(now - chrono::TimeDelta::milliseconds((n * ms as f64) as i64));
        }
    }
    Err(EngineError::InvalidInput(format!(
        "invalid time {s:?}: use RFC 3339 (2024-01-02T15:04:05Z), Unix seconds, or a duration \
         like 10m"
    )))
}

/// Runs `f` on each container reference and prints it after each success (Docker's behaviour
/// for multi-target verbs: the targets that worked are listed even when others fail), reports
/// failures, and returns 1 if any failed.
fn each(
    engine: &Engine,
    refs: &[String],
    f: impl Fn(&Engine, &str) -> anyhow::Result<()>,
) -> anyhow::Result<i32> {
    each_with(engine, refs, false, f)
}

/// [`each`], with `missing_ok` (`rm -f`): a target that does not exist is reported on stderr
/// but is not a failure, as in docker.
fn each_with(
    engine: &Engine,
    refs: &[String],
    missing_ok: bool,
    f: impl Fn(&Engine, &str) -> anyhow::Result<()>,
) -> anyhow::Result<i32> {
    let mut code = 0;
    for r in refs {
        let result = block_on(engine.container_id(r.clone()))
            .map_err(anyhow::Error::from)
            .and_then(|id| f(engine, &id));
        match result {
            Ok(()) => println!("{r}"),
            Err(e) => {
                eprintln!("Error: {}", super::message(&e));
                let missing = e
                    .downcast_ref::<EngineError>()
                    .is_some_and(|e| e.is(ErrorKind::NotFound));
                if !(missing_ok && missing) {
                    code = 1;
                }
            }
        }
    }
    Ok(code)
}

/// Runs a container command.
pub async fn run(cli: &Cli, cmd: Box<ContainerCommand>) -> anyhow::Result<i32> {
    let verb = match *cmd {
        ContainerCommand::Container(ContainerSub::Verb(ContainerVerb::Inspect(mut a))) => {
            // `container inspect` inspects containers only.
            match a.kind.as_deref() {
                None | Some("container") => a.kind = Some("container".into()),
                Some(other) => {
                    return Err(EngineError::InvalidInput(format!(
                        "`container inspect` has no --type {other}: use `berth inspect --type \
                         {other}`"
                    ))
                    .into())
                }
            }
            ContainerVerb::Inspect(a)
        }
        ContainerCommand::Verb(v) | ContainerCommand::Container(ContainerSub::Verb(v)) => v,
        ContainerCommand::Container(ContainerSub::Ls(a)) => ContainerVerb::Ps(a),
        ContainerCommand::Container(ContainerSub::Interactive(i)) => {
            return super::attach::run(cli, i).await
        }
        ContainerCommand::Container(ContainerSub::Prune(a)) => {
            let engine = cli.engine()?;
            return tokio::task::spawn_blocking(move || prune(&engine, &a)).await?;
        }
        ContainerCommand::Container(ContainerSub::Cp(a)) => return super::cp::cp(cli, &a).await,
        ContainerCommand::Container(ContainerSub::Export(a)) => {
            return super::archive::export(cli, &a).await
        }
    };
    let engine = cli.engine()?;
    crate::engine::trace::phase("cli: engine open");
    if let ContainerVerb::Stats(a) = &verb {
        return super::stats::run(engine, a).await;
    }
    let foreground = match &verb {
        ContainerVerb::Run(a) => !a.detach,
        ContainerVerb::Start(a) => a.attach,
        _ => false,
    };
    // `--sig-proxy=false`: a signal ends this client only; the container runs on.
    let proxy = foreground && !matches!(&verb, ContainerVerb::Run(a) if !a.sig_proxy);
    let create = match &verb {
        ContainerVerb::Run(a) => Some(&a.create),
        ContainerVerb::Create(a) => Some(a),
        _ => None,
    };
    if let Some(a) = create {
        // Everything after IMAGE is the container's, so a flag berth does not know lands here.
        if a.image().starts_with('-') {
            return Err(EngineError::InvalidInput(format!(
                "unknown flag: {}; berth's flags go before IMAGE (see 'berth run --help')",
                a.image()
            ))
            .into());
        }
    }
    if proxy {
        proxy_signals(engine.clone());
    }
    if let Some(a) = create.filter(|a| !a.rootfs) {
        // Bad flags are refused before anything is pulled, as docker refuses them.
        let opts = a.options()?;
        ct::limits::check(opts.memory, opts.cpus)?;
        pull_image(&engine, a.image(), a.tls_verify, &a.pull).await?;
        crate::engine::trace::phase("cli: image found");
    }
    tokio::task::spawn_blocking(move || run_blocking(&engine, verb)).await?
}

/// `container prune`: asks first unless `-f` (a "no" or end of input cancels with exit 0, as
/// in docker), then removes every stopped container and prints what it freed.
fn prune(engine: &Engine, a: &PruneArgs) -> anyhow::Result<i32> {
    const WARNING: &str =
        "WARNING! This will remove all stopped containers.\nAre you sure you want to continue?";
    if !a.force && !super::prompt::confirm(WARNING)? {
        return Ok(0);
    }
    let removed = block_on(engine.prune_containers())?;
    let mut out = std::io::stdout().lock();
    if !removed.is_empty() {
        writeln!(out, "Deleted Containers:")?;
        for p in &removed {
            writeln!(out, "{}", p.id)?;
        }
        writeln!(out)?;
    }
    let space = removed.iter().map(|p| p.size).sum::<u64>();
    writeln!(
        out,
        "Total reclaimed space: {}",
        crate::engine::compat::units::human_size(space)
    )?;
    Ok(0)
}

/// Pulls `image` as `docker run --pull POLICY` does (progress on stderr): `missing` when the
/// store does not have it, `always` every time, `never` not at all (a missing image is then an
/// error).
async fn pull_image(
    engine: &Engine,
    image: &str,
    tls_verify: bool,
    policy: &str,
) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    let stored = match engine.image_get(image.to_string()).await {
        Ok(_) => true,
        Err(e) if e.is(ErrorKind::NotFound) => false,
        Err(e) => return Err(e.into()),
    };
    match (policy, stored) {
        ("always", _) => {}
        ("never", false) => {
            return Err(EngineError::InvalidInput(format!(
                "No such image: {image}: --pull never does not pull it; pull it first, or use \
                 --pull missing"
            ))
            .into())
        }
        (_, true) => return Ok(()),
        _ => eprintln!("Unable to find image '{image}' locally"),
    }
    let reference = crate::engine::ImageRef::parse(image)?;
    let stderr = std::io::stderr();
    let terminal = stderr.is_terminal();
    let mut display = super::progress::PullDisplay::new(stderr.lock(), terminal);
    let opts = crate::engine::distribution::pull::PullOptions {
        platform: None,
        tls_verify,
    };
    let done = super::progress::pull_with(engine, &reference, &opts, Some(&mut display)).await?;
    display.line(&format!("Digest: {}", done.digest));
    display.line(&format!(
        "Status: Downloaded newer image for {}",
        reference.familiar()
    ));
    Ok(())
}

/// Forwards SIGINT and SIGTERM to the foreground container (Docker's `--sig-proxy`); before
/// the container exists, they end berth with 130/143.
fn proxy_signals(engine: Engine) {
    use tokio::signal::unix::{signal, SignalKind};
    tokio::spawn(async move {
        let (Ok(mut int), Ok(mut term)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            return;
        };
        loop {
            let (name, code) = tokio::select! {
                _ = int.recv() => ("INT", 130),
                _ = term.recv() => ("TERM", 143),
            };
            let Some(id) = container_run::FOREGROUND.get().cloned() else {
                std::process::exit(code);
            };
            let engine = engine.clone();
            let _ = engine.kill_container(id, Some(name.into())).await;
        }
    });
}

/// `stop`/`restart -t`: seconds to wait; negative waits without a limit (docker's -1).
fn stop_time(t: Option<i64>) -> Result<Option<u32>, EngineError> {
    match t {
        None => Ok(None),
        Some(t) if t < 0 => Ok(Some(u32::MAX)),
        Some(t) => u32::try_from(t).map(Some).map_err(|_| {
            EngineError::InvalidInput(format!(
                "invalid --time {t}: at most {} seconds (or -1 to wait without a limit)",
                u32::MAX
            ))
        }),
    }
}

fn run_blocking(engine: &Engine, cmd: ContainerVerb) -> anyhow::Result<i32> {
    use ContainerVerb as C;
    match cmd {
        C::Create(args) => {
            println!("{}", container_run::create(engine, &args)?);
            Ok(0)
        }
        C::Run(args) => container_run::run(engine, &args),
        C::Start(args) => {
            if args.attach || args.interactive {
                if args.containers.len() != 1 {
                    return Err(EngineError::InvalidInput(
                        "you cannot start and attach multiple containers at once".into(),
                    )
                    .into());
                }
                let rec = block_on(engine.container(args.containers[0].clone()))?;
                let id = rec.id.clone();
                let _ = container_run::FOREGROUND.set(id.clone());
                if args.interactive || rec.config.tty || rec.config.open_stdin {
                    return super::attach::start_interactive(engine, &id, args.interactive);
                }
                return match block_on(engine.start_container_with(id, true, None, false))? {
                    Some(child) => container_run::relay_attached(child),
                    None => Ok(0),
                };
            }
            each(engine, &args.containers, |e, id| {
                Ok(block_on(e.start_container(id.into()))?)
            })
        }
        C::Stop(args) => {
            let time = stop_time(args.time)?;
            each(engine, &args.containers, |e, id| {
                Ok(block_on(e.stop_container(id.into(), time))?)
            })
        }
        C::Restart(args) => {
            let time = stop_time(args.time)?;
            each(engine, &args.containers, |e, id| {
                Ok(block_on(e.restart_container(id.into(), time))?)
            })
        }
        C::Kill(args) => each(engine, &args.containers, |e, id| {
            Ok(block_on(e.kill_container(id.into(), args.signal.clone()))?)
        }),
        C::Rm(args) => each_with(engine, &args.containers, args.force, |e, id| {
            block_on(e.remove_container(id.into(), args.force, args.volumes))?;
            Ok(())
        }),
        C::Pause(t) => each(engine, &t.containers, |e, id| {
            Ok(block_on(e.pause_container(id.into()))?)
        }),
        C::Unpause(t) => each(engine, &t.containers, |e, id| {
            Ok(block_on(e.unpause_container(id.into()))?)
        }),
        C::Wait(t) => wait(engine, &t.containers),
        C::Rename(a) => {
            block_on(engine.rename_container(a.container.clone(), a.new_name.clone()))?;
            Ok(0)
        }
        C::Inspect(a) => super::inspect::run(engine, &a, None),
        C::Ps(args) => super::container_ps::ps(engine, &args),
        C::Logs(args) => logs(engine, &args),
        C::Top(t) => super::container_ps::top(engine, &t),
        C::Port(a) => super::network::port(engine, &a),
        C::Update(a) => {
            let opts = ct::update::UpdateOptions {
                memory: a.memory.as_deref().map(ct::parse_size).transpose()?,
                cpus: a.cpus,
                pids_limit: a.pids_limit,
                restart: a.restart.clone(),
            };
            each(engine, &a.containers, |e, id| {
                Ok(block_on(e.update_container(id.into(), opts.clone()))?)
            })
        }
        // Streams on the runtime: `run` handles it before coming here.
        C::Stats(a) => {
            let rt = tokio::runtime::Handle::current();
            rt.block_on(super::stats::run(engine.clone(), &a))
        }
    }
}

/// `wait`: each container's exit code as it stops; 1 if any could not be waited for.
fn wait(engine: &Engine, refs: &[String]) -> anyhow::Result<i32> {
    let mut code = 0;
    for r in refs {
        match block_on(engine.wait_container(r.clone())) {
            Ok(exit) => println!("{exit}"),
            Err(e) => {
                eprintln!("Error: {e}");
                code = 1;
            }
        }
    }
    Ok(code)
}

fn logs(engine: &Engine, args: &LogsArgs) -> anyhow::Result<i32> {
    let now = Utc::now();
    let tail = match args.tail.as_deref() {
        None | Some("all") => None,
        // Docker shows everything for a negative count.
        Some(n) if n.parse::<i64>().is_ok_and(|n| n < 0) => None,
        Some(n) => Some(n.parse::<usize>().map_err(|_| {
            EngineError::InvalidInput(format!(
                "invalid --tail {n:?}: use a number of lines, or \"all\" (or -1) for everything"
            ))
        })?),
    };
    let options = LogOptions {
        tail,
        since: parse_time_opt(args.since.as_deref(), now)?,
        until: parse_time_opt(args.until.as_deref(), now)?,
    };
    let follow = args.follow && options.until.is_none();
    let entries = engine.container_logs(args.container.clone(), options, follow);
    let mut entries = std::pin::pin!(entries);
    let mut first = true;
    while let Some(entry) = block_on(futures::StreamExt::next(&mut entries)) {
        let entry = match entry {
            Ok(entry) => entry,
            // docker: a driver that keeps nothing is an error of the request (exit 1).
            Err(e) if first && e.is(ErrorKind::InvalidState) => {
                eprintln!("Error: {e}");
                return Ok(1);
            }
            Err(e) => return Err(e.into()),
        };
        first = false;
        let prefix = if args.timestamps {
            format!(
                "{} ",
                entry
                    .time
                    .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
            )
        } else {
            String::new()
        };
        let text = format!("{prefix}{}", entry.line);
        let ok = match entry.stream {
            Stream::Stdout => {
                let mut o = std::io::stdout().lock();
                o.write_all(text.as_bytes()).and_then(|_| o.flush())
            }
            Stream::Stderr => std::io::stderr().write_all(text.as_bytes()),
        };
        if ok.is_err() {
            break;
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        crate::cli::Cli::command().debug_assert();
    }

    #[test]
    fn times_parse_three_ways() {
        let now = Utc::now();
        assert_eq!(
            parse_time("2024-01-02T03:04:05Z", now)
                .unwrap()
                .to_rfc3339(),
            "2024-01-02T03:04:05+00:00"
        );
        assert_eq!(
            parse_time("1700000000", now).unwrap().timestamp(),
            1_700_000_000
        );
        assert_eq!(
            parse_time("10m", now).unwrap(),
            now - chrono::TimeDelta::minutes(10)
        );
        assert!(parse_time("yesterday", now).is_err());
    }
}
