//! COPY and ADD without a container: the sources are copied into a staging directory laid out
//! as the layer (`dest` below its root), which the layer writer then turns into a layer.
//!
//! Docker's rules: a directory source copies its contents; a file source goes to `dest` itself,
//! or into it when `dest` ends with `/`, is an existing directory of the image, or there are
//! several sources (which then requires the trailing `/`). New files belong to 0:0 unless
//! `--chown`; `--chmod` replaces the mode; mtimes are kept. Parent directories that exist in the
//! image keep their owner, mode and time in the layer; missing ones are made 0755 root. ADD
//! unpacks a local tar archive (plain, gzip, zstd, xz or bzip2) into `dest`, every entry with
//! the owner, mode and time the archive gives it (unless `--chown`), as a plain archive: a
//! `.wh.` name is a file, not a whiteout. A file ADD fetched from a URL is never unpacked.
//! Symlinks in the sources are copied as symlinks, never followed.

use std::fs;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::context::Ignore;
use crate::engine::error::{EngineError, IoContext, Result};
use crate::engine::layer::diff::exists_below;

/// One COPY/ADD.
#[derive(Debug, Clone)]
pub struct CopyPlan {
    /// Source paths on the host and their names relative to the source root.
    pub sources: Vec<(PathBuf, String)>,
    /// Absolute destination in the image (cleaned), and whether it was written with a trailing
    /// slash.
    pub dest: String,
    pub dest_slash: bool,
    /// `--chown` resolved.
    pub chown: Option<(u32, u32)>,
    /// `--chmod`.
    pub chmod: Option<u32>,
    /// ADD: unpack local archives.
    pub unpack: bool,
    /// Sources fetched from a URL by ADD: copied as they are, never unpacked.
    pub fetched: Vec<PathBuf>,
    /// The context's `.dockerignore`, applied below directory sources (names relative to the
    /// source root).
    pub ignore: Ignore,
}

/// Digest of the sources' names, contents, modes, owners and link targets (not their times):
/// the part of COPY's cache key that comes from the context.
pub fn sources_digest(plan: &CopyPlan) -> Result<String> {
    let mut h = Sha256::new();
    for (path, name) in &plan.sources {
        hash_tree(&mut h, path, name, &plan.ignore)?;
    }
    Ok(format!("sha256:{}", hex::encode(h.finalize())))
}

fn hash_tree(h: &mut Sha256, path: &Path, name: &str, ignore: &Ignore) -> Result<()> {
    let md = fs::symlink_metadata(path).ctx("cannot read", path)?;
    h.update(format!("{name}\0{:o}\0{}:{}\0", md.mode(), md.uid(), md.gid()).as_bytes());
    if md.is_file() {
        let mut f = fs::File::open(path).ctx("cannot read", path)?;
        std::io::copy(&mut f, h).ctx("cannot read", path)?;
    } else if md.file_type().is_symlink() {
        h.update(
            fs::read_link(path)
                .ctx("cannot read", path)?
                .as_os_str()
                .as_encoded_bytes(),
        );
    } else if md.is_dir() {
        let mut names: Vec<_> = fs::read_dir(path)
            .ctx("cannot read", path)?
            .filter_map(|e| e.ok().map(|e| e.file_name()))
            .collect();
        names.sort();
        for n in names {
            let rel = format!("{name}/{}", n.to_string_lossy());
            if !ignore.ignored(&rel) {
                hash_tree(h, &path.join(&n), &rel, ignore)?;
            }
        }
    }
    h.update(b"\n");
    Ok(())
}

/// Whether `rel` (no leading `/`) is a directory in the image whose layers are `lowers`.
fn is_dir_below(lowers: &[PathBuf], rel: &str) -> bool {
    top_path(lowers, rel).is_some_and(|p| p.is_dir())
}

/// The path of `rel` in the topmost layer that has it (when it exists in the image).
fn top_path(lowers: &[PathBuf], rel: &str) -> Option<PathBuf> {
    if !exists_below(lowers, rel.as_bytes()) {
        return None;
    }
    lowers
        .iter()
        .map(|l| l.join(rel))
        .find(|p| fs::symlink_metadata(p).is_ok())
}

/// Lays the plan out in `stage` (an empty directory) over an image of `lowers`. Returns whether
/// the staged tree is also the layer unpacked: false when a name in it starts with `.wh.`, which
/// the layer's tar carries as it is and an unpacker reads as a whiteout.
pub fn stage_copy(plan: &CopyPlan, stage: &Path, lowers: &[PathBuf]) -> Result<bool> {
    let dest_rel = plan.dest.trim_start_matches('/').to_string();
    let multi = plan.sources.len() > 1 || plan.sources.iter().any(|(p, _)| p.is_dir());
    let into_dir = plan.dest_slash
        || dest_rel.is_empty()
        || is_dir_below(lowers, &dest_rel)
        || plan.sources.iter().any(|(p, _)| p.is_dir());
    if plan.sources.len() > 1 && !plan.dest_slash && !is_dir_below(lowers, &dest_rel) {
        return Err(EngineError::InvalidInput(
            "When using COPY with more than one source file, the destination must be a \
             directory and end with a /"
                .into(),
        ));
    }
    let _ = multi;
    let parent_of_target = if into_dir {
        dest_rel.clone()
    } else {
        dest_rel
            .rsplit_once('/')
            .map(|(p, _)| p.to_string())
            .unwrap_or_default()
    };
    make_parents(stage, &parent_of_target, lowers, plan)?;
    for (src, rel) in &plan.sources {
        let md = fs::symlink_metadata(src).ctx("cannot read", src)?;
        if md.is_dir() {
            copy_children(src, &stage.join(&dest_rel), plan, rel)?;
        } else if plan.unpack && md.is_file() && !plan.fetched.contains(src) && is_archive(src)? {
            let target = stage.join(&dest_rel);
            unpack_into(src, &target, plan)?;
        } else {
            let target = if into_dir {
                let name = src.file_name().unwrap_or_default();
                stage.join(&dest_rel).join(name)
            } else {
                stage.join(&dest_rel)
            };
            copy_one(src, &target, plan, rel)?;
        }
    }
    let mut plain = true;
    whole_second_dir_times(stage, &mut plain)?;
    Ok(plain)
}

/// Directories whose children were made after their time was set (or that were made here) carry
/// the time of the last change to the nanosecond; the layer's tar keeps whole seconds, and the
/// staging tree is kept as the unpacked layer, so it must too. Directories only: few, and a
/// directory listing's file types say which entries they are without a stat each.
/// Clears `plain` when a name starts with `.wh.`.
fn whole_second_dir_times(dir: &Path, plain: &mut bool) -> Result<()> {
    use std::os::unix::ffi::OsStrExt;
    for entry in fs::read_dir(dir).ctx("cannot read", dir)? {
        let entry = entry.ctx("cannot read", dir)?;
        if entry.file_name().as_bytes().starts_with(b".wh.") {
            *plain = false;
        }
        if !entry
            .file_type()
            .ctx("cannot read", &entry.path())?
            .is_dir()
        {
            continue;
        }
        let p = entry.path();
        whole_second_dir_times(&p, plain)?;
        let md = fs::symlink_metadata(&p).ctx("cannot read", &p)?;
        if md.mtime_nsec() != 0 {
            let t = filetime::FileTime::from_unix_time(md.mtime(), 0);
            filetime::set_file_mtime(&p, t).ctx("cannot set time of", &p)?;
        }
    }
    Ok(())
}

/// Makes `rel`'s directories in `stage`, with the image's metadata where the image has them.
fn make_parents(stage: &Path, rel: &str, lowers: &[PathBuf], plan: &CopyPlan) -> Result<()> {
    let mut cur = String::new();
    let parts: Vec<&str> = rel.split('/').filter(|c| !c.is_empty()).collect();
    for (i, c) in parts.iter().enumerate() {
        if !cur.is_empty() {
            cur.push('/');
        }
        cur.push_str(c);
        let p = stage.join(&cur);
        if p.is_dir() {
            continue;
        }
        fs::create_dir(&p).ctx("cannot create", &p)?;
        match top_path(lowers, &cur).and_then(|t| fs::metadata(t).ok()) {
            Some(md) => {
                fs::set_permissions(&p, fs::Permissions::from_mode(md.mode() & 0o7777))
                    .ctx("cannot chmod", &p)?;
                std::os::unix::fs::lchown(&p, Some(md.uid()), Some(md.gid()))
                    .ctx("cannot chown", &p)?;
                let t = filetime::FileTime::from_unix_time(md.mtime(), 0);
                filetime::set_file_mtime(&p, t).ctx("cannot set time of", &p)?;
            }
            None => {
                fs::set_permissions(&p, fs::Permissions::from_mode(0o755))
                    .ctx("cannot chmod", &p)?;
                // The destination directory itself belongs to the --chown user, as in docker.
                let (u, g) = if i + 1 == parts.len() {
                    plan.chown.unwrap_or((0, 0))
                } else {
                    (0, 0)
                };
                std::os::unix::fs::lchown(&p, Some(u), Some(g)).ctx("cannot chown", &p)?;
            }
        }
    }
    Ok(())
}

fn copy_children(src: &Path, dest: &Path, plan: &CopyPlan, rel: &str) -> Result<()> {
    if !dest.exists() {
        fs::create_dir_all(dest).ctx("cannot create", dest)?;
    }
    let mut names: Vec<_> = fs::read_dir(src)
        .ctx("cannot read", src)?
        .filter_map(|e| e.ok().map(|e| e.file_name()))
        .collect();
    names.sort();
    for n in names {
        let child = if rel.is_empty() {
            n.to_string_lossy().into_owned()
        } else {
            format!("{rel}/{}", n.to_string_lossy())
        };
        if !plan.ignore.ignored(&child) {
            copy_one(&src.join(&n), &dest.join(&n), plan, &child)?;
        }
    }
    Ok(())
}

fn copy_one(src: &Path, dest: &Path, plan: &CopyPlan, rel: &str) -> Result<()> {
    let md = fs::symlink_metadata(src).ctx("cannot read", src)?;
    if fs::symlink_metadata(dest).is_ok_and(|d| !d.is_dir() || !md.is_dir()) {
        if fs::symlink_metadata(dest).is_ok_and(|d| d.is_dir()) {
            fs::remove_dir_all(dest).ctx("cannot replace", dest)?;
        } else {
            fs::remove_file(dest).ctx("cannot replace", dest)?;
        }
    }
    let ft = md.file_type();
    if ft.is_symlink() {
        symlink(fs::read_link(src).ctx("cannot read", src)?, dest).ctx("cannot create", dest)?;
    } else if ft.is_dir() {
        if !dest.is_dir() {
            fs::create_dir(dest).ctx("cannot create", dest)?;
        }
        copy_children(src, dest, plan, rel)?;
    } else if ft.is_file() {
        fs::copy(src, dest).ctx("cannot copy to", dest)?;
    } else {
        return Ok(()); // sockets, devices and fifos of a context are not copied
    }
    let (u, g) = plan.chown.unwrap_or((0, 0));
    std::os::unix::fs::lchown(dest, Some(u), Some(g)).ctx("cannot chown", dest)?;
    if !ft.is_symlink() {
        let mode = match plan.chmod {
            Some(m) => m,
            None => md.mode() & 0o7777,
        };
        fs::set_permissions(dest, fs::Permissions::from_mode(mode)).ctx("cannot chmod", dest)?;
    }
    // Whole seconds, as the layer's tar keeps them: the staging tree is kept as the unpacked
    // layer, the same tree a pull of the image unpacks.
    let t = filetime::FileTime::from_unix_time(md.mtime(), 0);
    filetime::set_symlink_file_times(dest, t, t).ctx("cannot set time of", dest)?;
    Ok(())
}

/// Whether a file is a tar archive, plain or compressed with one of the compressions berth
/// reads: its (decompressed) first header carries the `ustar` magic. A compressed file that is
/// not a tar is copied as it is, as docker does.
fn is_archive(p: &Path) -> Result<bool> {
    use std::io::Read;
    let file = fs::File::open(p).ctx("cannot read", p)?;
    let Ok(decoded) = crate::engine::compression::decompressed(file, "the source") else {
        return Ok(false);
    };
    let mut head = Vec::new();
    if decoded.take(512).read_to_end(&mut head).is_err() {
        return Ok(false);
    }
    Ok(head.len() >= 262 && &head[257..262] == b"ustar")
}

/// ADD of an archive: extracted into `dest` with the no-follow walk layers use (entries keep the
/// archive's owners, modes and times), then given to the `--chown` owner when there is one.
fn unpack_into(archive: &Path, dest: &Path, plan: &CopyPlan) -> Result<()> {
    fs::create_dir_all(dest).ctx("cannot create", dest)?;
    let file = fs::File::open(archive).ctx("cannot read", archive)?;
    let what = format!("the archive {}", archive.display());
    crate::engine::layer::unpack::extract_archive_into(dest, file, &what)?;
    if let Some((u, g)) = plan.chown {
        chown_tree(dest, u, g)?;
    }
    Ok(())
}

/// Gives everything below `dir` (not following symlinks) to `u:g`.
fn chown_tree(dir: &Path, u: u32, g: u32) -> Result<()> {
    for entry in fs::read_dir(dir).ctx("cannot read", dir)? {
        let entry = entry.ctx("cannot read", dir)?;
        let p = entry.path();
        std::os::unix::fs::lchown(&p, Some(u), Some(g)).ctx("cannot chown", &p)?;
        if entry.file_type().ctx("cannot read", &p)?.is_dir() {
            chown_tree(&p, u, g)?;
        }
    }
    Ok(())
}
