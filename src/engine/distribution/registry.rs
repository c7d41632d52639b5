//! Talking to registries: oci-client for the protocol (token and basic auth, token reuse until
//! expiry, range requests), wrapped with what berth adds: credentials, plain http for loopback
//! and insecure registries, mirrors, retries with backoff, and errors that name image and registry.

use std::future::Future;
use std::time::Duration;

use oci_client::client::{BlobResponse, ClientConfig, ClientProtocol, SizedStream};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::manifest::OciDescriptor;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference, RegistryOperation};

use super::backoff::{ATTEMPTS, FIRST_BACKOFF};
use super::credentials::{self, Credentials};
use super::manifest::{Descriptor, ACCEPT};
use super::mirrors::{self, api_host, Source};
use super::reference::{is_loopback_host, ImageRef};
use super::registry_http::{certificate_refused, is_tls_error, probe, tls_error, Scheme};
use crate::engine::error::{EngineError, ErrorKind, Result};

/// A connection to the registry (or mirror) one image is pulled from.
pub struct RegistryClient {
    image: ImageRef,
    tls_verify: bool,
    sources: Vec<Source>,
    active: Option<Active>,
}

struct Active {
    source: Source,
    client: Client,
    auth: RegistryAuth,
}

/// A blob body being received.
pub struct BlobBody {
    /// Offset of the first byte of `stream` in the blob (0 when the registry ignored the range).
    pub starts_at: u64,
    /// The bytes.
    pub stream: SizedStream,
}

impl RegistryClient {
    /// Prepares to pull `image`; reads the mirror configuration. Connects lazily.
    pub fn new(image: &ImageRef, tls_verify: bool) -> Result<RegistryClient> {
        let config = mirrors::load(&mirrors::registries_path())?;
        Ok(RegistryClient {
            image: image.clone(),
            tls_verify,
            sources: config.sources(image),
            active: None,
        })
    }

    /// The host content comes from (a mirror or the registry itself).
    pub fn registry(&self) -> &str {
        self.active
            .as_ref()
            .map_or(&self.image.domain, |a| &a.source.host)
    }

    /// Fetches a manifest or index by tag or digest; returns its bytes and digest (checked
    /// against the digest asked for). The first call picks the source: mirrors in order, then
    /// the registry.
    pub async fn fetch_manifest(&mut self, reference: &str) -> Result<(Vec<u8>, String)> {
        if let Some(active) = &self.active {
            return self.fetch_manifest_from(active, reference).await;
        }
        let mut last = None;
        for source in self.sources.clone() {
            let result = match self.connect(&source).await {
                Ok(active) => self
                    .fetch_manifest_from(&active, reference)
                    .await
                    .map(|found| (active, found)),
                Err(e) => Err(e),
            };
            match result {
                Ok((active, found)) => {
                    self.active = Some(active);
                    return Ok(found);
                }
                Err(e) if !source.mirror => return Err(e),
                Err(e) => {
                    tracing::warn!("mirror {} failed, trying the next source: {e}", source.host);
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or_else(|| {
            EngineError::Registry(format!("no registry to pull {} from", self.image))
        }))
    }

    async fn connect(&self, source: &Source) -> Result<Active> {
        let insecure = !self.tls_verify || source.insecure;
        let host = api_host(&source.host);
        let scheme = probe(host, insecure, is_loopback_host(host))
            .await
            .map_err(|e| self.wrap(e, &source.host))?;
        let auth = match credentials::lookup(&source.host)? {
            Some(Credentials { username, password }) => RegistryAuth::Basic(username, password),
            None => RegistryAuth::Anonymous,
        };
        let config = ClientConfig {
            protocol: match scheme {
                Scheme::Http => ClientProtocol::Http,
                Scheme::Https => ClientProtocol::Https,
            },
            accept_invalid_certificates: insecure,
            platform_resolver: None,
            connect_timeout: Some(Duration::from_secs(15)),
            read_timeout: Some(Duration::from_secs(60)),
            ..ClientConfig::default()
        };
        let client = Client::try_from(config).map_err(|e| {
            EngineError::Registry(format!("cannot set up a client for {}: {e}", source.host))
        })?;
        let active = Active {
            source: source.clone(),
            client,
            auth,
        };
        // Authenticate now so a refused token says so, instead of a bare 401 later.
        let reference = self.reference(&active, "latest");
        retry(|| {
            active
                .client
                .auth(&reference, &active.auth, RegistryOperation::Pull)
        })
        .await
        .map_err(|e| self.classify(e, &active.source.host, "authenticate"))?;
        Ok(active)
    }

    fn reference(&self, active: &Active, tag_or_digest: &str) -> Reference {
        let host = api_host(&active.source.host).to_string();
        let path = active.source.path.clone();
        if tag_or_digest.starts_with("sha256:") {
            Reference::with_digest(host, path, tag_or_digest.to_string())
        } else {
            Reference::with_tag(host, path, tag_or_digest.to_string())
        }
    }

    async fn fetch_manifest_from(
        &self,
        active: &Active,
        reference: &str,
    ) -> Result<(Vec<u8>, String)> {
        let r = self.reference(active, reference);
        retry(|| active.client.pull_manifest_raw(&r, &active.auth, &ACCEPT))
            .await
            .map_err(|e| self.classify(e, &active.source.host, "manifest"))
    }

    /// Opens a blob from byte `offset` (an HTTP Range request when `offset > 0`).
    pub async fn open_blob(&self, desc: &Descriptor, offset: u64) -> Result<BlobBody> {
        let active = self.active.as_ref().ok_or_else(|| {
            EngineError::Registry("internal: blob requested before the manifest".into())
        })?;
        let r = self.reference(active, &desc.digest);
        let layer = OciDescriptor {
            media_type: desc.media_type.clone(),
            digest: desc.digest.clone(),
            size: i64::try_from(desc.size).unwrap_or(i64::MAX),
            ..OciDescriptor::default()
        };
        let response = retry(|| {
            active
                .client
                .pull_blob_stream_partial(&r, &layer, offset, None)
        })
        .await
        .map_err(|e| self.classify(e, &active.source.host, &format!("blob {}", desc.digest)))?;
        Ok(match response {
            BlobResponse::Full(stream) => BlobBody {
                starts_at: 0,
                stream,
            },
            BlobResponse::Partial(stream) => BlobBody {
                starts_at: offset,
                stream,
            },
        })
    }

    /// Turns a failure into an error naming the image and the registry.
    fn classify(&self, e: OciDistributionError, registry: &str, what: &str) -> EngineError {
        let image = &self.image;
        let codes: Vec<&OciErrorCode> = match &e {
            OciDistributionError::RegistryError { envelope, .. } => {
                envelope.errors.iter().map(|e| &e.code).collect()
            }
            _ => Vec::new(),
        };
        let status = match &e {
            OciDistributionError::ServerError { code, .. } => Some(*code),
            OciDistributionError::RequestError(r) => r.status().map(|s| s.as_u16()),
            _ => None,
        };
        let unknown = codes.iter().any(|c| {
            matches!(
                c,
                OciErrorCode::ManifestUnknown
                    | OciErrorCode::NameUnknown
                    | OciErrorCode::NotFound
                    | OciErrorCode::BlobUnknown
            )
        });
        if unknown || status == Some(404) {
            let detail = if what == "manifest" {
                "manifest unknown".to_string()
            } else {
                format!("{what} unknown")
            };
            return EngineError::NotFound(format!(
                "image {image} not found in registry {registry} ({detail})"
            ));
        }
        let denied = codes
            .iter()
            .any(|c| matches!(c, OciErrorCode::Unauthorized | OciErrorCode::Denied));
        if denied
            || matches!(
                e,
                OciDistributionError::UnauthorizedError { .. }
                    | OciDistributionError::AuthenticationFailure(_)
            )
            || matches!(status, Some(401 | 403))
        {
            return EngineError::Unauthorized(format!(
                "pull access denied for {image} at registry {registry}: unauthorized; log in \
                 with \"berth login {registry}\" or check the stored credentials"
            ));
        }
        if let OciDistributionError::DigestError(d) = &e {
            return EngineError::Digest(format!("{image} from registry {registry}: {what}: {d}"));
        }
        if let OciDistributionError::RequestError(r) = e {
            return self.wrap(
                if certificate_refused(&r) {
                    tls_error(r)
                } else {
                    EngineError::caused(ErrorKind::Registry, "", r)
                },
                registry,
            );
        }
        EngineError::Registry(format!(
            "pulling {image} from registry {registry} failed ({what}): {e}"
        ))
    }

    fn wrap(&self, e: EngineError, registry: &str) -> EngineError {
        let image = &self.image;
        if is_tls_error(&e) {
            let m = e.to_string();
            return EngineError::caused(
                ErrorKind::Registry,
                format!(
                    "TLS failure talking to registry {registry} for {image}: {m}; pass \
                     --tls-verify=false only if you trust this registry"
                ),
                e,
            );
        }
        match e {
            EngineError::Registry(m) => {
                EngineError::Registry(format!("cannot reach registry {registry} for {image}: {m}"))
            }
            EngineError::Caused {
                kind: ErrorKind::Registry,
                message,
                source,
            } => EngineError::caused(
                ErrorKind::Registry,
                if message.is_empty() {
                    format!("cannot reach registry {registry} for {image}")
                } else {
                    format!("cannot reach registry {registry} for {image}: {message}")
                },
                source,
            ),
            other => other,
        }
    }
}

/// True for failures worth another try: connection trouble, 5xx, 429.
pub fn is_transient(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::RequestError(r) => {
            !certificate_refused(r)
                && (r.is_connect() || r.is_timeout() || r.is_body() || r.is_request())
        }
        OciDistributionError::ServerError { code, .. } => *code >= 500 || *code == 429,
        OciDistributionError::RegistryError { envelope, .. } => envelope
            .errors
            .iter()
            .any(|e| e.code == OciErrorCode::Toomanyrequests),
        OciDistributionError::IoError(_) => true,
        _ => false,
    }
}

/// Runs `f` until it succeeds, fails for good, or has failed [`ATTEMPTS`] times, backing off
/// exponentially in between.
pub async fn retry<T, F, Fut>(mut f: F) -> std::result::Result<T, OciDistributionError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = std::result::Result<T, OciDistributionError>>,
{
    let mut delay = FIRST_BACKOFF;
    let mut attempt = 1;
    loop {
        match f().await {
            Err(e) if attempt < ATTEMPTS && is_transient(&e) => {
                tracing::debug!("transient registry error (attempt {attempt}), retrying: {e}");
                tokio::time::sleep(delay).await;
                delay *= 2;
                attempt += 1;
            }
            other => return other,
        }
    }
}
