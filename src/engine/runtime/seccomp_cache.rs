//! The container's seccomp filter compiled once per profile and kept, instead of compiled by
//! libseccomp in every container's init process after the fork (15–35 ms of each start here).
//!
//! The monitor asks [`program`] for the spec's `linux.seccomp`: the program is read from
//! `ROOT/seccomp/<digest>.bpf` when it is there, else compiled in the monitor (libcontainer's
//! own translation, `libcontainer::seccomp::export_bpf` of the patched copy under
//! `vendor/libcontainer`), for the architectures this host's kernel runs only, and written
//! there (temp file + rename). The init process loads it with seccomp(2) where it would have
//! loaded the filter it compiled (see docs/libcontainer-patch.md).
//!
//! The digest covers the profile as the spec has it, the libseccomp version (its syscall
//! tables make the program) and the boot id (the kernel and its boot options decide the
//! architectures), so a changed profile, library or kernel never meets an old program. Programs
//! of earlier boots are removed when a new one is written. The root is mode 0700: only root
//! writes or reads these files.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use oci_spec::runtime::{Arch, LinuxSeccomp, LinuxSeccompAction, Spec};
use sha2::{Digest, Sha256};

use crate::engine::error::{EngineError, ErrorKind, IoContext, Result};
use crate::engine::Layout;

/// The compiled program for `spec`'s seccomp profile; `None` when the spec has none, or has
/// notify rules (those are compiled in the init, which hands the notify fd over).
pub fn program(layout: &Layout, spec: &Spec) -> Result<Option<Arc<[u8]>>> {
    let Some(profile) = spec.linux().as_ref().and_then(|l| l.seccomp().as_ref()) else {
        return Ok(None);
    };
    let notify = profile
        .syscalls()
        .iter()
        .flatten()
        .any(|s| s.action() == LinuxSeccompAction::ScmpActNotify);
    if notify {
        return Ok(None);
    }
    let path = layout
        .seccomp_dir()
        .join(format!("{}.bpf", digest(profile)?));
    match std::fs::read(&path) {
        Ok(bytes) if valid(&bytes) => return Ok(Some(bytes.into())),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(EngineError::io_path("cannot read", &path, e)),
    }
    let program = compile(profile, &kernel_config())?;
    store(&path, &program)?;
    Ok(Some(program.into()))
}

/// A classic BPF program: whole 8-byte records, at most the kernel's 4096 of them.
fn valid(bytes: &[u8]) -> bool {
    !bytes.is_empty() && bytes.len().is_multiple_of(8) && bytes.len() / 8 <= 4096
}

fn digest(profile: &LinuxSeccomp) -> Result<String> {
    let json = serde_json::to_vec(profile).map_err(|e| {
        EngineError::caused(ErrorKind::Runtime, "cannot encode the seccomp profile", e)
    })?;
    let lib = libseccomp::ScmpVersion::current()
        .map(|v| format!("{}.{}.{}", v.major, v.minor, v.micro))
        .unwrap_or_default();
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
    let mut h = Sha256::new();
    h.update(b"berth seccomp program v1\0");
    h.update(lib.as_bytes());
    h.update(b"\0");
    h.update(boot.trim().as_bytes());
    h.update(b"\0");
    h.update(&json);
    Ok(hex::encode(h.finalize()))
}

/// The profile restricted to the architectures the kernel runs, compiled.
fn compile(profile: &LinuxSeccomp, config: &Option<String>) -> Result<Vec<u8>> {
    let mut trimmed = profile.clone();
    if let Some(archs) = profile.architectures() {
        trimmed.set_architectures(Some(host_architectures(archs, config)));
    }
    libcontainer::seccomp::export_bpf(&trimmed).map_err(|e| {
        EngineError::caused(ErrorKind::Runtime, "cannot compile the seccomp profile", e)
    })
}

/// The kernel's build configuration (`/proc/config.gz`, else `/boot/config-RELEASE`).
fn kernel_config() -> Option<String> {
    use std::io::Read;
    if let Ok(gz) = std::fs::File::open("/proc/config.gz") {
        let mut text = String::new();
        if flate2::read::GzDecoder::new(gz)
            .read_to_string(&mut text)
            .is_ok()
        {
            return Some(text);
        }
    }
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").ok()?;
    std::fs::read_to_string(format!("/boot/config-{}", release.trim())).ok()
}

/// The kernel option that lets this host run binaries of the secondary architecture `arch`;
/// `None` for the native one.
fn compat_option(arch: Arch) -> Option<&'static str> {
    match (std::env::consts::ARCH, arch) {
        ("x86_64", Arch::ScmpArchX86) => Some("CONFIG_IA32_EMULATION"),
        ("x86_64", Arch::ScmpArchX32) => Some("CONFIG_X86_X32_ABI"),
        ("aarch64", Arch::ScmpArchArm) => Some("CONFIG_COMPAT"),
        _ => None,
    }
}

/// `archs` less the secondary architectures the kernel was built without. Without a readable
/// kernel configuration, all of them stay: a missing architecture would kill its binaries.
fn host_architectures(archs: &[Arch], config: &Option<String>) -> Vec<Arch> {
    archs
        .iter()
        .copied()
        .filter(|&a| match (compat_option(a), config) {
            (Some(option), Some(cfg)) => cfg.lines().any(|l| l == format!("{option}=y")),
            _ => true,
        })
        .collect()
}

/// Writes `program` at `path` through a temp file and a rename, and removes programs written
/// in earlier boots (their digests name another boot id, so nothing reads them again).
fn store(path: &Path, program: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).ctx("cannot create", dir)?;
    let tmp: PathBuf = dir.join(format!(".new-{}", std::process::id()));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(program)?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(EngineError::io_path("cannot write", path, e));
    }
    if let Some(boot) = boot_time() {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t < boot);
            if old {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    Ok(())
}

/// When the machine booted (`btime` of /proc/stat).
fn boot_time() -> Option<std::time::SystemTime> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let secs: u64 = stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Arch; 3] = [Arch::ScmpArchX86_64, Arch::ScmpArchX86, Arch::ScmpArchX32];

    #[test]
    fn secondary_architectures_follow_the_kernel_config() {
        if std::env::consts::ARCH != "x86_64" {
            return;
        }
        let cfg = Some("CONFIG_IA32_EMULATION=y\n# CONFIG_X86_X32_ABI is not set\n".to_string());
        assert_eq!(
            host_architectures(&ALL, &cfg),
            vec![Arch::ScmpArchX86_64, Arch::ScmpArchX86]
        );
        let none = Some("# CONFIG_IA32_EMULATION is not set\n".to_string());
        assert_eq!(host_architectures(&ALL, &none), vec![Arch::ScmpArchX86_64]);
        // Unknown configuration: keep everything rather than kill 32-bit binaries.
        assert_eq!(host_architectures(&ALL, &None), ALL.to_vec());
    }

    #[test]
    fn a_program_is_whole_records() {
        assert!(valid(&[0u8; 16]));
        assert!(!valid(&[]));
        assert!(!valid(&[0u8; 12]));
        assert!(!valid(&vec![0u8; 8 * 4097]));
    }
}
