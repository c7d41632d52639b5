//! RUN: the command runs in a container of the engine over the current image state (its
//! layers unpacked, no image recorded), its output streamed to the build's output, and the
//! container's upper directory becomes the step's layer (the runtime's mount points come from
//! the state's init layer, so they are not in it). The container is removed whatever
//! happens (see [`super::cancel`] for a build that is cancelled or killed).

use std::collections::BTreeMap;

use super::cache::{self, ImageState};
use super::cancel::{BuildCancel, BUILD_LABEL};
use super::config_ops::{self, command_of};
use super::executor::Run;
use super::parser::{Args, Instruction};
use super::BuildOutput;
use crate::engine::container::image_source::{ImageRunConfig, ResolvedImage};
use crate::engine::container::{self, CreateOptions};
use crate::engine::content::ContentStore;
use crate::engine::error::{EngineError, Result};
use crate::engine::layer::diff::is_runtime_path;
use crate::engine::layer::init_layer;
use crate::engine::layer::writer::{write_layer, LayerOptions, WrittenLayer};
use crate::engine::logs::LogOptions;
use crate::engine::Engine;

/// Removes the step's container on drop.
struct Remove<'e> {
    engine: &'e Engine,
    id: String,
    cancel: &'e BuildCancel,
}

impl Drop for Remove<'_> {
    fn drop(&mut self) {
        self.cancel.track(&self.id, false);
        if let Err(e) = container::remove(self.engine, &self.id, true) {
            // Its build's lock goes free when the build ends: the next build or `builder
            // prune` removes it.
            tracing::warn!(container = %self.id, "cannot remove build container: {e}");
        }
    }
}

/// What a RUN needs besides the state.
pub struct RunStep<'a> {
    /// The command (shell form already wrapped in the shell).
    pub command: Vec<String>,
    /// Build args in scope, as `K=V`, added to the environment.
    pub args_env: Vec<String>,
    /// `--network`.
    pub network: Option<String>,
    /// Mtime clamp for the layer.
    pub clamp: Option<i64>,
    /// Where the output goes.
    pub out: &'a mut dyn BuildOutput,
    /// Stops the step from another thread.
    pub cancel: &'a BuildCancel,
    /// The build's owner token (the value of the container's build label).
    pub owner: &'a str,
}

/// Runs the step; returns the layer and the container's exit code (the layer only on 0).
pub fn run(
    engine: &Engine,
    state: &ImageState,
    step: RunStep,
) -> Result<(Option<WrittenLayer>, i32)> {
    let (chains, _) = engine.unpack_layers(&state.config.rootfs.diff_ids, &state.layers)?;
    let lowers = chains
        .iter()
        .rev()
        .map(|c| engine.layout().layer_dir(c))
        .collect::<Result<Vec<_>>>()?;
    let lowers = match chains.last() {
        // FROM scratch: an empty lower directory.
        None => {
            let empty = engine.layout().root().join("build-cache").join("empty");
            std::fs::create_dir_all(&empty)
                .map_err(|e| EngineError::io_path("cannot create", &empty, e))?;
            vec![empty]
        }
        // The state's init layer on top, as a container of an image has: the runtime's mount
        // points are not made in the container's upper dir, which becomes the step's layer
        // (an `etc/` for an image without `/etc/hosts`, in every RUN layer, otherwise).
        Some(top) => {
            let mut lowers = lowers;
            if let Some(init) = init_layer::ensure(engine.layout(), top, &lowers)? {
                lowers.insert(0, init);
            }
            lowers
        }
    };
    let c = &state.config.config;
    let img = ResolvedImage {
        name: state.id(),
        id: String::new(),
        config: ImageRunConfig {
            env: c.env.clone(),
            working_dir: c.working_dir.clone(),
            user: c.user.clone(),
            ..Default::default()
        },
        lowers,
    };
    let opts = CreateOptions {
        image: img.name.clone(),
        cmd: step.command.clone(),
        entrypoint: Some(String::new()),
        env: step.args_env.clone(),
        network: step.network.clone(),
        labels: vec![format!("{BUILD_LABEL}={}", step.owner)],
        ..Default::default()
    };
    step.cancel.check()?;
    let rec = container::create::create_from(engine, &opts, img)?;
    let _remove = Remove {
        engine,
        id: rec.id.clone(),
        cancel: step.cancel,
    };
    step.cancel.track(&rec.id, true);
    step.cancel.check()?;
    step.out
        .line(&format!(" ---> Running in {}", rec.short_id()));
    container::start(engine, &rec.id, false)?;
    if step.cancel.is_cancelled() {
        // Cancelled while starting: `cancel` found nothing to kill yet.
        let _ = container::kill(engine, &rec.id, None);
    }
    for entry in container::logs(engine, &rec.id, LogOptions::default(), true)? {
        let entry = entry?;
        step.out.output(&entry.line);
    }
    let code = container::wait(engine, &rec.id)?;
    step.cancel.check()?;
    if code != 0 {
        return Ok((None, code));
    }
    let upper = engine.layout().container_dir(&rec.id).join("upper");
    let skip = |p: &[u8]| is_runtime_path(p);
    let layer = write_layer(
        &ContentStore::new(engine.layout()),
        &upper,
        &LayerOptions {
            clamp_mtime: step.clamp,
            skip: Some(&skip),
            ..Default::default()
        },
    )?;
    step.out.line(&format!(
        " ---> Removed intermediate container {}",
        rec.short_id()
    ));
    Ok((Some(layer), code))
}

impl Run<'_> {
    /// A RUN instruction: the command with the build args in scope, looked up in the cache,
    /// else run in a container and its change added as a layer.
    pub(super) fn run_instruction(
        &mut self,
        state: &mut ImageState,
        args: &BTreeMap<String, String>,
        ins: &Instruction,
    ) -> Result<()> {
        let mut command = command_of(&state.config.config, ins);
        for h in &ins.heredocs {
            // `RUN <<EOF`: the heredoc is the script the shell runs.
            if matches!(ins.args, Args::Shell(_)) {
                command = config_ops::shell_of(&state.config.config);
                command.push(h.content.clone());
            }
        }
        let args_env: Vec<String> = args
            .iter()
            .filter(|(k, _)| {
                !state
                    .config
                    .config
                    .env
                    .iter()
                    .flatten()
                    .any(|e| e.starts_with(&format!("{k}=")))
            })
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let key = cache::key(state, &format!("{command:?} {args_env:?}"), "");
        if self.cached(state, &key) {
            return Ok(());
        }
        let (layer, code) = run(
            self.engine,
            state,
            RunStep {
                command: command.clone(),
                args_env,
                network: self.opts.network.clone(),
                clamp: self.opts.source_date_epoch,
                out: &mut *self.out,
                cancel: &self.cancel,
                owner: &self.owner,
            },
        )?;
        let Some(layer) = layer else {
            return Err(EngineError::Command {
                message: format!(
                    "Dockerfile line {}: the command '{}' returned a non-zero code: {code}",
                    ins.line,
                    command.join(" ")
                ),
                code: 1,
            });
        };
        self.add_layer(state, ins, &layer);
        self.cache.put(&key, state)
    }
}
