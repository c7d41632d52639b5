//! `cp`: files between a container and the host (or a tar stream), with docker's rules.
//!
//! The copy is a tar stream, as in docker: the source is walked by descriptors into a tar
//! whose top entry already carries the name the copy gets, and the destination directory
//! receives it through the layer extractor's no-follow walk. Every container path is resolved
//! with [`crate::engine::inroot`] inside the container's root (or inside the volume or bind
//! source it lies under), so no symlink in the container can lead `cp` to a host path. A
//! stopped container's rootfs is mounted for the copy (its lock held, so it cannot start
//! meanwhile) and unmounted after.
//!
//! Docker's rules: `SRC/.` copies a directory's contents; a destination that exists as a
//! directory receives the source inside it; a missing destination becomes the copy (its parent
//! must exist; a trailing `/` there needs a directory source); a directory never replaces a
//! file. Without `-a` the copies belong to root in the container and to the caller on the host.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use super::record::ContainerRecord;
use super::store;
use super::tree_tar::TreeTar;
use crate::engine::error::{EngineError, Result};
use crate::engine::inroot;
use crate::engine::layer::unpack::extract_into;
use crate::engine::lock::FileLock;
use crate::engine::snapshot::Snapshot;
use crate::engine::Engine;

/// How to copy.
#[derive(Debug, Clone, Copy, Default)]
pub struct CopyOptions {
    /// Keep the source's owners (`-a`).
    pub archive: bool,
    /// Follow a symlink that is the source itself (`-L`).
    pub follow: bool,
}

/// One side of a copy on the host.
pub enum HostSide {
    /// A host path.
    Path(PathBuf),
    /// A tar stream (`-`): read for a copy into a container.
    Reader(Box<dyn Read + Send>),
    /// A tar stream (`-`): written by a copy out of a container.
    Writer(Box<dyn Write + Send>),
}

/// Where a path lives: the root it is resolved in and the path inside it.
struct Located {
    root: PathBuf,
    path: String,
    writable: bool,
}

/// A container's filesystem made reachable for a copy: mounted by us if it was not.
struct ContainerFs {
    merged: PathBuf,
    rec: ContainerRecord,
    mounted_here: Option<Snapshot>,
    _lock: Option<FileLock>,
}

impl Drop for ContainerFs {
    fn drop(&mut self) {
        if let Some(snap) = &self.mounted_here {
            let _ = snap.unmount();
        }
    }
}

impl ContainerFs {
    fn open(engine: &Engine, reference: &str) -> Result<ContainerFs> {
        let id = store::resolve(engine.state(), reference)?;
        let dir = engine.layout().container_dir(&id);
        let snap = Snapshot::new(&dir);
        let mut lock = None;
        let mut mounted_here = None;
        if !snap.is_mounted()? {
            lock = Some(store::lock(engine.layout(), &id)?);
            if !snap.is_mounted()? {
                let rec = store::load(engine.state(), &id)?;
                mount_overlay(&dir, &rec.lowers)?;
                mounted_here = Some(snap.clone());
            }
        }
        let rec = store::load(engine.state(), &id)?;
        Ok(ContainerFs {
            merged: snap.merged(),
            rec,
            mounted_here,
            _lock: lock,
        })
    }

    /// The root and inner path of the container path `path`: inside the volume or bind mount
    /// it lies under, else inside the rootfs.
    fn locate(&self, path: &str) -> Result<Located> {
        let clean = lexical(path);
        let mut best: Option<&crate::engine::mounts::MountPoint> = None;
        for m in &self.rec.mounts {
            let dest = lexical(&m.destination);
            let under =
                clean == dest || clean.starts_with(&format!("{}/", dest.trim_end_matches('/')));
            if under && best.is_none_or(|b| b.destination.len() < m.destination.len()) {
                best = Some(m);
            }
        }
        match best {
            Some(m) if m.source.is_empty() => Err(EngineError::InvalidInput(format!(
                "{path} is on a tmpfs mount of the container, which cp cannot reach"
            ))),
            Some(m) => {
                let dest = lexical(&m.destination);
                let rest = clean[dest.len()..].to_string();
                Ok(Located {
                    root: PathBuf::from(&m.source),
                    path: if rest.is_empty() { "/".into() } else { rest },
                    writable: m.rw,
                })
            }
            None => Ok(Located {
                root: self.merged.clone(),
                path: clean,
                writable: true,
            }),
        }
    }
}

/// Mounts the container's overlay at `merged/` as its monitor does, from a child process with
/// the container dir as working directory (short lower names; no `chdir` in this process).
fn mount_overlay(dir: &Path, layers: &[PathBuf]) -> Result<()> {
    let marker = dir.join("work/work/incompat/volatile");
    if marker.exists() {
        std::fs::remove_dir_all(&marker)
            .map_err(|e| EngineError::io_path("cannot clear", &marker, e))?;
    }
    let lowers = crate::engine::snapshot::lower_names(layers);
    let out = std::process::Command::new("mount")
        .current_dir(dir)
        .args(["-t", "overlay", "overlay", "-o"])
        .arg(format!(
            "lowerdir={},upperdir=upper,workdir=work,volatile",
            lowers.join(":")
        ))
        .arg("merged")
        .output()
        .map_err(|e| EngineError::io("cannot run mount(8) for the copy", e))?;
    if !out.status.success() {
        return Err(EngineError::Runtime(format!(
            "cannot mount the container's filesystem for the copy: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// `/a/./b/../c/` → `/a/c` (lexically, as docker cleans container paths; `..` stops at `/`).
fn lexical(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

/// What a source path asks for: its parent, its name, and docker's suffix flags.
struct Source {
    /// Cleaned path.
    path: String,
    /// Last component (`/` for the root).
    name: String,
    /// Ends with `/.`: copy the directory's contents.
    contents: bool,
    /// Ends with `/`: must be a directory.
    dir_only: bool,
}

fn parse_source(raw: &str) -> Source {
    let path = lexical(raw);
    let contents = raw.ends_with("/.") || raw == "." || path == "/";
    let dir_only = raw.ends_with('/');
    let name = path.rsplit('/').next().unwrap_or("").to_string();
    Source {
        name: if name.is_empty() { "/".into() } else { name },
        path,
        contents,
        dir_only,
    }
}

/// Opens `path` with `O_PATH` (not following a final symlink unless `follow`), inside `root`
/// when given.
fn open_path(root: Option<&Path>, path: &str, follow: bool) -> std::io::Result<File> {
    let mut flags = libc::O_PATH;
    if !follow {
        flags |= libc::O_NOFOLLOW;
    }
    match root {
        Some(r) => inroot::open(r, path, flags),
        None => {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(flags)
                .open(path)
        }
    }
}

fn is_dir(f: &File) -> bool {
    nix::sys::stat::fstat(f.as_raw_fd())
        .map(|st| st.st_mode & libc::S_IFMT == libc::S_IFDIR)
        .unwrap_or(false)
}

/// Writes the source as a tar into `out`: its contents (`/.`), or itself under `as_name`.
fn write_source(
    src_root: Option<&Path>,
    src: &Source,
    as_name: Option<&str>,
    owner: Option<(u32, u32)>,
    follow: bool,
    out: &mut dyn Write,
) -> Result<()> {
    let shown = src.path.clone();
    let f = open_path(src_root, &src.path, follow || src.contents)
        .map_err(|e| EngineError::NotFound(format!("could not find {shown}: {e}")))?;
    let mut builder = tar::Builder::new(out);
    {
        let mut t = TreeTar::new(&mut builder);
        if let Some((u, g)) = owner {
            t = t.with_owner(u, g);
        }
        match as_name {
            None => {
                let dir = inroot::open_at(&f, ".".as_ref(), libc::O_RDONLY | libc::O_DIRECTORY)
                    .map_err(|e| EngineError::io(format!("cannot open {shown}"), e))?;
                t.add_dir(&dir, "")?;
            }
            Some(name) => t.add_path_fd(&f, name)?,
        }
    }
    builder
        .into_inner()
        .and_then(|w| w.flush())
        .map_err(|e| EngineError::io("cannot write the copy", e))
}

/// Where the copy goes and under which name (None: the source's contents into `dir`).
struct Target {
    dir: OwnedFd,
    name: Option<String>,
}

/// Applies docker's rules to a destination `raw` in `root` (None: the host).
fn plan_target(root: Option<&Path>, raw: &str, src: &Source, src_is_dir: bool) -> Result<Target> {
    let path = if root.is_some() {
        lexical(raw)
    } else {
        raw.to_string()
    };
    let open_dir = |p: &str| -> std::io::Result<OwnedFd> {
        let f = match root {
            Some(r) => inroot::open(r, p, libc::O_RDONLY | libc::O_DIRECTORY)?,
            None => {
                use std::os::unix::fs::OpenOptionsExt;
                std::fs::OpenOptions::new()
                    .read(true)
                    .custom_flags(libc::O_DIRECTORY)
                    .open(if p.is_empty() { "." } else { p })?
            }
        };
        Ok(OwnedFd::from(f))
    };
    match open_path(root, &path, true) {
        Ok(f) if is_dir(&f) => {
            let dir =
                open_dir(&path).map_err(|e| EngineError::io(format!("cannot open {raw}"), e))?;
            let name = (!src.contents).then(|| src.name.clone());
            Ok(Target { dir, name })
        }
        Ok(_) => {
            if src_is_dir {
                return Err(EngineError::InvalidInput(format!(
                    "cannot copy a directory to {raw}, which is a file"
                )));
            }
            if raw.ends_with('/') {
                return Err(EngineError::InvalidInput(format!(
                    "{raw} is not a directory"
                )));
            }
            split_target(&path, raw, open_dir)
        }
        Err(_) => {
            if raw.ends_with('/') && !src_is_dir {
                return Err(EngineError::NotFound(format!(
                    "the destination directory {raw} does not exist"
                )));
            }
            split_target(&path, raw, open_dir)
        }
    }
}

fn split_target(
    path: &str,
    raw: &str,
    open_dir: impl Fn(&str) -> std::io::Result<OwnedFd>,
) -> Result<Target> {
    let trimmed = path.trim_end_matches('/');
    let (parent, name) = match trimmed.rsplit_once('/') {
        Some(("", n)) => ("/", n),
        Some((p, n)) => (p, n),
        None => (".", trimmed),
    };
    if name.is_empty() || name == "." || name == ".." {
        return Err(EngineError::InvalidInput(format!(
            "{raw} does not name a file or directory to copy to"
        )));
    }
    let dir = open_dir(parent).map_err(|e| {
        EngineError::NotFound(format!(
            "cannot copy to {raw}: its directory {parent} does not exist ({e})"
        ))
    })?;
    Ok(Target {
        dir,
        name: Some(name.to_string()),
    })
}

/// Streams a tar from `produce` (run on its own thread) into `consume`.
fn pipe_through(
    produce: impl FnOnce(&mut dyn Write) -> Result<()> + Send,
    consume: impl FnOnce(&mut dyn Read) -> Result<()>,
) -> Result<()> {
    let (mut r, mut w) = std::io::pipe().map_err(|e| EngineError::io("cannot make a pipe", e))?;
    std::thread::scope(|s| {
        let producer = s.spawn(move || produce(&mut w));
        let consumed = consume(&mut r);
        drop(r);
        let produced = producer.join().unwrap_or_else(|_| {
            Err(EngineError::io(
                "copy failed",
                std::io::Error::other("panic"),
            ))
        });
        // The reader's failure explains a writer's broken pipe; a writer's own failure explains
        // the truncated archive the reader saw.
        match (produced, consumed) {
            (Err(EngineError::Io { source, .. }), Err(c))
                if source.kind() == std::io::ErrorKind::BrokenPipe =>
            {
                Err(c)
            }
            (Err(p), _) => Err(p),
            (Ok(()), c) => c,
        }
    })
}

impl Engine {
    /// `cp CONTAINER:SRC DEST`: copies `src` out of the container to a host path or a tar
    /// stream. Blocking.
    pub fn copy_from_container(
        &self,
        container: &str,
        src: &str,
        dest: HostSide,
        opts: CopyOptions,
    ) -> Result<()> {
        let fs = ContainerFs::open(self, container)?;
        let source = parse_source(src);
        let at = fs.locate(&source.path)?;
        let located = Source {
            path: at.path.clone(),
            ..parse_source(src)
        };
        let probe =
            open_path(Some(&at.root), &at.path, opts.follow || source.contents).map_err(|_| {
                EngineError::NotFound(format!(
                    "could not find the file {src} in container {container}"
                ))
            })?;
        let src_is_dir = is_dir(&probe);
        if source.dir_only && !src_is_dir {
            return Err(EngineError::InvalidInput(format!(
                "{src} is not a directory"
            )));
        }
        let owner = (!opts.archive).then(|| {
            (
                nix::unistd::getuid().as_raw(),
                nix::unistd::getgid().as_raw(),
            )
        });
        let root = at.root.clone();
        match dest {
            HostSide::Writer(mut w) => {
                let name = (!(source.contents && src_is_dir)).then(|| source.name.clone());
                write_source(
                    Some(&root),
                    &located,
                    name.as_deref(),
                    owner,
                    opts.follow,
                    &mut w,
                )
            }
            HostSide::Path(p) => {
                let raw = p.to_string_lossy().into_owned();
                let target = plan_target(None, &raw, &source, src_is_dir)?;
                let name = target.name.clone();
                pipe_through(
                    |w| {
                        write_source(
                            Some(&root),
                            &located,
                            name.as_deref(),
                            owner,
                            opts.follow,
                            w,
                        )
                    },
                    |r| extract_into(target.dir, r),
                )
            }
            HostSide::Reader(_) => Err(EngineError::InvalidInput(
                "a copy out of a container writes to a path or to -".into(),
            )),
        }
    }

    /// `cp SRC CONTAINER:DEST`: copies a host path or a tar stream into the container.
    /// Blocking.
    pub fn copy_to_container(
        &self,
        src: HostSide,
        container: &str,
        dest: &str,
        opts: CopyOptions,
    ) -> Result<()> {
        let fs = ContainerFs::open(self, container)?;
        let at = fs.locate(dest)?;
        if !at.writable {
            return Err(EngineError::InvalidInput(format!(
                "{dest} is on a read-only mount of container {container}"
            )));
        }
        let owner = (!opts.archive).then_some((0, 0));
        match src {
            HostSide::Reader(mut r) => {
                let f = open_path(Some(&at.root), &at.path, true).map_err(|_| {
                    EngineError::NotFound(format!(
                        "the destination {dest} does not exist in container {container}"
                    ))
                })?;
                if !is_dir(&f) {
                    return Err(EngineError::InvalidInput(format!(
                        "the destination {dest} must be a directory to extract a tar stream into"
                    )));
                }
                let dir = inroot::open(&at.root, &at.path, libc::O_RDONLY | libc::O_DIRECTORY)
                    .map_err(|e| EngineError::io(format!("cannot open {dest}"), e))?;
                extract_into(OwnedFd::from(dir), &mut r)
            }
            HostSide::Path(p) => {
                let raw = p.to_string_lossy().into_owned();
                let source = parse_source(&raw);
                let host_path = if raw.starts_with('/') {
                    source.path.clone()
                } else {
                    let joined = std::env::current_dir()
                        .map_err(|e| EngineError::io("cannot read the working directory", e))?
                        .join(&raw);
                    lexical(&joined.to_string_lossy())
                };
                let source = Source {
                    path: host_path,
                    ..source
                };
                let probe = open_path(None, &source.path, opts.follow || source.contents)
                    .map_err(|e| EngineError::NotFound(format!("could not find {raw}: {e}")))?;
                let src_is_dir = is_dir(&probe);
                if source.dir_only && !src_is_dir {
                    return Err(EngineError::InvalidInput(format!(
                        "{raw} is not a directory"
                    )));
                }
                let target = plan_target(Some(&at.root), &at.path, &source, src_is_dir)?;
                let name = target.name.clone();
                pipe_through(
                    |w| write_source(None, &source, name.as_deref(), owner, opts.follow, w),
                    |r| extract_into(target.dir, r),
                )
            }
            HostSide::Writer(_) => Err(EngineError::InvalidInput(
                "a copy into a container reads a path or -".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_carry_dockers_suffixes() {
        let s = parse_source("/etc/.");
        assert!(s.contents && s.path == "/etc" && s.name == "etc");
        let s = parse_source("/etc/");
        assert!(s.dir_only && !s.contents && s.name == "etc");
        let s = parse_source("/a/../../b");
        assert_eq!(s.path, "/b");
        assert_eq!(lexical("/"), "/");
    }
}
