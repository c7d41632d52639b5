//! The build: stages (only those the target needs, independent ones in parallel, see
//! `parallel`), each instruction a step with
//! docker's `Step N/M :` line; RUN, COPY and ADD looked up in the cache first; the target's
//! final state recorded as an image through the import pipeline and tagged.
//!
//! A failing step names its line and exit code and leaves no container or mount behind; the
//! steps before it stay cached. The build holds the gc lock shared, so `image prune` never
//! removes a layer a step is using.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use super::cache::{self, BuildCache, ImageState};
use super::cancel::{BuildCancel, BuildOwner};
use super::config_ops::{self, is_config_instruction};
use super::context::Context;
use super::parser::{self, Instruction};
use super::stages::{self, Stage};
use super::words::expand_word;
use super::BuildOutput;
use crate::engine::content::ContentStore;
use crate::engine::error::{EngineError, Result};
use crate::engine::image::assemble::LayerBlob;
use crate::engine::image::config::{ConfigFile, History};
use crate::engine::image::ImageRecord;
use crate::engine::layer::writer::WrittenLayer;
use crate::engine::Engine;

/// How to build.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// The context directory.
    pub context: PathBuf,
    /// The Dockerfile's text.
    pub dockerfile: String,
    /// `-t`.
    pub tags: Vec<String>,
    /// `--build-arg K=V` (or `K`: the caller's environment value, given here resolved).
    pub build_args: BTreeMap<String, String>,
    /// `--target`.
    pub target: Option<String>,
    /// `--no-cache`.
    pub no_cache: bool,
    /// `--pull`: pull base images even when stored.
    pub pull: bool,
    /// `--label K=V`.
    pub labels: BTreeMap<String, String>,
    /// `--network`.
    pub network: Option<String>,
    /// `SOURCE_DATE_EPOCH`: image times and layer mtimes no later than this.
    pub source_date_epoch: Option<i64>,
    /// Stops the build from another thread (the CLI's signal handler, the TUI).
    pub cancel: Option<Arc<BuildCancel>>,
}

fn short(id: &str) -> &str {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    &hex[..hex.len().min(12)]
}

pub(super) struct Run<'a> {
    pub(super) engine: &'a Engine,
    pub(super) opts: &'a BuildOptions,
    pub(super) out: &'a mut dyn BuildOutput,
    pub(super) cache: BuildCache,
    pub(super) store: ContentStore,
    pub(super) context: Context,
    pub(super) context_paths: Option<Vec<String>>,
    pub(super) escape: char,
    pub(super) global_args: BTreeMap<String, String>,
    pub(super) used_args: BTreeSet<String>,
    pub(super) done: Vec<Option<ImageState>>,
    pub(super) names: Vec<Option<String>>,
    pub(super) step: usize,
    pub(super) steps: usize,
    pub(super) cancel: Arc<BuildCancel>,
    /// The owner token RUN containers are labelled with.
    pub(super) owner: String,
    /// The engine's runtime, for pulls and downloads from the build's threads.
    pub(super) handle: tokio::runtime::Handle,
}

impl Engine {
    /// Builds the Dockerfile in `opts` and records (and tags) the image. Blocking.
    pub fn build(&self, opts: &BuildOptions, out: &mut dyn BuildOutput) -> Result<ImageRecord> {
        for t in &opts.tags {
            crate::engine::ImageRef::parse(t)?;
        }
        let df = parser::parse(&opts.dockerfile)?;
        let (globals, all) = stages::split(&df)?;
        let target = match &opts.target {
            Some(t) => stages::find(&all, t, all.len()).ok_or_else(|| {
                EngineError::InvalidInput(format!("failed to reach build target {t} in Dockerfile"))
            })?,
            None => all.len() - 1,
        };
        let needed = stages::needed(&all, target);
        let steps = globals.len() + needed.iter().map(|i| 1 + all[*i].body.len()).sum::<usize>();
        let handle = tokio::runtime::Handle::try_current().map_err(|_| {
            EngineError::InvalidState("build must run on the engine's runtime".into())
        })?;
        if let Err(e) = self.collect_build_leftovers() {
            tracing::warn!("cannot collect what killed builds left: {e}");
        }
        let owner = BuildOwner::acquire(self)?;
        let _gc = self.lock_images_shared()?;
        let mut run = Run {
            engine: self,
            opts,
            out,
            cache: BuildCache::new(self.layout()),
            store: ContentStore::new(self.layout()),
            context: Context::open(&opts.context)?,
            context_paths: None,
            escape: df.escape,
            global_args: BTreeMap::new(),
            used_args: BTreeSet::new(),
            done: vec![None; all.len()],
            names: all.iter().map(|s| s.name.clone()).collect(),
            step: 0,
            steps,
            cancel: opts.cancel.clone().unwrap_or_default(),
            owner: owner.token.clone(),
            handle,
        };
        for g in &globals {
            run.begin(g)?;
            let globals = run.global_args.clone();
            let (k, v) = run.arg_value(g, &move |n| globals.get(n).cloned())?;
            if let Some(v) = v {
                run.global_args.insert(k, v);
            }
        }
        run.build_stages(&all, &needed)?;
        let mut last = run.done[target].take().ok_or_else(|| {
            EngineError::InvalidState("the target stage produced no image".into())
        })?;
        let unused: Vec<&String> = opts
            .build_args
            .keys()
            .filter(|k| !run.used_args.contains(*k))
            .collect();
        if !unused.is_empty() {
            let names: Vec<&str> = unused.iter().map(|s| s.as_str()).collect();
            run.out.line(&format!(
                "[Warning] One or more build-args [{}] were not consumed",
                names.join(" ")
            ));
        }
        if !opts.labels.is_empty() {
            let labels = last.config.config.labels.get_or_insert_with(BTreeMap::new);
            labels.extend(opts.labels.clone());
        }
        let rec = self.import_image(&last.config, &last.layers, &opts.tags, "build")?;
        run.out
            .line(&format!("Successfully built {}", short(&rec.id)));
        for t in &opts.tags {
            if let Ok(r) = crate::engine::ImageRef::parse(t) {
                run.out
                    .line(&format!("Successfully tagged {}", r.familiar()));
            }
        }
        Ok(rec)
    }
}

impl Run<'_> {
    fn begin(&mut self, ins: &Instruction) -> Result<()> {
        self.cancel.check()?;
        self.step += 1;
        self.out.line(&format!(
            "Step {}/{} : {}",
            self.step, self.steps, ins.original
        ));
        Ok(())
    }

    fn now(&self) -> String {
        match self.opts.source_date_epoch {
            Some(t) => chrono::DateTime::from_timestamp(t, 0)
                .unwrap_or_default()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            None => chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
        }
    }

    /// `ARG NAME[=default]`: the name and its value (a build arg wins over the default).
    fn arg_value(
        &mut self,
        ins: &Instruction,
        vars: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(String, Option<String>)> {
        let text = ins.text();
        let (name, default) = match text.trim().split_once('=') {
            Some((k, v)) => (
                k.trim().to_string(),
                Some(expand_word(v, vars, self.escape)?),
            ),
            None => (text.trim().to_string(), None),
        };
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(ins.error("use ARG NAME[=DEFAULT]"));
        }
        let given = self.opts.build_args.get(&name).cloned();
        if given.is_some() {
            self.used_args.insert(name.clone());
        }
        Ok((name, given.or(default)))
    }

    /// The base of a stage.
    fn base(&mut self, all: &[Stage], i: usize) -> Result<ImageState> {
        let from = &all[i].from;
        let globals = self.global_args.clone();
        let vars = move |n: &str| globals.get(n).cloned();
        let text = from.text();
        let raw = text.split_whitespace().next().unwrap_or("");
        let name = expand_word(raw, &vars, self.escape)?;
        if name.eq_ignore_ascii_case("scratch") {
            return Ok(ImageState {
                config: ConfigFile::scratch(),
                layers: Vec::new(),
                cmd_set: false,
            });
        }
        if let Some(j) = stages::find(all, &name, i) {
            return self.done[j]
                .clone()
                .ok_or_else(|| from.error(format!("stage {name} was not built")));
        }
        self.image_state(&name).map_err(|e| from.error(e))
    }

    /// The state of a stored image, pulled first when missing (or always with `--pull`).
    pub(super) fn image_state(&mut self, name: &str) -> Result<ImageState> {
        let engine = self.engine;
        let stored = if self.opts.pull {
            None
        } else {
            engine.image(name).ok()
        };
        let rec = match stored {
            Some(r) => r,
            None => {
                let r = crate::engine::ImageRef::parse(name)?;
                let pulled = self
                    .handle
                    .block_on(engine.pull(&r, &Default::default(), None))?;
                engine.image(&pulled.image.id)?
            }
        };
        let config = ConfigFile::load(&self.store, &rec.id)?;
        let layers = rec.layers.iter().map(LayerBlob::from).collect();
        Ok(ImageState {
            config,
            layers,
            cmd_set: false,
        })
    }

    pub(super) fn stage(&mut self, all: &[Stage], i: usize) -> Result<ImageState> {
        self.begin(&all[i].from)?;
        let mut state = self.base(all, i)?;
        // A stage starts with its base's CMD inherited, even when the base is another stage.
        state.cmd_set = false;
        self.out.line(&format!(" ---> {}", short(&state.id())));
        let mut args: BTreeMap<String, String> = BTreeMap::new();
        // ONBUILD triggers of the base run first, then are dropped from the new image.
        let triggers = state.config.config.on_build.take().unwrap_or_default();
        for t in triggers {
            let df = parser::parse(&t).map_err(|e| all[i].from.error(e))?;
            for mut ins in df.instructions {
                ins.line = all[i].from.line;
                self.out
                    .line(&format!("# Executing 1 build trigger: {}", ins.original));
                self.instruction(&mut state, &mut args, &ins)?;
            }
        }
        for ins in &all[i].body {
            self.begin(ins)?;
            self.instruction(&mut state, &mut args, ins)?;
        }
        Ok(state)
    }

    fn instruction(
        &mut self,
        state: &mut ImageState,
        args: &mut BTreeMap<String, String>,
        ins: &Instruction,
    ) -> Result<()> {
        let env = state.config.config.env.clone().unwrap_or_default();
        let args_c = args.clone();
        let vars = move |n: &str| {
            env.iter()
                .find_map(|e| e.strip_prefix(&format!("{n}=")).map(str::to_string))
                .or_else(|| args_c.get(n).cloned())
        };
        if !matches!(ins.keyword.as_str(), "RUN" | "COPY" | "ADD") {
            // Config steps are cached too, so an unchanged rebuild keeps their times and gives
            // the same image id.
            let key = cache::key(state, &format!("{} {args:?}", ins.original), "");
            if self.cached(state, &key) {
                if ins.keyword == "ARG" {
                    let globals = self.global_args.clone();
                    let (k, v) =
                        self.arg_value(ins, &|n| vars(n).or_else(|| globals.get(n).cloned()))?;
                    if let Some(v) = v.or_else(|| self.global_args.get(&k).cloned()) {
                        args.insert(k, v);
                    }
                }
                self.out.line(&format!(" ---> {}", short(&state.id())));
                return Ok(());
            }
            self.config_step(state, args, ins, &vars)?;
            self.cache.put(&key, state)?;
            self.out.line(&format!(" ---> {}", short(&state.id())));
            return Ok(());
        }
        match ins.keyword.as_str() {
            "RUN" => self.run_instruction(state, args, ins)?,
            _ => self.copy(state, ins, &vars)?,
        }
        self.out.line(&format!(" ---> {}", short(&state.id())));
        Ok(())
    }

    fn config_step(
        &mut self,
        state: &mut ImageState,
        args: &mut BTreeMap<String, String>,
        ins: &Instruction,
        vars: &dyn Fn(&str) -> Option<String>,
    ) -> Result<()> {
        if ins.keyword == "ARG" {
            let globals = self.global_args.clone();
            let (k, v) = self.arg_value(ins, &|n| vars(n).or_else(|| globals.get(n).cloned()))?;
            if let Some(v) = v.or_else(|| self.global_args.get(&k).cloned()) {
                args.insert(k, v);
            }
        } else if is_config_instruction(&ins.keyword) {
            let mut author = state.config.author.clone();
            config_ops::apply(
                &mut state.config.config,
                &mut author,
                &mut state.cmd_set,
                ins,
                vars,
                self.escape,
            )?;
            state.config.author = author;
        } else {
            return Err(ins.error(format!("{} is not supported here", ins.keyword)));
        }
        self.history(state, ins, true);
        Ok(())
    }

    fn history(&self, state: &mut ImageState, ins: &Instruction, empty: bool) {
        state.config.created = Some(self.now());
        let by = if empty {
            ins.original.clone()
        } else {
            format!("{} # buildkit", ins.original)
        };
        state.config.history.push(History {
            created: Some(self.now()),
            created_by: Some(by),
            empty_layer: empty,
            ..Default::default()
        });
    }

    pub(super) fn add_layer(
        &self,
        state: &mut ImageState,
        ins: &Instruction,
        layer: &WrittenLayer,
    ) {
        state.config.rootfs.diff_ids.push(layer.diff_id.clone());
        state.layers.push(LayerBlob {
            digest: layer.digest.clone(),
            size: layer.size,
            media_type: layer.media_type.to_string(),
        });
        self.history(state, ins, false);
    }

    /// Looks the step up; true when the cache answered (and `state` is the cached one).
    pub(super) fn cached(&mut self, state: &mut ImageState, key: &str) -> bool {
        if self.opts.no_cache {
            return false;
        }
        match self.cache.get(key) {
            Some(hit) => {
                self.out.line(" ---> Using cache");
                *state = hit;
                true
            }
            None => false,
        }
    }
}
