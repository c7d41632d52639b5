//! Why libcontainer failed. Its container init process (a clone of the monitor) reports a
//! failure to the monitor only as the outermost error's text ("failed to unix syscall", "failed
//! to prepare rootfs"): the cause stays in that process. It does log each failure with its cause
//! and its path through `tracing` first, so while libcontainer builds the container the monitor
//! installs a thread-scoped subscriber that writes libcontainer's error events, one line each, to
//! a pipe. The clone inherits both the subscriber (the thread's state is copied) and the pipe, so
//! after a failure the monitor reads why, with the errno's name spelled out.

use std::fmt::Write as _;
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

/// Captures libcontainer's error events while [`Capture::scope`] runs.
pub struct Capture {
    read: File,
    write: OwnedFd,
    /// The events read from the pipe, oldest first (read once, after the failure).
    events: Option<Vec<String>>,
}

/// Separates an event's message from its fields in a captured line.
const FIELDS: char = '\u{1f}';

/// A step of libcontainer's init process that failed, known from the structured event it
/// logged (the event's own message and its errno field), so the monitor decides by the step
/// and the errno, never by searching the composed error text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitStep {
    /// `chdir` into the process's working directory (docker answers 127), with its errno.
    Chdir(Option<Errno>),
}

impl InitStep {
    /// The step an event line (`message` [`FIELDS`] ` key=value…`) names, if it is one the
    /// monitor acts on.
    fn of(line: &str) -> Option<InitStep> {
        let (message, fields) = line.split_once(FIELDS).unwrap_or((line, ""));
        // libcontainer's init logs "failed to chdir" (`?e`) before it drops privileges and
        // "failed to chdir to cwd" (`?err`, `?cwd`) after.
        if !matches!(message, "failed to chdir" | "failed to chdir to cwd") {
            return None;
        }
        let errno = fields.split_whitespace().find_map(|f| {
            let (key, value) = f.split_once('=')?;
            matches!(key, "e" | "err").then(|| errno_named(value))?
        });
        Some(InitStep::Chdir(errno))
    }
}

/// The errno whose name is `name` (`ENOTDIR`), as nix prints it.
fn errno_named(name: &str) -> Option<Errno> {
    (1..150)
        .map(Errno::from_raw)
        .find(|e| format!("{e:?}") == name)
}

struct PipeLayer {
    fd: i32,
}

#[derive(Default)]
struct Line {
    message: String,
    fields: String,
}

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }
}

impl<S: Subscriber> Layer<S> for PipeLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        if *meta.level() != Level::ERROR || !meta.target().starts_with("libcontainer") {
            return;
        }
        let mut line = Line::default();
        event.record(&mut line);
        let text = format!("{}{FIELDS}{}\n", line.message, line.fields).replace(['\r', '\n'], " ");
        let text = format!("{}\n", text.trim_end());
        // One write(2) of a short line: atomic on a pipe, never blocks (O_NONBLOCK), and safe in
        // the cloned init process, which has no other threads.
        // SAFETY: writes `text`'s bytes, alive for the call, to a descriptor this layer's owner
        // keeps open.
        unsafe {
            libc::write(self.fd, text.as_ptr().cast(), text.len());
        }
    }
}

impl Capture {
    /// A new, empty capture (a non-blocking close-on-exec pipe).
    pub fn new() -> std::io::Result<Capture> {
        let (read, write) = nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK)?;
        Ok(Capture {
            read: File::from(read),
            write,
            events: None,
        })
    }

    /// Runs `f` with libcontainer's error events (of this thread and of processes cloned from
    /// it) written to the pipe.
    pub fn scope<T>(&self, f: impl FnOnce() -> T) -> T {
        let layer = PipeLayer {
            fd: self.write.as_raw_fd(),
        };
        // With `BERTH_TRACE`, libcontainer's steps also go to the phase log.
        let phases = crate::engine::trace::LibcontainerLayer::new()
            .map(|l| l.with_filter(tracing_subscriber::filter::LevelFilter::DEBUG));
        let subscriber = tracing_subscriber::registry()
            .with(
                layer.with_filter(tracing_subscriber::filter::filter_fn(|m| {
                    *m.level() == Level::ERROR && m.target().starts_with("libcontainer")
                })),
            )
            .with(phases);
        tracing::subscriber::with_default(subscriber, f)
    }

    /// The cause of a failure: the first error libcontainer logged (the innermost, as each
    /// layer logs before returning), with errno names explained; `None` when nothing was
    /// logged.
    pub fn cause(&mut self) -> Option<String> {
        self.events()
            .first()
            .map(|l| explain_errnos(&readable_mounts(&l.replace(FIELDS, ""))))
    }

    /// The failed step the monitor acts on, from the first event that names one.
    pub fn failed_step(&mut self) -> Option<InitStep> {
        self.events().iter().find_map(|l| InitStep::of(l))
    }

    /// The captured events (read from the pipe at the first call).
    fn events(&mut self) -> &[String] {
        if self.events.is_none() {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            loop {
                match self.read.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(_) => break,
                }
            }
            let text = String::from_utf8_lossy(&buf);
            self.events = Some(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned)
                    .collect(),
            );
        }
        self.events.as_deref().unwrap_or_default()
    }
}

/// `Mount { destination: "/d", typ: Some("bind"), source: Some("/s"), … }` (libcontainer's
/// debug form) → `bind mount of "/s" on "/d"`.
pub fn readable_mounts(line: &str) -> String {
    const START: &str = "Mount { ";
    let mut out = String::new();
    let mut rest = line;
    while let Some(i) = rest.find(START) {
        let Some(len) = rest[i..].find(" }") else {
            break;
        };
        let body = &rest[i + START.len()..i + len];
        let field = |name: &str| {
            let at = body.find(name)? + name.len();
            let end = body[at..].find('"')?;
            Some(body[at..at + end].to_string())
        };
        out.push_str(&rest[..i]);
        let dest = field("destination: \"").unwrap_or_default();
        let typ = field("typ: Some(\"").unwrap_or_else(|| "the".into());
        match field("source: Some(\"") {
            Some(src) => {
                let _ = write!(out, "{typ} mount of {src:?} on {dest:?}");
            }
            None => {
                let _ = write!(out, "{typ} mount on {dest:?}");
            }
        }
        rest = &rest[i + len + 2..];
    }
    out.push_str(rest);
    out
}

/// The most useful message for a libcontainer failure `e`: the executor's own `exec: "…"`
/// message when there is one, else `what`, the error's chain and the `cause` the process logged.
pub fn describe(e: &dyn std::error::Error, cause: Option<String>, what: &str) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        parts.push(s.to_string());
        cur = s.source();
    }
    if let Some(exec) = parts
        .iter()
        .chain(cause.iter())
        .find_map(|p| p.find("exec: \"").map(|i| &p[i..]))
    {
        return exec.to_string();
    }
    parts.extend(cause);
    parts.dedup();
    // libcontainer's wrappers say nothing a user can act on.
    let text = parts
        .join(": ")
        .replace("failed to create container: ", "")
        .replace(
            "exec process failed with error error in executing process : ",
            "",
        );
    format!("{what}: {text}")
}

/// `ENOENT` → `ENOENT (no such file or directory)` for every errno name in `line`.
pub fn explain_errnos(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(i) = rest.find('E') {
        out.push_str(&rest[..i]);
        let word: String = rest[i..]
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            .collect();
        out.push_str(&word);
        let before = rest[..i].chars().last();
        if word.len() > 2 && !before.is_some_and(|c| c.is_ascii_alphanumeric()) {
            if let Some(desc) = errno_desc(&word) {
                let _ = write!(out, " ({desc})");
            }
        }
        rest = &rest[i + word.len().max(1)..];
    }
    out.push_str(rest);
    out
}

fn errno_desc(name: &str) -> Option<String> {
    (1..150).map(Errno::from_raw).find_map(|e| {
        (format!("{e:?}") == name).then(|| {
            let d = e.desc();
            let mut c = d.chars();
            match c.next() {
                Some(f) => f.to_lowercase().chain(c).collect(),
                None => String::new(),
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chdir_failure_is_known_by_its_event_and_errno() {
        let line = |m: &str, f: &str| format!("{m}{FIELDS}{f}");
        assert_eq!(
            InitStep::of(&line("failed to chdir", " e=ENOTDIR")),
            Some(InitStep::Chdir(Some(Errno::ENOTDIR)))
        );
        assert_eq!(
            InitStep::of(&line("failed to chdir to cwd", " err=EACCES cwd=\"/w\"")),
            Some(InitStep::Chdir(Some(Errno::EACCES)))
        );
        // Another step, even one whose fields mention a chdir, is none of it.
        assert_eq!(
            InitStep::of(&line("failed to mount", " err=\"failed to chdir\"")),
            None
        );
        assert_eq!(InitStep::of("failed to chdir e=ENOENT"), None);
    }

    #[test]
    fn errno_names_are_explained() {
        assert_eq!(
            explain_errnos("failed to chdir e=ENOTDIR"),
            "failed to chdir e=ENOTDIR (not a directory)"
        );
        assert_eq!(
            explain_errnos("err=Nix(EACCES) path=\"/x\""),
            "err=Nix(EACCES (permission denied)) path=\"/x\""
        );
        assert_eq!(explain_errnos("EXAMPLE ENOPE E"), "EXAMPLE ENOPE E");
    }

    #[test]
    fn mounts_are_named_by_source_and_destination() {
        assert_eq!(
            readable_mounts(
                "failed to mount Mount { destination: \"/etc\", typ: Some(\"bind\"), source: \
                 Some(\"/tmp/f\"), options: Some([\"rbind\"]) }: syscall"
            ),
            "failed to mount bind mount of \"/tmp/f\" on \"/etc\": syscall"
        );
    }

    #[test]
    fn error_events_reach_the_pipe() {
        let mut c = Capture::new().unwrap();
        c.scope(|| {
            tracing::error!(target: "libcontainer::x", err = ?Errno::ENOENT, "failed to mount");
            tracing::error!(target: "other", "not ours");
            tracing::error!(target: "libcontainer::y", "second");
        });
        assert_eq!(
            c.cause().as_deref(),
            Some("failed to mount err=ENOENT (no such file or directory)")
        );
    }
}
