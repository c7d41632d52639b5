//! Test images with stable digests, built in memory once per process.
//!
//! | function            | what it is                                                           |
//! |---------------------|----------------------------------------------------------------------|
//! | [`single_layer`]    | OCI manifest, one gzip layer: the busybox rootfs of [`super::rootfs`]  |
//! | [`multi_layer`]     | OCI manifest, 3 layers with a whiteout and an opaque dir ([`multi`])  |
//! | [`index`]           | OCI index: linux/arm64/v8 first, then linux/amd64 (same layers)       |
//! | [`schema2`]         | Docker schema 2 manifest with Docker media types                     |
//! | [`manifest_list`]   | Docker manifest list over schema 2 manifests for arm64 and amd64     |
//! | [`truncated_tar`]   | base layer + a layer tar without end-of-archive blocks ([`truncated`])|
//! | [`super::hostile::hostile`] | one hostile layer per ANCHORS.md breakout case              |
//! | [`big`]             | N layers of seeded random bytes (benchmark, kill-mid-pull)           |
//!
//! Every config carries the label `org.berth.test.image` = the image's name, `Cmd ["sh"]` and
//! `Env [PATH=…]`; `created` and every mtime are fixed, so digests depend only on the host's
//! busybox binary.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

use flate2::Compression;
use serde_json::json;

use super::rootfs::{self, PATH_ENV};
use super::sha256_digest;
use super::tarball::gzip;

pub const MT_OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const MT_OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const MT_OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const MT_OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const MT_DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const MT_DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const MT_DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const MT_DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/// The `created` of every config and history entry.
pub const CREATED: &str = "2024-01-01T00:00:00Z";
/// The config label naming the test image.
pub const LABEL: &str = "org.berth.test.image";

/// A blob as stored in a registry.
#[derive(Clone, Debug)]
pub struct Blob {
    pub media_type: &'static str,
    pub data: Arc<Vec<u8>>,
}

/// One layer of a manifest.
#[derive(Clone, Debug)]
pub struct Layer {
    /// Digest of the compressed blob.
    pub digest: String,
    /// Digest of the uncompressed tar (the config's `rootfs.diff_ids` entry).
    pub diff_id: String,
    pub media_type: &'static str,
    /// Size of the compressed blob.
    pub size: u64,
}

/// A test image: a manifest (or index) and every blob it needs.
#[derive(Clone, Debug)]
pub struct Image {
    /// The value of the `org.berth.test.image` label, e.g. `single-layer`.
    pub name: String,
    /// Media type of `manifest` (OCI manifest, OCI index or Docker schema 2).
    pub media_type: &'static str,
    pub manifest: Vec<u8>,
    /// `sha256:` of `manifest`: what the registry reports after a push.
    pub digest: String,
    /// None for an index.
    pub config_digest: Option<String>,
    /// Architecture of the config (None for an index).
    pub architecture: Option<String>,
    pub layers: Vec<Layer>,
    /// Configs and layers by digest (for an index: those of all children).
    pub blobs: BTreeMap<String, Blob>,
    /// The manifests of an index, in index order; empty otherwise.
    pub children: Vec<Image>,
}

impl Image {
    pub fn blob(&self, digest: &str) -> &Blob {
        self.blobs
            .get(digest)
            .unwrap_or_else(|| panic!("image {} has no blob {digest}", self.name))
    }

    /// The config blob bytes (panics for an index).
    pub fn config(&self) -> &[u8] {
        let digest = self
            .config_digest
            .as_deref()
            .expect("an index has no config");
        &self.blob(digest).data
    }

    pub fn config_json(&self) -> serde_json::Value {
        serde_json::from_slice(self.config()).expect("harness config is JSON")
    }

    /// The compressed bytes of layer `i`.
    pub fn layer_data(&self, i: usize) -> &[u8] {
        &self.blob(&self.layers[i].digest).data
    }

    /// The child manifest of an index for `arch` ("amd64", "arm64").
    pub fn child(&self, arch: &str) -> &Image {
        self.children
            .iter()
            .find(|c| c.architecture.as_deref() == Some(arch))
            .unwrap_or_else(|| panic!("image {} has no {arch} child", self.name))
    }

    /// The child a client on this host must pick.
    pub fn host_child(&self) -> &Image {
        self.child(host_arch())
    }

    /// Sum of the compressed layer sizes.
    pub fn layers_size(&self) -> u64 {
        self.layers.iter().map(|l| l.size).sum()
    }
}

/// The OCI architecture name of this host.
pub fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// A compressed layer: its descriptor and bytes.
#[derive(Clone)]
pub struct LayerBlob {
    pub layer: Layer,
    pub data: Arc<Vec<u8>>,
}

impl LayerBlob {
    pub fn from_tar(tar: &[u8], level: Compression) -> LayerBlob {
        let data = gzip(tar, level);
        LayerBlob {
            layer: Layer {
                digest: sha256_digest(&data),
                diff_id: sha256_digest(tar),
                media_type: MT_OCI_LAYER_GZIP,
                size: data.len() as u64,
            },
            data: Arc::new(data),
        }
    }

    /// The same bytes under the Docker layer media type.
    pub fn as_docker(&self) -> LayerBlob {
        let mut l = self.clone();
        l.layer.media_type = MT_DOCKER_LAYER_GZIP;
        l
    }
}

/// The busybox rootfs layer, gzipped once per process.
pub fn base_layer() -> &'static LayerBlob {
    static BASE: OnceLock<LayerBlob> = OnceLock::new();
    BASE.get_or_init(|| LayerBlob::from_tar(rootfs::base_tar(), Compression::fast()))
}

/// Manifest flavour.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Flavor {
    Oci,
    Docker,
}

/// Builds a config + manifest image from layers.
pub fn assemble(name: &str, flavor: Flavor, arch: &str, layers: &[LayerBlob]) -> Image {
    let diff_ids: Vec<&str> = layers.iter().map(|l| l.layer.diff_id.as_str()).collect();
    let history: Vec<_> = (0..layers.len())
        .map(|i| json!({"created": CREATED, "created_by": format!("berth test harness: {name} layer {}", i + 1)}))
        .collect();
    let mut config = json!({
        "created": CREATED,
        "architecture": arch,
        "os": "linux",
        "config": {
            "Env": [PATH_ENV],
            "Cmd": ["sh"],
            "WorkingDir": "/",
            "Labels": { LABEL: name },
        },
        "rootfs": { "type": "layers", "diff_ids": diff_ids },
        "history": history,
    });
    if arch == "arm64" {
        config["variant"] = json!("v8");
    }
    let config = serde_json::to_vec(&config).expect("JSON");
    let (manifest_type, config_type) = match flavor {
        Flavor::Oci => (MT_OCI_MANIFEST, MT_OCI_CONFIG),
        Flavor::Docker => (MT_DOCKER_MANIFEST, MT_DOCKER_CONFIG),
    };
    let config_digest = sha256_digest(&config);
    let descriptors: Vec<_> = layers
        .iter()
        .map(|l| json!({"mediaType": l.layer.media_type, "digest": l.layer.digest, "size": l.layer.size}))
        .collect();
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": manifest_type,
        "config": {"mediaType": config_type, "digest": config_digest, "size": config.len()},
        "layers": descriptors,
    }))
    .expect("JSON");
    let mut blobs = BTreeMap::new();
    blobs.insert(
        config_digest.clone(),
        Blob {
            media_type: config_type,
            data: Arc::new(config),
        },
    );
    for l in layers {
        blobs.insert(
            l.layer.digest.clone(),
            Blob {
                media_type: l.layer.media_type,
                data: l.data.clone(),
            },
        );
    }
    Image {
        name: name.to_string(),
        media_type: manifest_type,
        digest: sha256_digest(&manifest),
        manifest,
        config_digest: Some(config_digest),
        architecture: Some(arch.to_string()),
        layers: layers.iter().map(|l| l.layer.clone()).collect(),
        blobs,
        children: Vec::new(),
    }
}

/// Builds an OCI index (or Docker manifest list) over `children`.
pub fn assemble_index(name: &str, flavor: Flavor, children: Vec<Image>) -> Image {
    let media_type = match flavor {
        Flavor::Oci => MT_OCI_INDEX,
        Flavor::Docker => MT_DOCKER_LIST,
    };
    let entries: Vec<_> = children
        .iter()
        .map(|c| {
            let arch = c.architecture.as_deref().unwrap_or("amd64");
            let mut platform = json!({"architecture": arch, "os": "linux"});
            if arch == "arm64" {
                platform["variant"] = json!("v8");
            }
            json!({"mediaType": c.media_type, "digest": c.digest, "size": c.manifest.len(), "platform": platform})
        })
        .collect();
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": media_type,
        "manifests": entries,
    }))
    .expect("JSON");
    let blobs = children.iter().flat_map(|c| c.blobs.clone()).collect();
    Image {
        name: name.to_string(),
        media_type,
        digest: sha256_digest(&manifest),
        manifest,
        config_digest: None,
        architecture: None,
        layers: Vec::new(),
        blobs,
        children,
    }
}

/// Caches one image per key for the whole process (images are immutable).
pub fn cached(key: &str, build: impl FnOnce() -> Image) -> &'static Image {
    static CACHE: Mutex<BTreeMap<String, &'static OnceLock<Image>>> = Mutex::new(BTreeMap::new());
    let cell: &'static OnceLock<Image> = {
        let mut map = CACHE.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(key.to_string())
            .or_insert_with(|| Box::leak(Box::new(OnceLock::new())))
    };
    cell.get_or_init(build)
}

/// One OCI manifest, one gzip layer: the busybox rootfs.
pub fn single_layer() -> &'static Image {
    cached("single-layer", || {
        assemble(
            "single-layer",
            Flavor::Oci,
            host_arch(),
            &[base_layer().clone()],
        )
    })
}

/// Docker schema 2 manifest, Docker media types, the busybox rootfs layer.
pub fn schema2() -> &'static Image {
    cached("schema2", || {
        assemble(
            "schema2",
            Flavor::Docker,
            host_arch(),
            &[base_layer().as_docker()],
        )
    })
}

/// OCI index with linux/arm64/v8 first and linux/amd64 second, both over the busybox rootfs
/// layer, with configs that differ in `architecture` (and the label `index-arm64`/`index-amd64`).
pub fn index() -> &'static Image {
    cached("index", || {
        let base = base_layer().clone();
        let arm = assemble(
            "index-arm64",
            Flavor::Oci,
            "arm64",
            std::slice::from_ref(&base),
        );
        let amd = assemble("index-amd64", Flavor::Oci, "amd64", &[base]);
        assemble_index("index", Flavor::Oci, vec![arm, amd])
    })
}

/// Docker manifest list over two Docker schema 2 manifests: linux/arm64/v8 first, then
/// linux/amd64 (labels `list-arm64`/`list-amd64`), both over the busybox rootfs layer.
pub fn manifest_list() -> &'static Image {
    cached("manifest-list", || {
        let base = base_layer().as_docker();
        let arm = assemble(
            "list-arm64",
            Flavor::Docker,
            "arm64",
            std::slice::from_ref(&base),
        );
        let amd = assemble("list-amd64", Flavor::Docker, "amd64", &[base]);
        assemble_index("manifest-list", Flavor::Docker, vec![arm, amd])
    })
}

pub use super::big::big;
pub use super::layered::{multi, multi_layer, truncated, truncated_tar};
