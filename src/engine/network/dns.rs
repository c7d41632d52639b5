//! Names on user-defined networks: aardvark-dns (podman's DNS responder), driven as netavark
//! drives it. Its configuration directory (`/run/berth/<hash>/aardvark-dns`) holds one file per
//! network, named after it: the first line the address(es) to answer on (the bridge's), then
//! one line per container, `ID IPV4 IPV6 NAME,ALIAS,…` (IPV6 empty). `aardvark-dns --config DIR
//! -p 53 run` forks a server and returns once it serves; the server writes `aardvark.pid` there
//! and reads the files again on SIGHUP. berth starts it with the first container on a DNS
//! network, signals it as containers come and go, and ends it with the last one.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::record::{Endpoint, NetworkRecord};
use crate::engine::container::cleanup;
use crate::engine::error::{EngineError, Result};
use crate::engine::Layout;

/// aardvark-dns's configuration directory for an engine root.
pub fn config_dir(layout: &Layout) -> PathBuf {
    cleanup::runtime_root(layout, "").join("aardvark-dns")
}

/// aardvark-dns's binary (`$BERTH_AARDVARK`, podman's libexec directories, `PATH`).
pub fn binary() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("BERTH_AARDVARK") {
        return Ok(PathBuf::from(p));
    }
    let mut dirs: Vec<PathBuf> = [
        "/usr/libexec/podman",
        "/usr/lib/podman",
        "/usr/local/libexec/podman",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    dirs.into_iter()
        .map(|d| d.join("aardvark-dns"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            EngineError::Runtime(
                "aardvark-dns is not installed: names on user-defined networks need it (Debian: \
                 apt-get install aardvark-dns), or use the default bridge network"
                    .into(),
            )
        })
}

/// The file of network `net` listing `endpoints`.
fn file_text(net: &NetworkRecord, endpoints: &[Endpoint]) -> String {
    let mut text = format!("{}\n", net.gateway);
    for e in endpoints {
        text.push_str(&format!(
            "{} {}  {}\n",
            e.container_id,
            e.ip,
            e.aliases.join(",")
        ));
    }
    text
}

/// The running server's pid, if one serves `dir`.
fn running(dir: &Path) -> Option<i32> {
    let pid: i32 = std::fs::read_to_string(dir.join("aardvark.pid"))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let alive = !stat
        .rsplit_once(')')
        .is_some_and(|(_, s)| s.trim_start().starts_with('Z'));
    let ours = String::from_utf8_lossy(&cmdline).contains(&*dir.to_string_lossy());
    (alive && ours).then_some(pid)
}

fn networks_listed(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter(|e| {
                    let n = e.file_name();
                    let n = n.to_string_lossy();
                    n != "aardvark.pid" && !n.starts_with('.')
                })
                .count()
        })
        .unwrap_or(0)
}

/// Makes the DNS of network `net` answer for exactly `endpoints` (none: the network's file
/// goes, and with the last file the server). The caller holds the root's network lock.
pub fn update(layout: &Layout, net: &NetworkRecord, endpoints: &[Endpoint]) -> Result<()> {
    let dir = config_dir(layout);
    let file = dir.join(&net.name);
    if endpoints.is_empty() {
        let _ = std::fs::remove_file(&file);
    } else {
        cleanup::create_runtime_root(layout, "")?;
        crate::engine::layout::create_private_dir(&dir)
            .map_err(|e| EngineError::io_path("cannot create", &dir, e))?;
        let tmp = dir.join(format!(".{}", net.name));
        std::fs::write(&tmp, file_text(net, endpoints))
            .and_then(|_| std::fs::rename(&tmp, &file))
            .map_err(|e| EngineError::io_path("cannot write", &file, e))?;
    }
    let pid = running(&dir);
    if networks_listed(&dir) == 0 {
        if let Some(pid) = pid {
            // SAFETY: kill(2) on the server this root started (checked by its command line).
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        let _ = std::fs::remove_file(dir.join("aardvark.pid"));
        let _ = std::fs::remove_dir(&dir);
        return Ok(());
    }
    if let Some(pid) = pid {
        // SAFETY: as above.
        unsafe { libc::kill(pid, libc::SIGHUP) };
        return Ok(());
    }
    let bin = binary()?;
    let out = Command::new(&bin)
        .arg("--config")
        .arg(&dir)
        .args(["-p", "53", "run"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| EngineError::io_path("cannot run", &bin, e))?;
    if !out.status.success() {
        return Err(EngineError::Runtime(format!(
            "cannot start the DNS server of network {} (aardvark-dns): {}",
            net.name,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}
