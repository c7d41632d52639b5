//! Which shell to start for `berth exec -it C shell` and the TUI's shell pane: the login shell
//! of the container's user from the container's `/etc/passwd`, else bash, else sh.
//!
//! Files are read from the container's rootfs with `openat2(RESOLVE_IN_ROOT)`, so a symlink in
//! the image (e.g. `/etc/passwd -> /../../etc/shadow`) resolves inside the container, never on
//! the host.

use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::engine::container::{reconcile, store};
use crate::engine::error::{EngineError, Result};
use crate::engine::exec::check_running;
use crate::engine::inroot;
use crate::engine::snapshot::Snapshot;
use crate::engine::Engine;

/// The word `berth exec -it C shell` replaces with the picked shell.
pub const SHELL_WORD: &str = "shell";

/// Opens `path` (absolute inside the container) under `root` as if `root` were `/`
/// (read-only; see [`inroot::open`]).
pub fn open_in_root(root: &Path, path: &str) -> std::io::Result<File> {
    inroot::open(root, path, libc::O_RDONLY)
}

fn is_executable(root: &Path, path: &str) -> bool {
    open_in_root(root, path)
        .and_then(|f| f.metadata())
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// The login shell of `user` (a name or uid; empty = root) in `passwd`, if it names one.
pub fn login_shell(passwd: &str, user: &str) -> Option<String> {
    let who = user.split(':').next().unwrap_or("");
    let who = if who.is_empty() { "0" } else { who };
    passwd
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split(':').collect::<Vec<_>>())
        .filter(|f| f.len() >= 7)
        .find(|f| f[0] == who || f[2] == who)
        .map(|f| f[6].trim().to_string())
        .filter(|s| s.starts_with('/') && !s.ends_with("/nologin") && !s.ends_with("/false"))
}

/// Picks the shell for `user` in the rootfs at `root`.
pub fn pick(root: &Path, user: &str) -> String {
    let passwd = match inroot::read_file(root, "/etc/passwd", 1 << 20) {
        Ok(Some(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
        _ => String::new(),
    };
    if let Some(sh) = login_shell(&passwd, user).filter(|s| is_executable(root, s)) {
        return sh;
    }
    for candidate in ["/bin/bash", "/usr/bin/bash"] {
        if is_executable(root, candidate) {
            return candidate.to_string();
        }
    }
    "/bin/sh".to_string()
}

/// The shell for running container `id` (a full id), as its configured user.
pub fn for_container(engine: &Engine, id: &str) -> Result<String> {
    let rec = reconcile::check(engine, store::load(engine.state(), id)?)?;
    check_running(&rec)?;
    let merged = Snapshot::new(&engine.layout().container_dir(id)).merged();
    if !merged.is_dir() {
        return Err(EngineError::State(format!(
            "the root filesystem of {} is not mounted",
            rec.name
        )));
    }
    Ok(pick(&merged, &rec.config.user))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exe(root: &Path, path: &str) {
        let p = root.join(path.trim_start_matches('/'));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, "#!").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn login_shell_then_bash_then_sh() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        std::fs::create_dir(root.join("etc")).unwrap();
        std::fs::write(
            root.join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/zsh\napp:x:1000:1000::/home/app:/usr/sbin/nologin\n",
        )
        .unwrap();
        assert_eq!(pick(root, ""), "/bin/sh", "nothing exists: sh");
        exe(root, "/bin/bash");
        assert_eq!(pick(root, "root"), "/bin/bash", "zsh missing: bash");
        exe(root, "/bin/zsh");
        assert_eq!(pick(root, ""), "/bin/zsh");
        assert_eq!(pick(root, "0:0"), "/bin/zsh");
        assert_eq!(pick(root, "app"), "/bin/bash", "nologin is no shell");
        assert_eq!(pick(root, "1000"), "/bin/bash");
    }

    #[test]
    fn symlinks_resolve_inside_the_rootfs() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("root");
        std::fs::create_dir_all(root.join("etc")).unwrap();
        // A host file the image points at through an absolute symlink.
        let host = d.path().join("host-passwd");
        std::fs::write(&host, "root:x:0:0::/:/bin/host-shell\n").unwrap();
        exe(&root, "/bin/host-shell");
        std::os::unix::fs::symlink(&host, root.join("etc/passwd")).unwrap();
        assert_eq!(pick(&root, ""), "/bin/sh");
        std::os::unix::fs::symlink("../../../../../../bin", root.join("etc/up")).unwrap();
        // `..` stops at the container's root: /etc/up is /bin of the container.
        assert!(open_in_root(&root, "/etc/up/host-shell").is_ok());
    }
}
