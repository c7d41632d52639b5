//! A real CNCF distribution registry (`/usr/bin/docker-registry`) on a free loopback port.
//!
//! `Registry::start(auth)` writes a config into a temp dir, starts the registry, waits until
//! `GET /v2/` answers (401 counts for the auth modes) and kills and reaps it by pid in Drop; the
//! temp dir (storage, config, log, htpasswd, certificate) goes with it. Auth modes: none; basic
//! (bcrypt htpasswd from `htpasswd -Bbn`); token (our [`TokenIssuer`] on another loopback port).

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::token::{self, TokenIssuer};

pub const REGISTRY_BIN: &str = "/usr/bin/docker-registry";
/// The realm of basic auth (shows in `WWW-Authenticate`).
pub const BASIC_REALM: &str = "berth-test-realm";

/// How the registry authenticates clients.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Auth {
    None,
    Basic { user: String, pass: String },
    Token { user: String, pass: String },
}

impl Auth {
    pub fn basic(user: &str, pass: &str) -> Auth {
        Auth::Basic {
            user: user.into(),
            pass: pass.into(),
        }
    }

    pub fn token(user: &str, pass: &str) -> Auth {
        Auth::Token {
            user: user.into(),
            pass: pass.into(),
        }
    }

    /// The user name and password the registry accepts, if any.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        match self {
            Auth::None => None,
            Auth::Basic { user, pass } | Auth::Token { user, pass } => Some((user, pass)),
        }
    }
}

/// A running registry; killed, reaped and removed in Drop.
pub struct Registry {
    child: Child,
    addr: String,
    auth: Auth,
    issuer: Option<TokenIssuer>,
    dir: tempfile::TempDir,
}

impl Registry {
    /// Starts a registry on 127.0.0.1:<free port>. Panics with the registry's log if it does not
    /// come up within 10 seconds.
    pub fn start(auth: Auth) -> Registry {
        assert!(
            Path::new(REGISTRY_BIN).exists(),
            "{REGISTRY_BIN} is missing: install the docker-registry package (scripts/deps.sh test)"
        );
        let dir = tempfile::Builder::new()
            .prefix("berth-registry-")
            .tempdir()
            .expect("create registry temp dir");
        fs::create_dir(dir.path().join("storage")).expect("create registry storage dir");
        let (auth_yaml, issuer) = auth_config(&auth, dir.path());
        for _attempt in 0..8 {
            match launch(dir.path(), &auth_yaml) {
                Launch::Ready(child, addr) => {
                    return Registry {
                        child,
                        addr,
                        auth,
                        issuer,
                        dir,
                    };
                }
                Launch::PortTaken => continue,
                Launch::Failed(why) => panic!("docker-registry did not start: {why}"),
            }
        }
        panic!("docker-registry found no free loopback port in 8 attempts");
    }

    /// "127.0.0.1:PORT".
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// "http://127.0.0.1:PORT".
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// "127.0.0.1:PORT/" + `repo_tag`: the reference a client pulls.
    pub fn reference(&self, repo_tag: &str) -> String {
        format!("{}/{repo_tag}", self.addr)
    }

    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// The token issuer (token mode only).
    pub fn issuer(&self) -> Option<&TokenIssuer> {
        self.issuer.as_ref()
    }

    /// The registry's filesystem storage root.
    pub fn storage_dir(&self) -> PathBuf {
        self.dir.path().join("storage")
    }

    /// Where the registry keeps the bytes of blob `digest` ("sha256:HEX").
    pub fn blob_data_path(&self, digest: &str) -> PathBuf {
        let hex = digest
            .strip_prefix("sha256:")
            .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .unwrap_or_else(|| panic!("not a sha256 digest: {digest}"));
        self.storage_dir()
            .join("docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// Flips the last byte of blob `digest` in the registry's storage (same size, wrong bytes).
    pub fn tamper_blob(&self, digest: &str) {
        let path = self.blob_data_path(digest);
        let mut data = fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let last = data.last_mut().expect("blob is not empty");
        *last ^= 0xff;
        fs::write(&path, data).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    /// The registry's log so far (stdout and stderr).
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// The pid of the registry process.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        // Our own child, by pid; then reap it so no zombie is left.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `auth:` section of the config, and the token issuer for token mode.
fn auth_config(auth: &Auth, dir: &Path) -> (String, Option<TokenIssuer>) {
    match auth {
        Auth::None => (String::new(), None),
        Auth::Basic { user, pass } => {
            let out = Command::new("htpasswd")
                .args(["-Bbn", "-C", "4", user, pass])
                .output()
                .unwrap_or_else(|e| panic!("cannot run htpasswd ({e}): install apache2-utils"));
            assert!(
                out.status.success(),
                "htpasswd failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
            let path = dir.join("htpasswd");
            fs::write(&path, format!("{line}\n")).expect("write htpasswd");
            let yaml = format!(
                "auth:\n  htpasswd:\n    realm: {BASIC_REALM}\n    path: {}\n",
                path.display()
            );
            (yaml, None)
        }
        Auth::Token { user, pass } => {
            let cert = dir.join("token.crt");
            fs::write(&cert, token::cert_pem()).expect("write token certificate");
            let issuer = TokenIssuer::start(user, pass);
            let yaml = format!(
                "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
                issuer.realm(),
                token::SERVICE,
                token::ISSUER,
                cert.display()
            );
            (yaml, Some(issuer))
        }
    }
}

enum Launch {
    Ready(Child, String),
    PortTaken,
    Failed(String),
}

/// Starts the registry on a free port and waits until `GET /v2/` answers.
fn launch(dir: &Path, auth_yaml: &str) -> Launch {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let config = format!(
        "version: 0.1\n\
         log:\n  level: info\n  formatter: text\n\
         storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n  \
         maintenance:\n    uploadpurging:\n      enabled: false\n\
         http:\n  addr: {addr}\n  secret: berth-test-secret\n\
         {auth_yaml}",
        storage = dir.join("storage").display()
    );
    let config_path = dir.join("config.yml");
    fs::write(&config_path, config).expect("write registry config");
    let log_path = dir.join("registry.log");
    let log = fs::File::create(&log_path).expect("create registry log");
    let mut child = Command::new(REGISTRY_BIN)
        .arg("serve")
        .arg(&config_path)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("clone log handle"))
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {REGISTRY_BIN}: {e}"));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let log = fs::read_to_string(&log_path).unwrap_or_default();
            if log.contains("address already in use") {
                return Launch::PortTaken;
            }
            return Launch::Failed(format!("it exited ({status}); its log:\n{log}"));
        }
        if matches!(http_status(&addr, "/v2/"), Some(200 | 401)) {
            return Launch::Ready(child, addr);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let log = fs::read_to_string(&log_path).unwrap_or_default();
            return Launch::Failed(format!("no answer on {addr} after 10 s; its log:\n{log}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A loopback port that was free a moment ago (bind port 0, read it, close).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind a loopback port")
}

/// The status code of a plain HTTP/1.1 `GET path` to `addr`, or None if nothing answers.
pub fn http_status(addr: &str, path: &str) -> Option<u16> {
    let sock = addr.parse().ok()?;
    let mut stream = TcpStream::connect_timeout(&sock, Duration::from_millis(500)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(req.as_bytes()).ok()?;
    let mut head = [0u8; 64];
    let mut n = 0;
    while n < 12 {
        match stream.read(&mut head[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    let line = std::str::from_utf8(&head[..n]).ok()?;
    line.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}
