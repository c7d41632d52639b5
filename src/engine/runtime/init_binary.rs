//! `--init`: a small init (tini, which docker ships as `docker-init`) runs as the container's
//! pid 1, reaping zombies and passing signals on to the command. It is bind-mounted read-only
//! from the host at docker's path, so it must be statically linked (the image may have no libc).

use std::path::{Path, PathBuf};

use crate::engine::error::{EngineError, Result};

/// Where the init appears inside the container, as in docker.
pub const CONTAINER_PATH: &str = "/sbin/docker-init";

/// Overrides the search (a static init binary).
pub const ENV: &str = "BERTH_INIT_PATH";

/// Static inits looked for, in order: Debian's tini-static, docker's own.
const CANDIDATES: &[&str] = &[
    "/usr/bin/tini-static",
    "/usr/libexec/docker/docker-init",
    "/usr/local/bin/docker-init",
];

/// Whether `bytes` (the start of an ELF file) describe an executable with no program
/// interpreter, that is a static one. Only 64-bit little-endian ELF is understood.
fn is_static_elf(bytes: &[u8]) -> bool {
    let u16_at = |o: usize| {
        bytes
            .get(o..o + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let u32_at = |o: usize| {
        bytes
            .get(o..o + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let u64_at = |o: usize| {
        bytes
            .get(o..o + 8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
    };
    if bytes.get(..4) != Some(b"\x7fELF") || bytes.get(4) != Some(&2) || bytes.get(5) != Some(&1) {
        return false;
    }
    let (Some(phoff), Some(phentsize), Some(phnum)) = (u64_at(32), u16_at(54), u16_at(56)) else {
        return false;
    };
    const PT_INTERP: u32 = 3;
    (0..phnum as usize).all(|i| {
        let at = phoff as usize + i * phentsize as usize;
        u32_at(at).is_some_and(|t| t != PT_INTERP)
    })
}

/// The ELF header and program headers of `path`: what [`is_static_elf`] reads, not the whole
/// binary (this runs at every `--init` start).
fn read_headers(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut bytes = Vec::with_capacity(4096);
    (&mut f).take(64).read_to_end(&mut bytes)?;
    let field = |at: usize, n: usize| {
        bytes.get(at..at + n).map_or(0, |b| {
            b.iter().rev().fold(0u64, |v, x| v << 8 | u64::from(*x))
        })
    };
    let end = field(32, 8)
        .saturating_add(field(54, 2).saturating_mul(field(56, 2)))
        .min(1 << 20);
    let more = end.saturating_sub(bytes.len() as u64);
    f.take(more).read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn check(path: &Path) -> Result<()> {
    let bytes = read_headers(path).map_err(|e| {
        EngineError::InvalidInput(format!(
            "--init: cannot read the init binary {}: {e}",
            path.display()
        ))
    })?;
    if !is_static_elf(&bytes) {
        return Err(EngineError::InvalidInput(format!(
            "--init: {} is not a statically linked executable, so it cannot run in every \
             image: point {ENV} at a static init (Debian's /usr/bin/tini-static)",
            path.display()
        )));
    }
    Ok(())
}

/// The host's static init binary: `$BERTH_INIT_PATH`, else the first of the known places.
pub fn find() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os(ENV).filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        check(&p)?;
        return Ok(p);
    }
    for c in CANDIDATES {
        let p = Path::new(c);
        if p.is_file() && check(p).is_ok() {
            return Ok(p.to_path_buf());
        }
    }
    Err(EngineError::InvalidInput(format!(
        "--init needs a statically linked init on the host and none was found (looked for {}): \
         install tini (apt-get install tini) or set {ENV}",
        CANDIDATES.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_and_dynamic_binaries_are_told_apart() {
        // This test binary is dynamically linked (it has an interpreter).
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert!(!is_static_elf(&me));
        assert!(!is_static_elf(b"#!/bin/sh\n"));
        assert!(!is_static_elf(b""));
        if let Ok(tini) = std::fs::read("/usr/bin/tini-static") {
            assert!(is_static_elf(&tini));
        }
    }
}
