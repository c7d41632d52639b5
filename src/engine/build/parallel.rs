//! Stages that do not depend on each other build at the same time.
//!
//! The needed stages go in waves: a wave is every stage whose FROM and `COPY --from` stages are
//! built. The first stage of a wave builds on the calling thread and streams its output; the
//! others build on threads of their own and buffer theirs, which is written after the first one,
//! in stage order, so the output reads as a sequential build's with the same `Step N/M` numbers.
//! When one stage fails, the build is cancelled: the other stages' RUN containers are killed
//! and the first real error is returned.

use std::collections::{BTreeMap, BTreeSet};

use super::cache::{BuildCache, ImageState};
use super::executor::Run;
use super::stages::{self, Stage};
use super::BuildOutput;
use crate::engine::content::ContentStore;
use crate::engine::error::{EngineError, ErrorKind, Result};

/// Output kept until its turn: (a build line?, text).
#[derive(Default)]
struct Buffered(Vec<(bool, String)>);

impl BuildOutput for Buffered {
    fn line(&mut self, text: &str) {
        self.0.push((true, text.to_string()));
    }

    fn output(&mut self, text: &str) {
        self.0.push((false, text.to_string()));
    }
}

/// What a stage built on another thread gives back.
struct Built {
    stage: usize,
    state: Result<ImageState>,
    out: Buffered,
    used_args: BTreeSet<String>,
}

impl Run<'_> {
    /// Builds the `needed` stages, in waves of independent ones.
    pub(super) fn build_stages(&mut self, all: &[Stage], needed: &BTreeSet<usize>) -> Result<()> {
        let mut start = BTreeMap::new();
        let mut next = self.step;
        for &i in needed {
            start.insert(i, next);
            next += 1 + all[i].body.len();
        }
        let deps: BTreeMap<usize, BTreeSet<usize>> =
            needed.iter().map(|&i| (i, stages::deps(all, i))).collect();
        let mut left: Vec<usize> = needed.iter().copied().collect();
        while !left.is_empty() {
            let (ready, rest): (Vec<usize>, Vec<usize>) = left
                .iter()
                .partition(|i| deps[i].iter().all(|d| self.done[*d].is_some()));
            if ready.is_empty() {
                return Err(EngineError::InvalidInput(
                    "the Dockerfile's stages depend on each other in a circle".into(),
                ));
            }
            left = rest;
            self.wave(all, &ready, &start)?;
        }
        self.step = next;
        Ok(())
    }

    fn wave(
        &mut self,
        all: &[Stage],
        ready: &[usize],
        start: &BTreeMap<usize, usize>,
    ) -> Result<()> {
        let Some((&first, others)) = ready.split_first() else {
            return Ok(());
        };
        if others.is_empty() {
            self.step = start[&first];
            let state = self.stage(all, first)?;
            self.done[first] = Some(state);
            return Ok(());
        }
        let engine = self.engine;
        let opts = self.opts;
        let (mine, theirs) = std::thread::scope(|scope| {
            let handles: Vec<_> = others
                .iter()
                .map(|&i| {
                    let context = self.context.clone();
                    let context_paths = self.context_paths.clone();
                    let global_args = self.global_args.clone();
                    let done = self.done.clone();
                    let names = self.names.clone();
                    let cancel = self.cancel.clone();
                    let owner = self.owner.clone();
                    let handle = self.handle.clone();
                    let (escape, steps, step) = (self.escape, self.steps, start[&i]);
                    scope.spawn(move || {
                        let mut out = Buffered::default();
                        let mut run = Run {
                            engine,
                            opts,
                            out: &mut out,
                            cache: BuildCache::new(engine.layout()),
                            store: ContentStore::new(engine.layout()),
                            context,
                            context_paths,
                            escape,
                            global_args,
                            used_args: BTreeSet::new(),
                            done,
                            names,
                            step,
                            steps,
                            cancel,
                            owner,
                            handle,
                        };
                        let state = run.stage(all, i);
                        if state.is_err() {
                            run.cancel.cancel(engine);
                        }
                        let used_args = std::mem::take(&mut run.used_args);
                        drop(run);
                        Built {
                            stage: i,
                            state,
                            out,
                            used_args,
                        }
                    })
                })
                .collect();
            self.step = start[&first];
            let mine = self.stage(all, first);
            if mine.is_err() {
                self.cancel.cancel(engine);
            }
            let theirs: Vec<Option<Built>> = handles.into_iter().map(|h| h.join().ok()).collect();
            (mine, theirs)
        });
        let mut error: Option<EngineError> = None;
        let mut keep = |e: EngineError| {
            // A stage stopped because another failed says "cancelled": keep the real cause.
            let replace = match &error {
                None => true,
                Some(old) => old.is(ErrorKind::Cancelled) && !e.is(ErrorKind::Cancelled),
            };
            if replace {
                error = Some(e);
            }
        };
        match mine {
            Ok(state) => self.done[first] = Some(state),
            Err(e) => keep(e),
        }
        for built in theirs {
            let Some(built) = built else {
                keep(EngineError::InvalidState(
                    "a build stage's thread panicked".into(),
                ));
                continue;
            };
            for (is_line, text) in &built.out.0 {
                if *is_line {
                    self.out.line(text);
                } else {
                    self.out.output(text);
                }
            }
            self.used_args.extend(built.used_args);
            match built.state {
                Ok(state) => self.done[built.stage] = Some(state),
                Err(e) => keep(e),
            }
        }
        match error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}
