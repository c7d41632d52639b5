//! The start-latency phase log: with `BERTH_TRACE=FILE` in the environment, every berth process
//! on the path of a start (the CLI, the monitor, the container's init cloned from it) appends
//! `<unix time in ns> <pid> <phase>` lines to FILE, one `write(2)` each (`O_APPEND`), so the
//! lines of several processes interleave whole. `benches/start.rs` reads them to show where each
//! millisecond of `run --rm IMG true` goes. Without the variable, [`phase`] costs one lookup of
//! an environment variable, cached.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::sync::OnceLock;

/// The environment variable naming the phase log.
pub const TRACE_ENV: &str = "BERTH_TRACE";

fn file() -> Option<&'static File> {
    static FILE: OnceLock<Option<File>> = OnceLock::new();
    FILE.get_or_init(|| {
        use std::os::unix::fs::OpenOptionsExt;
        let path = std::env::var_os(TRACE_ENV)?;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC)
            .open(path)
            .ok()
    })
    .as_ref()
}

/// Whether the phase log is on.
pub fn enabled() -> bool {
    file().is_some()
}

/// Appends one phase line (a no-op unless `BERTH_TRACE` is set).
pub fn phase(what: &str) {
    if let Some(f) = file() {
        write_line(f.as_raw_fd(), what);
    }
}

fn write_line(fd: i32, what: &str) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let line = format!("{now} {} {what}\n", std::process::id());
    // One write(2) of a short line to an O_APPEND file: whole even when processes interleave,
    // and safe in the container's init (a clone of the monitor with no other threads).
    // SAFETY: writes `line`'s bytes, alive for the call, to a descriptor owned by `FILE`, which
    // lives as long as the process.
    unsafe {
        libc::write(fd, line.as_ptr().cast(), line.len());
    }
}

/// A `tracing` layer writing libcontainer's debug events as phase lines (`lc: <message>`), so
/// the phase log also shows the steps inside the runtime (mounts, the init's pid, seccomp).
pub struct LibcontainerLayer {
    fd: i32,
}

impl LibcontainerLayer {
    /// The layer, when the phase log is on.
    pub fn new() -> Option<LibcontainerLayer> {
        file().map(|f| LibcontainerLayer { fd: f.as_raw_fd() })
    }
}

struct Message(String);

impl tracing::field::Visit for Message {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "message" {
            self.0 = value.to_string();
        }
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for LibcontainerLayer {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        if !event.metadata().target().starts_with("libcontainer") {
            return;
        }
        let mut m = Message(String::new());
        event.record(&mut m);
        let mut text: String = m.0.chars().take(100).collect();
        text.retain(|c| c != '\n');
        write_line(self.fd, &format!("lc: {text}"));
    }
}
