//! Talking to a test [`Registry`] over its HTTP API: push images, fetch manifests and blobs,
//! with the right credentials for its auth mode (Basic, or a bearer token from the issuer).
//!
//! Everything here uses reqwest::blocking on its own thread ([`off_runtime`]), so it also works
//! from `#[tokio::test]` functions.

use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION};
use reqwest::StatusCode;

use super::images::{Image, MT_DOCKER_LIST, MT_DOCKER_MANIFEST, MT_OCI_INDEX, MT_OCI_MANIFEST};
use super::off_runtime;
use super::registry::{Auth, Registry};
use super::token;

/// The Accept header a client must send for manifests (all four types).
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, \
application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.v2+json, \
application/vnd.docker.distribution.manifest.list.v2+json";

/// A fetched manifest.
#[derive(Debug)]
pub struct Fetched {
    pub status: u16,
    pub content_type: String,
    /// The `Docker-Content-Digest` header.
    pub digest: String,
    pub body: Vec<u8>,
}

/// An HTTP client that never uses a proxy (tests talk to loopback only).
pub fn http_client() -> Client {
    Client::builder()
        .no_proxy()
        .timeout(std::time::Duration::from_secs(120))
        .build()
        .expect("build HTTP client")
}

/// Splits "repo:tag" (tag defaults to "latest"); "repo@sha256:…" keeps the digest.
pub fn split_repo_tag(repo_tag: &str) -> (&str, &str) {
    if let Some((repo, digest)) = repo_tag.split_once('@') {
        return (repo, digest);
    }
    match repo_tag.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo, tag),
        _ => (repo_tag, "latest"),
    }
}

impl Registry {
    /// The Authorization header value for `actions` ("pull" or "pull,push") on `repo`, or None
    /// without auth. In token mode this asks the issuer for a token (with the right password).
    pub fn auth_header(&self, repo: &str, actions: &str) -> Option<String> {
        match self.auth() {
            Auth::None => None,
            Auth::Basic { user, pass } => Some(basic(user, pass)),
            Auth::Token { user, pass } => {
                let token = self
                    .request_token(Some((user, pass)), &format!("repository:{repo}:{actions}"))
                    .unwrap_or_else(|status| {
                        panic!("token issuer refused the right password: {status}")
                    });
                Some(format!("Bearer {token}"))
            }
        }
    }

    /// Asks the issuer for a token for `scope` with `creds` (None: anonymous). Err(status) when
    /// the issuer refuses.
    pub fn request_token(&self, creds: Option<(&str, &str)>, scope: &str) -> Result<String, u16> {
        let issuer = self.issuer().expect("request_token needs Auth::Token");
        let realm = issuer.realm();
        off_runtime(|| {
            let mut req = http_client()
                .get(&realm)
                .query(&[("service", token::SERVICE), ("scope", scope)]);
            if let Some((u, p)) = creds {
                req = req.basic_auth(u, Some(p));
            }
            let resp = req.send().expect("token issuer answers");
            if !resp.status().is_success() {
                return Err(resp.status().as_u16());
            }
            let body: serde_json::Value = resp.json().expect("token JSON");
            Ok(body["token"].as_str().expect("token field").to_string())
        })
    }

    /// Pushes every blob, the child manifests of an index (by digest) and the manifest itself
    /// (as `repo:tag`). Returns the digest the registry reports for the top manifest.
    pub fn push(&self, image: &Image, repo_tag: &str) -> String {
        let (repo, tag) = split_repo_tag(repo_tag);
        let auth = self.auth_header(repo, "pull,push");
        let base = self.url();
        off_runtime(|| {
            let client = http_client();
            let with_auth = |req: RequestBuilder| match &auth {
                Some(a) => req.header(AUTHORIZATION, a),
                None => req,
            };
            for (digest, blob) in &image.blobs {
                let head = with_auth(client.head(format!("{base}/v2/{repo}/blobs/{digest}")))
                    .send()
                    .expect("HEAD blob");
                if head.status() == StatusCode::OK {
                    continue;
                }
                let start = with_auth(client.post(format!("{base}/v2/{repo}/blobs/uploads/")))
                    .send()
                    .expect("POST upload");
                let start = check(start, StatusCode::ACCEPTED, "start blob upload");
                let location = start
                    .headers()
                    .get(LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .expect("upload Location header")
                    .to_string();
                let mut url = if location.starts_with('/') {
                    format!("{base}{location}")
                } else {
                    location
                };
                url.push(if url.contains('?') { '&' } else { '?' });
                url.push_str(&format!("digest={digest}"));
                let put = with_auth(client.put(url))
                    .header(CONTENT_TYPE, "application/octet-stream")
                    .body(blob.data.as_ref().clone())
                    .send()
                    .expect("PUT blob");
                check(put, StatusCode::CREATED, &format!("upload blob {digest}"));
            }
            let put_manifest = |reference: &str, img: &Image| -> String {
                let resp = with_auth(client.put(format!("{base}/v2/{repo}/manifests/{reference}")))
                    .header(CONTENT_TYPE, img.media_type)
                    .body(img.manifest.clone())
                    .send()
                    .expect("PUT manifest");
                let resp = check(
                    resp,
                    StatusCode::CREATED,
                    &format!("put manifest {reference}"),
                );
                resp.headers()
                    .get("docker-content-digest")
                    .and_then(|v| v.to_str().ok())
                    .expect("Docker-Content-Digest header")
                    .to_string()
            };
            for child in &image.children {
                put_manifest(&child.digest, child);
            }
            put_manifest(tag, image)
        })
    }

    /// GET a manifest with all four Accept types and the right credentials.
    pub fn get_manifest(&self, repo: &str, reference: &str) -> Fetched {
        let auth = self.auth_header(repo, "pull");
        let url = format!("{}/v2/{repo}/manifests/{reference}", self.url());
        off_runtime(|| {
            let mut req = http_client().get(url).header(ACCEPT, MANIFEST_ACCEPT);
            if let Some(a) = &auth {
                req = req.header(AUTHORIZATION, a);
            }
            let resp = req.send().expect("GET manifest");
            let header = |name: &str| {
                resp.headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string()
            };
            let (content_type, digest) = (header("content-type"), header("docker-content-digest"));
            let status = resp.status().as_u16();
            let body = resp.bytes().expect("manifest body").to_vec();
            Fetched {
                status,
                content_type,
                digest,
                body,
            }
        })
    }

    /// GET a blob with the right credentials: (status, bytes).
    pub fn get_blob(&self, repo: &str, digest: &str) -> (u16, Vec<u8>) {
        let auth = self.auth_header(repo, "pull");
        let url = format!("{}/v2/{repo}/blobs/{digest}", self.url());
        off_runtime(|| {
            let mut req = http_client().get(url);
            if let Some(a) = &auth {
                req = req.header(AUTHORIZATION, a);
            }
            let resp = req.send().expect("GET blob");
            let status = resp.status().as_u16();
            (status, resp.bytes().expect("blob body").to_vec())
        })
    }
}

/// Is `media_type` one of the four manifest types?
pub fn is_manifest_type(media_type: &str) -> bool {
    [
        MT_OCI_MANIFEST,
        MT_OCI_INDEX,
        MT_DOCKER_MANIFEST,
        MT_DOCKER_LIST,
    ]
    .contains(&media_type)
}

fn basic(user: &str, pass: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
    )
}

fn check(resp: Response, want: StatusCode, what: &str) -> Response {
    if resp.status() == want {
        return resp;
    }
    let status = resp.status();
    let body = resp.text().unwrap_or_default();
    panic!("{what}: registry answered {status} (wanted {want}): {body}");
}
