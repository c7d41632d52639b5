//! The registry's upload API, for `push`: a HEAD check per blob, cross-repository mounts,
//! uploads (monolithic: one streamed PUT; chunked: PATCHes of [`CHUNK`] bytes, then the PUT
//! that closes the session) and the manifest PUT. Auth as pulls do it: the credentials `berth
//! login` stored (or docker's config.json), sent as Basic, or traded for a bearer token with the
//! scopes the push needs (`pull,push` on the target, `pull` on mount sources).

use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use tokio::io::AsyncReadExt;

use super::backoff::{backoff, ATTEMPTS};
use super::credentials::{self, Credentials};
use super::mirrors::api_host;
use super::reference::{is_loopback_host, ImageRef};
use super::registry_http::{error_chain, parse_challenge, probe, Scheme};
use crate::engine::error::{EngineError, Result};

/// Bytes per PATCH of a chunked upload.
pub const CHUNK: u64 = 16 << 20;
/// Read size while streaming a blob.
const READ: usize = 1 << 20;

/// A connection to the registry a push goes to, authorised for the target repository.
pub struct Uploader {
    http: reqwest::Client,
    /// `scheme://host`.
    base: String,
    /// The target repository path (`test/busybox`).
    repo: String,
    /// Registry host as the user named it (for messages and credentials).
    host: String,
    auth: Option<HeaderValue>,
}

/// How a blob got into the target repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placed {
    /// It was there already.
    Exists,
    /// Mounted from this repository of the same registry.
    Mounted(String),
    /// Uploaded.
    Uploaded,
}

fn net(host: &str, e: reqwest::Error) -> EngineError {
    EngineError::Registry(format!("cannot reach registry {host}: {}", error_chain(&e)))
}

impl Uploader {
    /// Connects to the registry of `target` and authorises pushing to it (and pulling from
    /// `mount_from`, repositories of the same registry blobs may be mounted from).
    pub async fn connect(
        target: &ImageRef,
        tls_verify: bool,
        mount_from: &[String],
    ) -> Result<Uploader> {
        let mut scopes = vec![format!("repository:{}:pull,push", target.path)];
        scopes.extend(mount_from.iter().map(|s| format!("repository:{s}:pull")));
        Self::connect_scoped(&target.domain, &target.path, tls_verify, &scopes).await
    }

    /// Connects to registry `host` for repository `repo` (may be empty), authorised for the
    /// token `scopes` (`repository:NAME:ACTIONS`, `registry:catalog:*`).
    pub async fn connect_scoped(
        host: &str,
        repo: &str,
        tls_verify: bool,
        scopes: &[String],
    ) -> Result<Uploader> {
        let host = host.to_string();
        let api = api_host(&host).to_string();
        let insecure = !tls_verify;
        let scheme = probe(&api, insecure, is_loopback_host(&api))
            .await
            .map_err(|e| EngineError::Registry(format!("cannot reach registry {host}: {e}")))?;
        let http = reqwest::Client::builder()
            .danger_accept_invalid_certs(insecure)
            .connect_timeout(Duration::from_secs(15))
            .read_timeout(Duration::from_secs(120))
            .user_agent(concat!("berth/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| EngineError::Registry(format!("cannot set up an HTTP client: {e}")))?;
        let base = format!(
            "{}://{api}",
            match scheme {
                Scheme::Https => "https",
                Scheme::Http => "http",
            }
        );
        let mut up = Uploader {
            http,
            base,
            repo: repo.to_string(),
            host,
            auth: None,
        };
        up.authorise(scopes).await?;
        Ok(up)
    }

    async fn authorise(&mut self, scopes: &[String]) -> Result<()> {
        let host = self.host.clone();
        let first = self
            .http
            .get(format!("{}/v2/", self.base))
            .send()
            .await
            .map_err(|e| net(&host, e))?;
        if first.status() != StatusCode::UNAUTHORIZED {
            return Ok(());
        }
        let creds = credentials::lookup(&host)?;
        let challenge = first
            .headers()
            .get(reqwest::header::WWW_AUTHENTICATE)
            .and_then(|h| h.to_str().ok())
            .and_then(parse_challenge);
        let denied = || {
            EngineError::Unauthorized(format!(
                "access to {host} denied: unauthorized; log in with \"berth login {host}\" or \
                 check the stored credentials"
            ))
        };
        let header = match (challenge, creds) {
            (Some(c), creds) if c.scheme == "bearer" => {
                let realm = c.param("realm").ok_or_else(|| {
                    EngineError::Registry(format!("{host}: the token challenge has no realm"))
                })?;
                let mut query: Vec<(&str, String)> =
                    scopes.iter().map(|s| ("scope", s.clone())).collect();
                if let Some(s) = c.param("service") {
                    query.push(("service", s.to_string()));
                }
                let mut req = self.http.get(realm).query(&query);
                if let Some(Credentials { username, password }) = &creds {
                    req = req
                        .query(&[("account", username)])
                        .basic_auth(username, Some(password));
                }
                let resp = req.send().await.map_err(|e| net(&host, e))?;
                if matches!(resp.status().as_u16(), 401 | 403) {
                    return Err(denied());
                }
                if !resp.status().is_success() {
                    return Err(EngineError::Registry(format!(
                        "{host}: the token service {realm} answered {}",
                        resp.status()
                    )));
                }
                let body: serde_json::Value = resp.json().await.map_err(|e| net(&host, e))?;
                let token = super::registry_http::bearer_token(&body).ok_or_else(|| {
                    EngineError::Registry(format!(
                        "{host}: the token service {realm} sent no token"
                    ))
                })?;
                format!("Bearer {token}")
            }
            (_, Some(Credentials { username, password })) => {
                use base64::Engine as _;
                let raw = format!("{username}:{password}");
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(raw)
                )
            }
            (_, None) => return Err(denied()),
        };
        self.auth = Some(HeaderValue::from_str(&header).map_err(|_| {
            EngineError::InvalidInput(format!(
                "the stored credentials for {host} cannot be sent in a header"
            ))
        })?);
        Ok(())
    }

    fn request(&self, method: Method, url: &str) -> RequestBuilder {
        let mut r = self.http.request(method, url);
        if let Some(a) = &self.auth {
            r = r.header(AUTHORIZATION, a.clone());
        }
        r
    }

    /// Sends the request `make` builds, again (with backoff) after a connection failure, a
    /// timeout, 429 or a 5xx answer.
    async fn send(&self, make: impl Fn() -> RequestBuilder) -> Result<Response> {
        let mut attempt = 1;
        loop {
            let again = match make().send().await {
                Ok(resp) => {
                    let s = resp.status();
                    if !(s.is_server_error() || s == StatusCode::TOO_MANY_REQUESTS)
                        || attempt >= ATTEMPTS
                    {
                        return Ok(resp);
                    }
                    format!("{s}")
                }
                Err(e) if attempt < ATTEMPTS && (e.is_connect() || e.is_timeout()) => {
                    error_chain(&e)
                }
                Err(e) => return Err(net(&self.host, e)),
            };
            tracing::debug!(
                "push to {}: {again} (attempt {attempt}), retrying",
                self.host
            );
            tokio::time::sleep(backoff(attempt)).await;
            attempt += 1;
        }
    }

    fn url(&self, rest: &str) -> String {
        format!("{}/v2/{}/{rest}", self.base, self.repo)
    }

    /// Resolves a `Location` header against the registry.
    fn location(&self, resp: &Response) -> Result<String> {
        let loc = resp
            .headers()
            .get(LOCATION)
            .and_then(|h| h.to_str().ok())
            .ok_or_else(|| {
                EngineError::Registry(format!(
                    "registry {} started an upload without a Location",
                    self.host
                ))
            })?;
        Ok(
            if loc.starts_with("http://") || loc.starts_with("https://") {
                loc.to_string()
            } else {
                format!("{}{loc}", self.base)
            },
        )
    }

    async fn refused(&self, what: &str, resp: Response) -> EngineError {
        let status = resp.status();
        let body = resp.text().await.unwrap_or_default();
        let body = body.trim();
        if matches!(status.as_u16(), 401 | 403) {
            return EngineError::Unauthorized(format!(
                "push to {}/{} denied ({what}): {status} {body}; log in with \"berth login {}\"",
                self.host, self.repo, self.host
            ));
        }
        let of = if self.repo.is_empty() {
            String::new()
        } else {
            format!(" for {}", self.repo)
        };
        EngineError::Registry(format!(
            "registry {} refused {what}{of}: {status} {body}",
            self.host
        ))
    }

    /// GETs `/v2/{path}` and parses the JSON answer (the catalog).
    pub async fn get_json(&self, path: &str) -> Result<serde_json::Value> {
        let url = format!("{}/v2/{path}", self.base);
        let resp = self.send(|| self.request(Method::GET, &url)).await?;
        if !resp.status().is_success() {
            return Err(self.refused(&format!("GET /v2/{path}"), resp).await);
        }
        resp.json()
            .await
            .map_err(|e| EngineError::Registry(format!("{}: {path}: {e}", self.host)))
    }

    /// True when the repository has the blob (HEAD).
    pub async fn has_blob(&self, digest: &str) -> Result<bool> {
        let resp = self
            .send(|| self.request(Method::HEAD, &self.url(&format!("blobs/{digest}"))))
            .await?;
        match resp.status().as_u16() {
            200..=299 => Ok(true),
            404 => Ok(false),
            _ => Err(self
                .refused(&format!("the check of blob {digest}"), resp)
                .await),
        }
    }

    /// Mounts `digest` from repository `from`; `None` when mounted, else the upload session the
    /// registry opened instead.
    pub async fn mount(&self, digest: &str, from: &str) -> Result<Option<String>> {
        let resp = self
            .send(|| {
                self.request(Method::POST, &self.url("blobs/uploads/"))
                    .query(&[("mount", digest), ("from", from)])
                    .header(CONTENT_LENGTH, 0)
            })
            .await?;
        match resp.status() {
            StatusCode::CREATED => Ok(None),
            StatusCode::ACCEPTED => Ok(Some(self.location(&resp)?)),
            _ => Err(self.refused(&format!("mounting blob {digest}"), resp).await),
        }
    }

    /// Opens an upload session; returns its location.
    pub async fn start_upload(&self) -> Result<String> {
        let resp = self
            .send(|| {
                self.request(Method::POST, &self.url("blobs/uploads/"))
                    .header(CONTENT_LENGTH, 0)
            })
            .await?;
        if resp.status() != StatusCode::ACCEPTED {
            return Err(self.refused("starting an upload", resp).await);
        }
        self.location(&resp)
    }

    /// Streams the file `path` (`size` bytes, blob `digest`) into the session at `location`:
    /// one PUT when `size` ≤ [`CHUNK`], else PATCHes of [`CHUNK`] bytes and a closing PUT.
    /// `progress` gets the bytes sent so far.
    pub async fn upload(
        &self,
        location: String,
        path: &std::path::Path,
        digest: &str,
        size: u64,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<()> {
        let mut file = tokio::fs::File::open(path)
            .await
            .map_err(|e| EngineError::io_path("cannot open blob", path, e))?;
        let mut location = location;
        let mut sent = 0u64;
        if size > CHUNK {
            while sent < size {
                let len = CHUNK.min(size - sent);
                let body = read_exact(&mut file, len, path).await?;
                let resp = self
                    .send(|| {
                        self.request(Method::PATCH, &location)
                            .header(CONTENT_TYPE, "application/octet-stream")
                            .header(CONTENT_LENGTH, len)
                            .header("Content-Range", format!("{}-{}", sent, sent + len - 1))
                            .body(body.clone())
                    })
                    .await?;
                if resp.status() != StatusCode::ACCEPTED {
                    return Err(self
                        .refused(&format!("a chunk of blob {digest}"), resp)
                        .await);
                }
                location = self.location(&resp)?;
                sent += len;
                progress(sent);
            }
            let resp = self
                .send(|| {
                    self.request(Method::PUT, &location)
                        .query(&[("digest", digest)])
                        .header(CONTENT_LENGTH, 0)
                })
                .await?;
            if resp.status() != StatusCode::CREATED {
                return Err(self.refused(&format!("blob {digest}"), resp).await);
            }
            return Ok(());
        }
        let body = read_exact(&mut file, size, path).await?;
        let resp = self
            .send(|| {
                self.request(Method::PUT, &location)
                    .query(&[("digest", digest)])
                    .header(CONTENT_TYPE, "application/octet-stream")
                    .header(CONTENT_LENGTH, size)
                    .body(body.clone())
            })
            .await?;
        if resp.status() != StatusCode::CREATED {
            return Err(self.refused(&format!("blob {digest}"), resp).await);
        }
        progress(size);
        Ok(())
    }

    /// Puts the manifest `bytes` of `media_type` under `tag`.
    pub async fn put_manifest(&self, tag: &str, media_type: &str, bytes: Vec<u8>) -> Result<()> {
        let resp = self
            .send(|| {
                self.request(Method::PUT, &self.url(&format!("manifests/{tag}")))
                    .header(CONTENT_TYPE, media_type)
                    .body(bytes.clone())
            })
            .await?;
        if resp.status() != StatusCode::CREATED {
            return Err(self.refused(&format!("the manifest {tag}"), resp).await);
        }
        Ok(())
    }
}

/// Reads exactly `len` bytes of `file` (a blob checked just before; a short read means it
/// changed under us).
async fn read_exact(
    file: &mut tokio::fs::File,
    len: u64,
    path: &std::path::Path,
) -> Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(len as usize);
    let mut chunk = vec![0u8; READ];
    while (buf.len() as u64) < len {
        let want = READ.min((len - buf.len() as u64) as usize);
        let n = file
            .read(&mut chunk[..want])
            .await
            .map_err(|e| EngineError::io_path("cannot read blob", path, e))?;
        if n == 0 {
            return Err(EngineError::Digest(format!(
                "blob {} is shorter than recorded: it changed in the store",
                path.display()
            )));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(buf)
}
