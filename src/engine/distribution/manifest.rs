//! Manifests, indexes and platforms: the four media types a pull understands, and choosing the
//! platform's manifest out of an index.

use serde::{Deserialize, Serialize};

use super::reference::validate_digest;
use crate::engine::error::{EngineError, Result};

/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Docker image manifest, schema 2.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list.
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Every manifest type a pull asks for (registries answer 404 for an OCI manifest otherwise).
pub const ACCEPT: [&str; 4] = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST];

const LAYER_TYPES: [&str; 8] = [
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd",
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.docker.image.rootfs.diff.tar",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
];

/// A content descriptor (media type, digest, size, and for index entries the platform).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Media type of the content.
    #[serde(default)]
    pub media_type: String,
    /// `sha256:…`.
    pub digest: String,
    /// Size in bytes.
    pub size: u64,
    /// Platform (index entries only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
}

/// An image manifest (OCI or Docker schema 2).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Always 2.
    pub schema_version: u32,
    /// The config blob.
    pub config: Descriptor,
    /// Layer blobs, base first.
    pub layers: Vec<Descriptor>,
}

/// An index or manifest list.
#[derive(Debug, Clone, Deserialize)]
pub struct Index {
    /// One manifest per platform.
    pub manifests: Vec<Descriptor>,
}

/// What a manifest request answered.
#[derive(Debug, Clone)]
pub enum Fetched {
    /// A single-platform manifest.
    Manifest(Manifest),
    /// A multi-platform index.
    Index(Index),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    #[serde(default)]
    schema_version: Option<u32>,
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<serde_json::Value>,
}

/// Parses a manifest or index, refusing other types and malformed digests.
pub fn parse(bytes: &[u8], what: &str) -> Result<Fetched> {
    let bad = |why: String| EngineError::Registry(format!("{what}: {why}"));
    let probe: Probe =
        serde_json::from_slice(bytes).map_err(|e| bad(format!("manifest is not JSON: {e}")))?;
    if probe.schema_version != Some(2) {
        return Err(bad(format!(
            "unsupported manifest schema version {:?} (only schema 2 and OCI are supported)",
            probe.schema_version
        )));
    }
    let is_index = match probe.media_type.as_deref() {
        Some(OCI_INDEX | DOCKER_LIST) => true,
        Some(OCI_MANIFEST | DOCKER_MANIFEST) => false,
        Some(other) => return Err(bad(format!("unsupported manifest media type {other}"))),
        None => probe.manifests.is_some(),
    };
    if is_index {
        let index: Index = serde_json::from_slice(bytes)
            .map_err(|e| bad(format!("malformed image index: {e}")))?;
        for m in &index.manifests {
            validate_digest(&m.digest).map_err(|e| bad(e.to_string()))?;
        }
        Ok(Fetched::Index(index))
    } else {
        let manifest: Manifest = serde_json::from_slice(bytes)
            .map_err(|e| bad(format!("malformed image manifest: {e}")))?;
        validate_digest(&manifest.config.digest).map_err(|e| bad(e.to_string()))?;
        if manifest.layers.is_empty() {
            return Err(bad("the manifest lists no layers".into()));
        }
        for l in &manifest.layers {
            validate_digest(&l.digest).map_err(|e| bad(e.to_string()))?;
            if !LAYER_TYPES.contains(&l.media_type.as_str()) {
                return Err(bad(format!(
                    "layer {} has media type {}, which is not a container image layer",
                    l.digest, l.media_type
                )));
            }
        }
        Ok(Fetched::Manifest(manifest))
    }
}

/// An operating system, architecture and optional variant (`linux/arm64/v8`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    /// `linux`.
    pub os: String,
    /// Go's architecture names (`amd64`, `arm64`, `arm`, `386`, …).
    pub architecture: String,
    /// `v7`, `v8`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl Platform {
    /// The platform of this machine, in Go's names.
    pub fn host() -> Platform {
        let architecture = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "x86" => "386",
            "aarch64" => "arm64",
            "powerpc64" => "ppc64le",
            "loongarch64" => "loong64",
            other => other,
        };
        let variant = match architecture {
            "arm64" => Some("v8".to_string()),
            "arm" => Some("v7".to_string()),
            _ => None,
        };
        Platform {
            os: "linux".into(),
            architecture: architecture.into(),
            variant,
        }
    }

    /// Parses `os/arch[/variant]`.
    pub fn parse(s: &str) -> Result<Platform> {
        let parts: Vec<&str> = s.split('/').collect();
        let ok = |p: &&str| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        };
        if !(2..=3).contains(&parts.len()) || !parts.iter().all(ok) {
            return Err(EngineError::InvalidInput(format!(
                "invalid platform \"{s}\": expected os/arch[/variant], e.g. linux/amd64 or \
                 linux/arm64/v8"
            )));
        }
        Ok(Platform {
            os: parts[0].into(),
            architecture: parts[1].into(),
            variant: parts.get(2).map(|v| v.to_string()),
        })
    }

    /// True when an image of platform `other` runs here as `self` asks.
    pub fn matches(&self, other: &Platform) -> bool {
        if self.os != other.os || self.architecture != other.architecture {
            return false;
        }
        match (&self.variant, &other.variant) {
            (Some(want), Some(have)) => want == have,
            // arm64 images often omit "v8"; any variant is fine when none was asked for.
            (Some(want), None) => self.architecture == "arm64" && want == "v8",
            (None, _) => true,
        }
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// Picks the entry for `want` out of an index (an exact variant match first).
pub fn select<'a>(index: &'a Index, want: &Platform, what: &str) -> Result<&'a Descriptor> {
    let candidates: Vec<&Descriptor> = index
        .manifests
        .iter()
        .filter(|m| m.platform.as_ref().is_some_and(|p| want.matches(p)))
        .collect();
    let exact = candidates.iter().find(|m| {
        m.platform
            .as_ref()
            .is_some_and(|p| p.variant == want.variant)
    });
    if let Some(m) = exact.or(candidates.first()) {
        return Ok(m);
    }
    let have: Vec<String> = index
        .manifests
        .iter()
        .filter_map(|m| m.platform.as_ref().map(|p| p.to_string()))
        .collect();
    Err(EngineError::NotFound(format!(
        "{what}: no manifest for platform {want} in the image index (it has: {}); choose one \
         with --platform",
        if have.is_empty() {
            "none".to_string()
        } else {
            have.join(", ")
        }
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn entry(p: &str) -> Descriptor {
        Descriptor {
            media_type: OCI_MANIFEST.into(),
            digest: D.into(),
            size: 1,
            platform: Some(Platform::parse(p).unwrap()),
        }
    }

    #[test]
    fn platforms_parse_and_match() {
        assert!(Platform::parse("linux").is_err());
        assert!(Platform::parse("linux/AMD64").is_err());
        let p = Platform::parse("linux/arm64/v8").unwrap();
        assert!(p.matches(&Platform::parse("linux/arm64").unwrap()));
        assert!(!p.matches(&Platform::parse("linux/amd64").unwrap()));
        let idx = Index {
            manifests: vec![entry("linux/arm64"), entry("linux/amd64")],
        };
        let got = select(&idx, &Platform::parse("linux/amd64").unwrap(), "x").unwrap();
        assert_eq!(got.platform.as_ref().unwrap().architecture, "amd64");
        let e = select(&idx, &Platform::parse("linux/s390x").unwrap(), "x").unwrap_err();
        assert!(e.to_string().contains("linux/arm64, linux/amd64"), "{e}");
    }

    #[test]
    fn parse_refuses_other_things() {
        let m = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"x","digest":"{D}","size":1}},"layers":[{{"mediaType":"application/wasm","digest":"{D}","size":1}}]}}"#
        );
        assert!(parse(m.as_bytes(), "img")
            .unwrap_err()
            .to_string()
            .contains("not a container image layer"));
        assert!(parse(br#"{"schemaVersion":1}"#, "img").is_err());
        let i = format!(r#"{{"schemaVersion":2,"manifests":[{{"digest":"{D}","size":3}}]}}"#);
        assert!(matches!(parse(i.as_bytes(), "img"), Ok(Fetched::Index(_))));
    }
}
