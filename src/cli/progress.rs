//! `docker pull`-style progress: one line per layer with a bar, redrawn in place on a terminal;
//! one line per state change otherwise.

use std::collections::HashMap;
use std::io::Write;

use crate::engine::distribution::pull::{PullOptions, PullResult};
use crate::engine::{Engine, EngineError, ImageRef, LayerProgress, LayerState};

const BAR_WIDTH: usize = 50;

/// Docker's three-digit size (`HumanSizeWithPrecision(…, 3)`: `4.26MB`), as in pull progress,
/// `images` and `ps -s`.
pub fn human_size(bytes: u64) -> String {
    crate::engine::compat::units::human_size_with_precision(bytes, 3)
}

fn short(digest: &str) -> &str {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    &hex[..hex.len().min(12)]
}

/// The text after `id: ` for one layer.
pub fn layer_line(p: &LayerProgress) -> String {
    let label = p.state.label();
    match p.state {
        LayerState::Downloading if p.total > 0 => {
            let filled =
                ((p.done.min(p.total) as u128 * BAR_WIDTH as u128) / p.total as u128) as usize;
            let mut bar = "=".repeat(filled);
            if filled < BAR_WIDTH {
                bar.push('>');
                bar.push_str(&" ".repeat(BAR_WIDTH - filled - 1));
            }
            format!(
                "{label} [{bar}]  {}/{}",
                human_size(p.done),
                human_size(p.total)
            )
        }
        LayerState::Extracting => format!("{label}  {}", human_size(p.done)),
        _ => label.to_string(),
    }
}

/// Draws pull progress to a writer.
pub struct PullDisplay<W: Write> {
    out: W,
    terminal: bool,
    order: Vec<String>,
    layers: HashMap<String, LayerProgress>,
    drawn: usize,
}

impl<W: Write> PullDisplay<W> {
    /// A display writing to `out`; `terminal` selects in-place redrawing.
    pub fn new(out: W, terminal: bool) -> Self {
        PullDisplay {
            out,
            terminal,
            order: Vec::new(),
            layers: HashMap::new(),
            drawn: 0,
        }
    }

    /// Prints a line above the layer lines (e.g. the header or the final status).
    pub fn line(&mut self, text: &str) {
        let _ = writeln!(self.out, "{text}");
        let _ = self.out.flush();
    }

    /// Takes one progress event.
    pub fn update(&mut self, p: LayerProgress) {
        let changed = match self.layers.get(&p.digest) {
            None => {
                self.order.push(p.digest.clone());
                true
            }
            Some(old) => old.state != p.state,
        };
        let text = layer_line(&p);
        let id = short(&p.digest).to_string();
        self.layers.insert(p.digest.clone(), p);
        if self.terminal {
            self.redraw();
        } else if changed {
            let _ = writeln!(
                self.out,
                "{id}: {}",
                text.split(" [").next().unwrap_or(&text)
            );
            let _ = self.out.flush();
        }
    }

    fn redraw(&mut self) {
        let mut buf = String::new();
        if self.drawn > 0 {
            buf.push_str(&format!("\x1b[{}A", self.drawn));
        }
        for digest in &self.order {
            if let Some(p) = self.layers.get(digest) {
                buf.push_str(&format!("\x1b[2K{}: {}\n", short(digest), layer_line(p)));
            }
        }
        self.drawn = self.order.len();
        let _ = self.out.write_all(buf.as_bytes());
        let _ = self.out.flush();
    }

    /// The writer (for tests).
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// Pulls `reference`, drawing its layers' progress on `display` (none without one): the one
/// pull loop of `pull` and of `run`/`create` pulling a missing image.
pub async fn pull_with<W: Write>(
    engine: &Engine,
    reference: &ImageRef,
    opts: &PullOptions,
    mut display: Option<&mut PullDisplay<W>>,
) -> Result<PullResult, EngineError> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let job = engine.pull(reference, opts, Some(tx));
    tokio::pin!(job);
    let result = loop {
        tokio::select! {
            result = &mut job => break result,
            Some(p) = rx.recv() => if let Some(d) = display.as_deref_mut() { d.update(p) },
        }
    };
    while let Ok(p) = rx.try_recv() {
        if let Some(d) = display.as_deref_mut() {
            d.update(p);
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(digest: &str, state: LayerState, done: u64, total: u64) -> LayerProgress {
        LayerProgress {
            image: "x".into(),
            digest: format!("sha256:{digest}"),
            state,
            done,
            total,
        }
    }

    #[test]
    fn bars_and_plain_lines() {
        let line = layer_line(&p("a", LayerState::Downloading, 50, 100));
        assert!(
            line.starts_with("Downloading [=========================>"),
            "{line}"
        );
        assert!(line.ends_with("50B/100B"), "{line}");
        let mut d = PullDisplay::new(Vec::new(), false);
        d.update(p("aaaaaaaaaaaaaaaa", LayerState::Downloading, 1, 10));
        d.update(p("aaaaaaaaaaaaaaaa", LayerState::Downloading, 5, 10));
        d.update(p("aaaaaaaaaaaaaaaa", LayerState::Done, 10, 10));
        let out = String::from_utf8(d.into_inner()).unwrap();
        assert_eq!(
            out,
            "aaaaaaaaaaaa: Downloading\naaaaaaaaaaaa: Pull complete\n"
        );
        let mut d = PullDisplay::new(Vec::new(), true);
        d.update(p("a", LayerState::Waiting, 0, 10));
        d.update(p("b", LayerState::Waiting, 0, 10));
        d.update(p("a", LayerState::Done, 10, 10));
        let out = String::from_utf8(d.into_inner()).unwrap();
        assert!(
            out.contains("\x1b[2A\x1b[2Ka: Pull complete\n\x1b[2Kb: Waiting\n"),
            "{out:?}"
        );
    }
}
