//! A file fetched over http(s) that is not a registry blob: `ADD URL` in a build and
//! `import URL`. The body is streamed into a file while hashed, so the caller knows its digest
//! (for `ADD --checksum` and the build cache) without reading it again; an error status, a
//! broken connection or a wrong checksum leave the caller's file to remove.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime};

use futures::StreamExt;
use sha2::{Digest, Sha256};

use crate::engine::error::{EngineError, ErrorKind, IoContext, Result};

/// What was fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteFile {
    /// `sha256:<hex>` of the body.
    pub digest: String,
    /// Bytes written.
    pub size: u64,
    /// The server's `Last-Modified`, when it sent a valid one.
    pub modified: Option<SystemTime>,
    /// The name the file goes by: the last component of the URL's path (docker's rule), or
    /// `None` when the path ends with `/` or is empty.
    pub name: Option<String>,
}

/// Checks that `url` is an http(s) URL with a host; returns it parsed.
pub fn parse_url(url: &str) -> Result<reqwest::Url> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| EngineError::InvalidInput(format!("invalid URL {url:?}: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(EngineError::InvalidInput(format!(
            "invalid URL {url:?}: only http:// and https:// URLs with a host can be fetched"
        )));
    }
    Ok(parsed)
}

/// The file name docker gives a download: the URL path's last component.
fn name_of(url: &reqwest::Url) -> Option<String> {
    let last = url.path_segments()?.next_back()?;
    let decoded = percent_decode(last);
    (!decoded.is_empty() && decoded != "." && decoded != ".." && !decoded.contains('/'))
        .then_some(decoded)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Fetches `url` into the new file `dest` (mode 0600). `expected` (`sha256:<hex>`) is checked
/// against the body when given.
pub async fn fetch(url: &str, dest: &Path, expected: Option<&str>) -> Result<RemoteFile> {
    let parsed = parse_url(url)?;
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(Duration::from_secs(60))
        .user_agent(concat!("berth/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| EngineError::caused(ErrorKind::Registry, "cannot set up an HTTP client", e))?;
    let failed = |e: reqwest::Error| {
        EngineError::caused(ErrorKind::Registry, format!("cannot fetch {url}"), e)
    };
    let resp = client.get(parsed.clone()).send().await.map_err(failed)?;
    let status = resp.status();
    if !status.is_success() {
        return Err(EngineError::Registry(format!(
            "cannot fetch {url}: the server answered {status}"
        )));
    }
    let modified = resp
        .headers()
        .get(reqwest::header::LAST_MODIFIED)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| chrono::DateTime::parse_from_rfc2822(v).ok())
        .map(SystemTime::from);
    let name = name_of(resp.url()).or_else(|| name_of(&parsed));
    let mut file = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(dest)
            .ctx("cannot create", dest)?
    };
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(failed)?;
        hasher.update(&chunk);
        size += chunk.len() as u64;
        file.write_all(&chunk).ctx("cannot write", dest)?;
    }
    file.flush().ctx("cannot write", dest)?;
    let digest = format!("sha256:{}", hex::encode(hasher.finalize()));
    if let Some(want) = expected {
        if want != digest {
            return Err(EngineError::Digest(format!(
                "checksum of {url} does not match: expected {want}, got {digest}"
            )));
        }
    }
    Ok(RemoteFile {
        digest,
        size,
        modified,
        name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_urls() {
        let u = parse_url("http://127.0.0.1:8080/files/a%20b.tar.gz?x=1").unwrap();
        assert_eq!(name_of(&u).as_deref(), Some("a b.tar.gz"));
        assert_eq!(name_of(&parse_url("http://h/dir/").unwrap()), None);
        assert_eq!(name_of(&parse_url("http://h").unwrap()), None);
        assert!(parse_url("ftp://h/x").is_err());
        assert!(parse_url("not a url").is_err());
        assert_eq!(percent_decode("%2"), "%2");
    }
}
