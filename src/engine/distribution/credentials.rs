//! Registry credentials in docker's `config.json` format.
//!
//! berth keeps what `berth login` stores in `config_dir()/auth.json` (mode 0600). Lookups try
//! that file first, then docker's own `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`,
//! so credentials from `docker login` work too. Only the `auths` section is read (credential
//! helpers are not run).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::reference::DEFAULT_DOMAIN;
use crate::engine::error::{EngineError, IoContext, Result};
use crate::engine::layout;

/// A user name and password for one registry.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name.
    pub username: String,
    /// The password or access token.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// One entry of `auths`.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct AuthEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    auth: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    password: Option<String>,
}

/// The file: `auths` plus whatever else docker put there (kept as is on rewrite).
#[derive(Debug, Default, Serialize, Deserialize)]
struct AuthFile {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(flatten)]
    other: BTreeMap<String, serde_json::Value>,
}

/// Where `berth login` stores credentials.
pub fn berth_auth_path() -> PathBuf {
    layout::config_dir().join("auth.json")
}

/// Docker's config file: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub fn docker_config_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    dirs::home_dir().map(|h| h.join(".docker/config.json"))
}

/// The registry host a key of `auths` names: `https://index.docker.io/v1/` → `docker.io`,
/// `https://host:5000` → `host:5000`.
pub fn normalize_host(key: &str) -> String {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = key.split('/').next().unwrap_or(key);
    match host {
        "index.docker.io" | "registry-1.docker.io" => DEFAULT_DOMAIN.to_string(),
        _ => host.to_string(),
    }
}

fn read_file(path: &Path) -> Result<Option<AuthFile>> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            EngineError::InvalidInput(format!(
                "credentials file {} is not valid JSON: {e}; fix or remove it",
                path.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(EngineError::io_path(
            "cannot read credentials file",
            path,
            e,
        )),
    }
}

fn decode(entry: &AuthEntry, path: &Path, key: &str) -> Result<Option<Credentials>> {
    if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
        let bad = || {
            EngineError::InvalidInput(format!(
                "credentials for \"{key}\" in {} are malformed: \"auth\" must be base64 of \
                 user:password; run berth login again",
                path.display()
            ))
        };
        let raw = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|_| bad())?;
        let text = String::from_utf8(raw).map_err(|_| bad())?;
        let (user, pass) = text.split_once(':').ok_or_else(bad)?;
        return Ok(Some(Credentials {
            username: user.to_string(),
            password: pass.to_string(),
        }));
    }
    match (&entry.username, &entry.password) {
        (Some(u), Some(p)) => Ok(Some(Credentials {
            username: u.clone(),
            password: p.clone(),
        })),
        _ => Ok(None),
    }
}

fn lookup_in(path: &Path, host: &str) -> Result<Option<Credentials>> {
    let Some(file) = read_file(path)? else {
        return Ok(None);
    };
    for (key, entry) in &file.auths {
        if normalize_host(key) == host {
            if let Some(c) = decode(entry, path, key)? {
                return Ok(Some(c));
            }
        }
    }
    Ok(None)
}

/// Credentials for `host` (a registry host with port), from berth's file, then docker's.
pub fn lookup(host: &str) -> Result<Option<Credentials>> {
    let host = normalize_host(host);
    if let Some(c) = lookup_in(&berth_auth_path(), &host)? {
        return Ok(Some(c));
    }
    match docker_config_path() {
        Some(path) => lookup_in(&path, &host),
        None => Ok(None),
    }
}

fn write_file(path: &Path, file: &AuthFile) -> Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).ctx("cannot create config directory", dir)?;
    let tmp = dir.join(format!(".auth.json.{}", std::process::id()));
    let body = serde_json::to_vec_pretty(file)?;
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .ctx("cannot write credentials file", &tmp)?;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))
            .ctx("cannot set mode of", &tmp)?;
        f.write_all(&body)
            .ctx("cannot write credentials file", &tmp)?;
        f.sync_all().ctx("cannot sync credentials file", &tmp)?;
        std::fs::rename(&tmp, path).ctx("cannot replace credentials file", path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Stores credentials for `host` in berth's file (mode 0600), replacing older ones.
pub fn store(host: &str, creds: &Credentials) -> Result<()> {
    let path = berth_auth_path();
    let mut file = read_file(&path)?.unwrap_or_default();
    let host = normalize_host(host);
    file.auths.retain(|k, _| normalize_host(k) != host);
    let auth = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", creds.username, creds.password));
    file.auths.insert(
        host,
        AuthEntry {
            auth: Some(auth),
            ..AuthEntry::default()
        },
    );
    write_file(&path, &file)
}

/// Removes berth's stored credentials for `host`. Returns false when there were none.
pub fn remove(host: &str) -> Result<bool> {
    let path = berth_auth_path();
    let Some(mut file) = read_file(&path)? else {
        return Ok(false);
    };
    let host = normalize_host(host);
    let before = file.auths.len();
    file.auths.retain(|k, _| normalize_host(k) != host);
    if file.auths.len() == before {
        return Ok(false);
    }
    write_file(&path, &file)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_docker_keys() {
        assert_eq!(normalize_host("https://index.docker.io/v1/"), "docker.io");
        assert_eq!(normalize_host("http://127.0.0.1:5000"), "127.0.0.1:5000");
        assert_eq!(normalize_host("quay.io"), "quay.io");
    }

    #[test]
    fn decodes_auth_and_plain_fields() {
        let p = Path::new("x.json");
        let e = AuthEntry {
            auth: Some(base64::engine::general_purpose::STANDARD.encode("u:p:w")),
            ..Default::default()
        };
        let c = decode(&e, p, "h").unwrap().unwrap();
        assert_eq!((c.username.as_str(), c.password.as_str()), ("u", "p:w"));
        let e = AuthEntry {
            auth: Some("!!".into()),
            ..Default::default()
        };
        assert!(decode(&e, p, "h")
            .unwrap_err()
            .to_string()
            .contains("malformed"));
        let e = AuthEntry {
            username: Some("a".into()),
            password: Some("b".into()),
            ..Default::default()
        };
        assert_eq!(decode(&e, p, "h").unwrap().unwrap().username, "a");
    }

    #[test]
    fn file_roundtrip_keeps_other_keys_and_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.json");
        std::fs::write(&path, r#"{"auths":{},"credsStore":"x"}"#).unwrap();
        let mut f = read_file(&path).unwrap().unwrap();
        f.auths.insert(
            "h:1".into(),
            AuthEntry {
                auth: Some("dTpw".into()),
                ..Default::default()
            },
        );
        write_file(&path, &f).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let c = lookup_in(&path, "h:1").unwrap().unwrap();
        assert_eq!(c.username, "u");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("credsStore"));
    }
}
