//! COPY and ADD steps of a build: the sources (the context with its `.dockerignore`, a built
//! stage, or an image, seen through a read-only overlay), the cache lookup on their digest, and
//! the staged layer (see [`super::copy`] for docker's copy rules).

use std::path::PathBuf;

use super::cache::{self, ImageState};
use super::config_ops;
use super::context::{Context, Ignore};
use super::copy::{self, CopyPlan};
use super::executor::Run;
use super::parser::{Args, Instruction};
use super::words::{expand_word, expand_words};
use crate::engine::distribution::remote_file;
use crate::engine::error::{EngineError, Result};
use crate::engine::layer::writer::{write_layer, LayerOptions};
use crate::engine::staging::StagedDir;
use crate::engine::Engine;

impl Run<'_> {
    pub(super) fn copy(
        &mut self,
        state: &mut ImageState,
        ins: &Instruction,
        vars: &dyn Fn(&str) -> Option<String>,
    ) -> Result<()> {
        let mut words = match &ins.args {
            Args::Json(v) => v.clone(),
            Args::Shell(s) => expand_words(s, vars, self.escape)?,
        };
        let heredocs = ins.heredocs.clone();
        if words.len() < 2 && heredocs.is_empty() {
            return Err(ins.error("needs at least one source and a destination"));
        }
        let dest_raw = words.pop().unwrap_or_default();
        let workdir = state
            .config
            .config
            .working_dir
            .clone()
            .unwrap_or_else(|| "/".into());
        let dest_slash = dest_raw.ends_with('/') || dest_raw == "." || dest_raw.ends_with("/.");
        let dest = if dest_raw.starts_with('/') {
            config_ops::clean_path(&dest_raw)
        } else {
            config_ops::clean_path(&format!("{workdir}/{dest_raw}"))
        };
        // Sources: the context, a stage or an image.
        let tmp_root;
        let _mount;
        let (root, paths) = match ins.flag("from") {
            Some(from) => {
                let from = expand_word(from, vars, self.escape)?;
                let src_state = self.source_state(&from)?;
                let (dir, guard) = rootfs_view(self.engine, &src_state)?;
                _mount = guard;
                tmp_root = dir;
                let ctx = Context {
                    root: tmp_root.clone(),
                    ignore: Ignore::default(),
                };
                let paths = ctx.paths()?;
                (tmp_root.clone(), paths)
            }
            None => {
                if self.context_paths.is_none() {
                    self.context_paths = Some(self.context.paths()?);
                }
                (
                    self.context.root.clone(),
                    self.context_paths.clone().unwrap_or_default(),
                )
            }
        };
        let stage = StagedDir::create(self.engine.layout(), "build-copy")?;
        let mut sources = Vec::new();
        let ctx = Context {
            root: root.clone(),
            ignore: Ignore::default(),
        };
        let mut fetched = Vec::new();
        let mut remote_digests = Vec::new();
        let checksum = ins.flag("checksum").map(str::to_string);
        if checksum.is_some() && !words.iter().any(|w| is_url(w)) {
            return Err(ins.error("--checksum is only valid with an http(s) URL source"));
        }
        let downloads = match words.iter().any(|w| is_url(w)) {
            true => Some(StagedDir::create(self.engine.layout(), "build-add-url")?),
            false => None,
        };
        for w in &words {
            if let (true, Some(dl)) = (is_url(w), &downloads) {
                if ins.keyword != "ADD" {
                    return Err(ins.error(format!(
                        "source can't be a URL for COPY ({w}): use ADD to fetch it"
                    )));
                }
                let (path, rel, digest) = self
                    .fetch_url(w, dl.path(), checksum.as_deref())
                    .map_err(|e| ins.error(e))?;
                remote_digests.push(digest);
                fetched.push(path.clone());
                sources.push((path, rel));
                continue;
            }
            if w.starts_with("<<") {
                continue;
            }
            for rel in ctx.sources(w, &paths).map_err(|e| ins.error(e))? {
                sources.push((root.join(&rel), rel));
            }
        }
        // Heredoc sources become files in a scratch directory next to the staging one.
        let hd = StagedDir::create(self.engine.layout(), "build-heredoc")?;
        for h in &heredocs {
            let p = hd.path().join(&h.name);
            let content = if h.expand {
                expand_word(&h.content, vars, self.escape).unwrap_or_else(|_| h.content.clone())
            } else {
                h.content.clone()
            };
            std::fs::write(&p, content).map_err(|e| EngineError::io_path("cannot write", &p, e))?;
            sources.push((p, h.name.clone()));
        }
        let chown = match ins.flag("chown") {
            Some(c) => Some(self.chown(state, &expand_word(c, vars, self.escape)?)?),
            None => None,
        };
        let chmod =
            match ins.flag("chmod") {
                Some(m) => Some(u32::from_str_radix(m, 8).map_err(|_| {
                    ins.error(format!("--chmod={m}: give an octal mode such as 755"))
                })?),
                None => None,
            };
        let plan = CopyPlan {
            sources,
            dest,
            dest_slash,
            chown,
            chmod,
            unpack: ins.keyword == "ADD",
            fetched,
            ignore: if ins.flag("from").is_some() {
                Ignore::default()
            } else {
                self.context.ignore.clone()
            },
        };
        let digest = format!("{}{remote_digests:?}", copy::sources_digest(&plan)?);
        let key = cache::key(state, &format!("{} {:?}", ins.original, plan.dest), &digest);
        if self.cached(state, &key) {
            return Ok(());
        }
        let (chains, _) = self
            .engine
            .unpack_layers(&state.config.rootfs.diff_ids, &state.layers)?;
        let lowers: Vec<PathBuf> = chains
            .iter()
            .rev()
            .map(|c| self.engine.layout().layer_dir(c))
            .collect::<Result<_>>()?;
        let plain = copy::stage_copy(&plan, stage.path(), &lowers).map_err(|e| ins.error(e))?;
        let layer = write_layer(
            &self.store,
            stage.path(),
            &LayerOptions {
                clamp_mtime: self.opts.source_date_epoch,
                ..Default::default()
            },
        )?;
        // The staging tree is the layer as the unpacker would lay it out (COPY and ADD write no
        // whiteouts; times in whole seconds, as the tar has them), so the next step's lower is
        // this directory rather than a second unpack of the blob. With SOURCE_DATE_EPOCH the
        // blob's times are clamped and the staging tree's are not, and a `.wh.` name is a
        // whiteout once unpacked: unpack then.
        if plain && self.opts.source_date_epoch.is_none() {
            self.engine.adopt_unpacked_layer(
                &state.config.rootfs.diff_ids,
                &layer.diff_id,
                stage,
            )?;
        }
        self.add_layer(state, ins, &layer);
        self.cache.put(&key, state)
    }

    /// Fetches an ADD URL into `dir` (in a subdirectory of its own, so two URLs of one name do
    /// not meet); returns the file, its name as a source and its digest. Its time is the
    /// server's `Last-Modified`, or the epoch.
    fn fetch_url(
        &self,
        url: &str,
        dir: &std::path::Path,
        checksum: Option<&str>,
    ) -> Result<(PathBuf, String, String)> {
        let handle = self.handle.clone();
        let parsed = remote_file::parse_url(url)?;
        let sub = dir.join(format!(
            "{}",
            std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
        ));
        std::fs::create_dir(&sub).map_err(|e| EngineError::io_path("cannot create", &sub, e))?;
        let guess = parsed
            .path_segments()
            .and_then(|mut s| s.next_back().map(str::to_string))
            .filter(|n| !n.is_empty() && n != "." && n != "..")
            .unwrap_or_else(|| "__unnamed__".into());
        let tmp = sub.join(".download");
        let got = handle.block_on(remote_file::fetch(url, &tmp, checksum))?;
        let name = got.name.clone().unwrap_or(guess);
        let path = sub.join(&name);
        std::fs::rename(&tmp, &path).map_err(|e| EngineError::io_path("cannot move", &path, e))?;
        let t = filetime::FileTime::from_system_time(got.modified.unwrap_or(std::time::UNIX_EPOCH));
        filetime::set_file_mtime(&path, t)
            .map_err(|e| EngineError::io_path("cannot set time of", &path, e))?;
        Ok((path, name, got.digest))
    }

    /// `--from=NAME`: a built stage (by name or number) or an image.
    fn source_state(&mut self, from: &str) -> Result<ImageState> {
        let lower = from.to_ascii_lowercase();
        let by_name = self
            .names
            .iter()
            .position(|n| n.as_deref() == Some(lower.as_str()))
            .or_else(|| from.parse::<usize>().ok());
        if let Some(Some(s)) = by_name.and_then(|i| self.done.get(i)) {
            return Ok(s.clone());
        }
        self.image_state(from)
    }

    /// `--chown=USER[:GROUP]`, names looked up in the image's passwd and group files.
    fn chown(&self, state: &ImageState, spec: &str) -> Result<(u32, u32)> {
        let nums: Vec<Option<u32>> = spec.split(':').map(|p| p.parse().ok()).collect();
        if let [Some(u), Some(g)] = nums.as_slice() {
            return Ok((*u, *g));
        }
        if let [Some(u)] = nums.as_slice() {
            return Ok((*u, *u));
        }
        let (chains, _) = self
            .engine
            .unpack_layers(&state.config.rootfs.diff_ids, &state.layers)?;
        for c in chains.iter().rev() {
            let dir = self.engine.layout().layer_dir(c)?;
            if dir.join("etc/passwd").is_file() {
                let u = crate::engine::users::resolve(&dir, spec)?;
                return Ok((u.uid, u.gid));
            }
        }
        Err(EngineError::InvalidInput(format!(
            "--chown={spec}: the image has no /etc/passwd to look the name up in; give numbers"
        )))
    }
}

fn is_url(w: &str) -> bool {
    w.starts_with("http://") || w.starts_with("https://")
}

/// Unmounts a read-only overlay view on drop.
pub struct ViewGuard(Option<StagedDir>);

impl Drop for ViewGuard {
    fn drop(&mut self) {
        if let Some(dir) = &self.0 {
            let target = dir.path().join("m");
            let _ = nix::mount::umount2(&target, nix::mount::MntFlags::MNT_DETACH);
        }
    }
}

/// A read-only view of a state's root filesystem: the layer itself for one layer, else a
/// read-only overlay of its layers (unmounted when the guard drops).
fn rootfs_view(engine: &Engine, state: &ImageState) -> Result<(PathBuf, ViewGuard)> {
    let (chains, _) = engine.unpack_layers(&state.config.rootfs.diff_ids, &state.layers)?;
    let dirs: Vec<PathBuf> = chains
        .iter()
        .rev()
        .map(|c| engine.layout().layer_dir(c))
        .collect::<Result<_>>()?;
    match dirs.len() {
        0 => {
            let d = StagedDir::create(engine.layout(), "build-view")?;
            Ok((d.path().to_path_buf(), ViewGuard(Some(d))))
        }
        1 => Ok((dirs[0].clone(), ViewGuard(None))),
        _ => {
            let d = StagedDir::create(engine.layout(), "build-view")?;
            let target = d.path().join("m");
            std::fs::create_dir(&target)
                .map_err(|e| EngineError::io_path("cannot create", &target, e))?;
            let lower: Vec<String> = dirs.iter().map(|p| p.display().to_string()).collect();
            let data = format!("lowerdir={}", lower.join(":"));
            nix::mount::mount(
                Some("overlay"),
                &target,
                Some("overlay"),
                nix::mount::MsFlags::MS_RDONLY,
                Some(data.as_str()),
            )
            .map_err(|e| EngineError::io_path("cannot mount a view of", &target, e.into()))?;
            Ok((target, ViewGuard(Some(d))))
        }
    }
}
