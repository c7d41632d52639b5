//! A small stand-in for the shared test harness (tests/common), used by the pull and image tests
//! until that lands: starts docker-registry on a free loopback port (plain or htpasswd basic
//! auth), builds OCI and Docker schema 2 images from busybox-static with fixed timestamps,
//! pushes them with the registry API, and a throttling TCP proxy for interrupted downloads.
//! Everything stops on drop, by pid.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

pub fn sha(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// How the registry authenticates.
pub enum AuthMode {
    None,
    Basic { user: String, pass: String },
}

/// A running docker-registry.
pub struct Registry {
    pub addr: String,
    pub dir: tempfile::TempDir,
    child: Child,
    auth: Option<(String, String)>,
}

impl Registry {
    pub fn start(mode: AuthMode) -> Registry {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let mut auth_cfg = String::new();
        let mut auth = None;
        if let AuthMode::Basic { user, pass } = &mode {
            let out = Command::new("htpasswd")
                .args(["-Bbn", user, pass])
                .output()
                .expect("htpasswd (apache2-utils)");
            let path = dir.path().join("htpasswd");
            std::fs::write(&path, &out.stdout).unwrap();
            auth_cfg = format!(
                "auth:\n  htpasswd:\n    realm: test\n    path: {}\n",
                path.display()
            );
            auth = Some((user.clone(), pass.clone()));
        }
        let cfg = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {addr}\n{auth_cfg}",
            dir.path().join("data").display()
        );
        let cfg_path = dir.path().join("config.yml");
        std::fs::write(&cfg_path, cfg).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&cfg_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry");
        let reg = Registry {
            addr,
            dir,
            child,
            auth,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(&reg.addr).is_err() {
            assert!(Instant::now() < deadline, "registry did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        reg
    }

    fn client() -> reqwest::blocking::Client {
        reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap()
    }

    fn req(&self, r: reqwest::blocking::RequestBuilder) -> reqwest::blocking::RequestBuilder {
        match &self.auth {
            Some((u, p)) => r.basic_auth(u, Some(p)),
            None => r,
        }
    }

    fn put_blob(&self, repo: &str, data: &[u8]) {
        let c = Self::client();
        let digest = sha(data);
        let resp = self
            .req(c.post(format!("http://{}/v2/{repo}/blobs/uploads/", self.addr)))
            .send()
            .unwrap();
        assert_eq!(resp.status().as_u16(), 202, "start upload");
        let loc = resp.headers()["location"].to_str().unwrap().to_string();
        let url = if loc.starts_with('/') {
            format!("http://{}{loc}", self.addr)
        } else {
            loc
        };
        let sep = if url.contains('?') { '&' } else { '?' };
        let resp = self
            .req(c.put(format!("{url}{sep}digest={digest}")))
            .header("content-type", "application/octet-stream")
            .body(data.to_vec())
            .send()
            .unwrap();
        assert_eq!(resp.status().as_u16(), 201, "upload blob");
    }

    fn put_manifest(&self, repo: &str, reference: &str, media_type: &str, body: &[u8]) {
        let c = Self::client();
        let resp = self
            .req(c.put(format!(
                "http://{}/v2/{repo}/manifests/{reference}",
                self.addr
            )))
            .header("content-type", media_type)
            .body(body.to_vec())
            .send()
            .unwrap();
        assert_eq!(resp.status().as_u16(), 201, "put manifest");
    }

    /// Pushes `image` as `repo:tag`; returns the digests the registry serves.
    pub fn push(&self, image: &TestImage, name: &str) -> Pushed {
        let (repo, tag) = name.rsplit_once(':').unwrap();
        for b in &image.blobs {
            self.put_blob(repo, b);
        }
        for (mt, body) in &image.children {
            self.put_manifest(repo, &sha(body), mt, body);
        }
        self.put_manifest(repo, tag, &image.media_type, &image.manifest);
        Pushed {
            manifest: sha(&image.manifest),
            config: image.config.clone(),
            layers: image.layers.clone(),
        }
    }

    /// The digest the registry answers for `repo:tag` (HEAD with every Accept type).
    pub fn head_digest(&self, repo: &str, tag: &str) -> String {
        let c = Self::client();
        let resp = self
            .req(c.head(format!("http://{}/v2/{repo}/manifests/{tag}", self.addr)))
            .header(
                "accept",
                "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json",
            )
            .send()
            .unwrap();
        resp.headers()["docker-content-digest"]
            .to_str()
            .unwrap()
            .to_string()
    }

    /// Path of a blob's bytes in the registry's storage.
    pub fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        self.dir.path().join(format!(
            "data/docker/registry/v2/blobs/sha256/{}/{hex}/data",
            &hex[..2]
        ))
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Digests of a pushed image.
pub struct Pushed {
    pub manifest: String,
    pub config: String,
    pub layers: Vec<String>,
}

/// An image ready to push.
pub struct TestImage {
    pub blobs: Vec<Vec<u8>>,
    /// Per-platform manifests of an index: (media type, body).
    pub children: Vec<(String, Vec<u8>)>,
    pub media_type: String,
    pub manifest: Vec<u8>,
    pub config: String,
    pub layers: Vec<String>,
}

pub enum Entry<'a> {
    Dir(&'a str),
    File(&'a str, &'a [u8]),
    Link(&'a str, &'a str),
}

pub fn tar(entries: &[Entry]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_gnu();
        h.set_mtime(1_700_000_000);
        h.set_uid(0);
        h.set_gid(0);
        match e {
            Entry::Dir(p) => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(0o755);
                h.set_size(0);
                b.append_data(&mut h, p, std::io::empty()).unwrap();
            }
            Entry::File(p, data) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(0o755);
                h.set_size(data.len() as u64);
                b.append_data(&mut h, p, *data).unwrap();
            }
            Entry::Link(p, target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_mode(0o777);
                h.set_size(0);
                b.append_link(&mut h, p, target).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// Builds an image manifest from uncompressed layer tars (gzipped here).
pub fn image(arch: &str, layer_tars: &[Vec<u8>], docker: bool) -> TestImage {
    let mut blobs = Vec::new();
    let mut descs = Vec::new();
    let mut diff_ids = Vec::new();
    let mut layers = Vec::new();
    let layer_type = if docker {
        "application/vnd.docker.image.rootfs.diff.tar.gzip"
    } else {
        "application/vnd.oci.image.layer.v1.tar+gzip"
    };
    for t in layer_tars {
        let gz = gzip(t);
        diff_ids.push(sha(t));
        layers.push(sha(&gz));
        descs.push(
            serde_json::json!({"mediaType": layer_type, "digest": sha(&gz), "size": gz.len()}),
        );
        blobs.push(gz);
    }
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": arch, "os": "linux", "created": "2024-01-01T00:00:00Z",
        "config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/bin"], "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .unwrap();
    let (mt, ct) = if docker {
        (
            DOCKER_MANIFEST,
            "application/vnd.docker.container.image.v1+json",
        )
    } else {
        (OCI_MANIFEST, "application/vnd.oci.image.config.v1+json")
    };
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": mt,
        "config": {"mediaType": ct, "digest": sha(&config), "size": config.len()},
        "layers": descs,
    }))
    .unwrap();
    let config_digest = sha(&config);
    blobs.push(config);
    TestImage {
        blobs,
        children: Vec::new(),
        media_type: mt.into(),
        manifest,
        config: config_digest,
        layers,
    }
}

pub fn busybox_layer() -> Vec<u8> {
    let bb = std::fs::read("/bin/busybox").expect("/bin/busybox (busybox-static)");
    tar(&[
        Entry::Dir("bin"),
        Entry::File("bin/busybox", &bb),
        Entry::Link("bin/sh", "busybox"),
        Entry::Dir("etc"),
        Entry::File("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"),
    ])
}

pub fn single_layer() -> TestImage {
    image("amd64", &[busybox_layer()], false)
}

pub fn schema2() -> TestImage {
    image("amd64", &[busybox_layer()], true)
}

/// busybox plus a layer of `size` random bytes (incompressible).
pub fn big(size: usize) -> TestImage {
    let data: Vec<u8> = (0..size).map(|_| rand::random::<u8>()).collect();
    image(
        "amd64",
        &[busybox_layer(), tar(&[Entry::File("big.bin", &data)])],
        false,
    )
}

/// An index for amd64 and arm64 (each a one-layer image with a marker file).
pub fn index() -> TestImage {
    let mut blobs = Vec::new();
    let mut children = Vec::new();
    let mut entries = Vec::new();
    let mut amd = None;
    for arch in ["arm64", "amd64"] {
        let marker = format!("{arch}\n");
        let img = image(
            arch,
            &[tar(&[
                Entry::Dir("etc"),
                Entry::File("etc/arch", marker.as_bytes()),
            ])],
            false,
        );
        blobs.extend(img.blobs.iter().cloned());
        let mut platform = serde_json::json!({"os": "linux", "architecture": arch});
        if arch == "arm64" {
            platform["variant"] = "v8".into();
        }
        entries.push(serde_json::json!({
            "mediaType": OCI_MANIFEST, "digest": sha(&img.manifest),
            "size": img.manifest.len(), "platform": platform,
        }));
        children.push((OCI_MANIFEST.to_string(), img.manifest.clone()));
        if arch == "amd64" {
            amd = Some(img);
        }
    }
    let amd = amd.unwrap();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries,
    }))
    .unwrap();
    TestImage {
        blobs,
        children,
        media_type: OCI_INDEX.into(),
        manifest,
        config: amd.config,
        layers: amd.layers,
    }
}

/// A TCP relay that sends the server's bytes at `rate` bytes per second; counts them.
pub struct SlowProxy {
    pub addr: String,
    stop: Arc<AtomicBool>,
    pub relayed: Arc<AtomicU64>,
}

impl SlowProxy {
    pub fn start(target: &str, rate: u64) -> SlowProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let relayed = Arc::new(AtomicU64::new(0));
        let (s, r, target) = (stop.clone(), relayed.clone(), target.to_string());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let _ = client.set_nonblocking(false);
                        let Ok(server) = TcpStream::connect(&target) else {
                            continue;
                        };
                        let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                        std::thread::spawn(move || pipe(c2, s2, u64::MAX, None));
                        let r = r.clone();
                        std::thread::spawn(move || pipe(server, client, rate, Some(r)));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        SlowProxy {
            addr,
            stop,
            relayed,
        }
    }
}

impl Drop for SlowProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream, rate: u64, count: Option<Arc<AtomicU64>>) {
    let chunk = if rate == u64::MAX {
        64 << 10
    } else {
        (rate / 20).max(1) as usize
    };
    let mut buf = vec![0u8; chunk];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
        if let Some(c) = &count {
            c.fetch_add(n as u64, Ordering::Relaxed);
        }
        if rate != u64::MAX {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Both);
    let _ = from.shutdown(std::net::Shutdown::Both);
}

/// Runs berth with `--root root` and an isolated config dir; returns (code, stdout, stderr).
pub fn berth(root: &Path, config: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_berth"))
        .arg("--root")
        .arg(root)
        .args(args)
        .env("BERTH_CONFIG_DIR", config)
        .env("DOCKER_CONFIG", config.join("docker"))
        .output()
        .expect("run berth");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every file and directory under `dir`, relative.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        if let Ok(rd) = std::fs::read_dir(&d) {
            for e in rd.flatten() {
                let p = e.path();
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
                if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                    stack.push(p);
                }
            }
        }
    }
    out.sort();
    out
}
