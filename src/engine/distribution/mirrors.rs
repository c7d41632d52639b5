//! Registry configuration: mirrors and insecure registries, from `config_dir()/registries.toml`.
//!
//! ```toml
//! [[registry]]
//! host = "docker.io"                                  # the registry named in references
//! mirrors = ["mirror.example.com", "127.0.0.1:5001/hub"]  # tried in order, then `host` itself
//! insecure = false                                     # allow plain http / unverified TLS
//! ```
//!
//! A mirror is `host[:port][/path]`; a path is put in front of the repository path.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::reference::{ImageRef, DEFAULT_DOMAIN};
use crate::engine::error::{EngineError, Result};
use crate::engine::layout;

/// One `[[registry]]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryConfig {
    /// The registry host this entry applies to (`docker.io`, `quay.io`, `host:port`).
    pub host: String,
    /// Mirrors to try before the registry itself, in order.
    #[serde(default)]
    pub mirrors: Vec<String>,
    /// Allow plain http and skip TLS verification for this registry and its mirrors.
    #[serde(default)]
    pub insecure: bool,
}

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistriesFile {
    /// Per-registry entries.
    #[serde(default)]
    pub registry: Vec<RegistryConfig>,
}

/// Where an image is fetched from: a host and the repository path on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Host with port.
    pub host: String,
    /// Repository path on that host.
    pub path: String,
    /// True for a mirror (failures fall through to the next source).
    pub mirror: bool,
    /// True when the registry is configured insecure.
    pub insecure: bool,
}

/// Path of the registries file.
pub fn registries_path() -> PathBuf {
    layout::config_dir().join("registries.toml")
}

/// Reads `path`; a missing file is an empty configuration.
pub fn load(path: &Path) -> Result<RegistriesFile> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(RegistriesFile::default()),
        Err(e) => return Err(EngineError::io_path("cannot read", path, e)),
    };
    let file: RegistriesFile = toml::from_str(&text).map_err(|e| {
        EngineError::InvalidInput(format!(
            "registry configuration {} is invalid: {e}",
            path.display()
        ))
    })?;
    for entry in &file.registry {
        for m in &entry.mirrors {
            let host = m.split('/').next().unwrap_or_default();
            let valid = ImageRef::parse(&format!("{}/x", m.trim_end_matches('/')))
                .is_ok_and(|r| r.domain == host);
            if !valid {
                return Err(EngineError::InvalidInput(format!(
                    "registry configuration {}: mirror \"{m}\" of {} is not host[:port][/path]",
                    path.display(),
                    entry.host
                )));
            }
        }
    }
    Ok(file)
}

impl RegistriesFile {
    /// The sources to try for `image`, mirrors first, the registry itself last.
    pub fn sources(&self, image: &ImageRef) -> Vec<Source> {
        let entry = self.registry.iter().find(|e| {
            let host = e.host.strip_prefix("index.").unwrap_or(&e.host);
            host == image.domain
        });
        let insecure = entry.is_some_and(|e| e.insecure);
        let mut out = Vec::new();
        for m in entry.map(|e| e.mirrors.as_slice()).unwrap_or_default() {
            let m = m.trim_end_matches('/');
            let (host, prefix) = match m.split_once('/') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (m.to_string(), None),
            };
            let path = match prefix {
                Some(p) => format!("{p}/{}", image.path),
                None => image.path.clone(),
            };
            out.push(Source {
                host,
                path,
                mirror: true,
                insecure,
            });
        }
        out.push(Source {
            host: image.domain.clone(),
            path: image.path.clone(),
            mirror: false,
            insecure,
        });
        out
    }
}

/// The host requests really go to: Docker Hub's API host for `docker.io`.
pub fn api_host(host: &str) -> &str {
    if host == DEFAULT_DOMAIN {
        "registry-1.docker.io"
    } else {
        host
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirrors_come_first_with_prefix() {
        let f: RegistriesFile = toml::from_str(
            r#"
            [[registry]]
            host = "docker.io"
            mirrors = ["127.0.0.1:5001/hub", "m.example.com"]
            "#,
        )
        .unwrap();
        let img = ImageRef::parse("busybox").unwrap();
        let s = f.sources(&img);
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].host, "127.0.0.1:5001");
        assert_eq!(s[0].path, "hub/library/busybox");
        assert_eq!(s[1].path, "library/busybox");
        assert!(!s[2].mirror);
        assert_eq!(s[2].host, "docker.io");
        let other = ImageRef::parse("quay.io/a/b").unwrap();
        assert_eq!(f.sources(&other).len(), 1);
    }

    #[test]
    fn bad_files_are_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.toml");
        std::fs::write(&p, "[[registry]]\nhost = \"x.io\"\nmirors = []\n").unwrap();
        let e = load(&p).unwrap_err().to_string();
        assert!(e.contains("mirors"), "{e}");
        std::fs::write(
            &p,
            "[[registry]]\nhost = \"x.io\"\nmirrors = [\"bad host\"]\n",
        )
        .unwrap();
        let e = load(&p).unwrap_err().to_string();
        assert!(e.contains("bad host"), "{e}");
        assert!(load(&dir.path().join("none.toml"))
            .unwrap()
            .registry
            .is_empty());
    }
}
