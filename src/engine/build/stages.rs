//! Splitting a Dockerfile into its global ARGs and its stages, and choosing the stages a target
//! needs.

use std::collections::BTreeSet;

use super::parser::{Dockerfile, Instruction};
use crate::engine::error::{EngineError, Result};

/// One `FROM …` and the instructions after it.
#[derive(Debug, Clone)]
pub struct Stage {
    /// `AS name` (lower-cased, as docker compares them).
    pub name: Option<String>,
    /// The FROM instruction.
    pub from: Instruction,
    /// The instructions after it.
    pub body: Vec<Instruction>,
}

/// The ARGs before the first FROM, and the stages.
pub fn split(df: &Dockerfile) -> Result<(Vec<Instruction>, Vec<Stage>)> {
    let mut globals = Vec::new();
    let mut stages: Vec<Stage> = Vec::new();
    for ins in &df.instructions {
        if ins.keyword == "FROM" {
            let text = ins.text();
            let words: Vec<&str> = text.split_whitespace().collect();
            let name = match words.as_slice() {
                [_] => None,
                [_, as_, n] if as_.eq_ignore_ascii_case("as") => Some(n.to_ascii_lowercase()),
                _ => return Err(ins.error("use FROM IMAGE [AS NAME]")),
            };
            stages.push(Stage {
                name,
                from: ins.clone(),
                body: Vec::new(),
            });
        } else if let Some(s) = stages.last_mut() {
            s.body.push(ins.clone());
        } else if ins.keyword == "ARG" {
            globals.push(ins.clone());
        } else {
            return Err(ins.error("the first instruction must be FROM (or ARG before FROM)"));
        }
    }
    if stages.is_empty() {
        return Err(EngineError::InvalidInput(
            "the Dockerfile has no FROM instruction".into(),
        ));
    }
    Ok((globals, stages))
}

/// The index of the stage `r` names (a name or a number), among the first `before` stages.
pub fn find(stages: &[Stage], r: &str, before: usize) -> Option<usize> {
    let lower = r.to_ascii_lowercase();
    stages[..before]
        .iter()
        .position(|s| s.name.as_deref() == Some(lower.as_str()))
        .or_else(|| r.parse::<usize>().ok().filter(|n| *n < before))
}

/// The stages stage `i` uses directly: the one its FROM names and those its `COPY --from`
/// name.
pub fn deps(stages: &[Stage], i: usize) -> BTreeSet<usize> {
    let s = &stages[i];
    let base = s.from.text();
    let mut out = BTreeSet::new();
    if let Some(j) = base
        .split_whitespace()
        .next()
        .and_then(|b| find(stages, b, i))
    {
        out.insert(j);
    }
    for ins in &s.body {
        if let Some(j) = ins.flag("from").and_then(|f| find(stages, f, i)) {
            out.insert(j);
        }
    }
    out
}

/// The stages building `target` needs (itself and, transitively, what it uses).
pub fn needed(stages: &[Stage], target: usize) -> BTreeSet<usize> {
    let mut out = BTreeSet::new();
    let mut todo = vec![target];
    while let Some(i) = todo.pop() {
        if out.insert(i) {
            todo.extend(deps(stages, i));
        }
    }
    out
}
