//! Plain HTTP checks against a registry's `/v2/` endpoint: which scheme it speaks (https, or
//! http for loopback and insecure registries, as docker does) and `berth login`'s credential
//! check (basic auth or the token flow).

use std::time::Duration;

use super::backoff::{backoff, ATTEMPTS};
use super::credentials::Credentials;
use super::mirrors::api_host;
use super::reference::is_loopback_host;
use crate::engine::error::{EngineError, ErrorKind, Result};

/// How to reach a registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// TLS.
    Https,
    /// Plain http (loopback or insecure registries only).
    Http,
}

impl Scheme {
    fn as_str(self) -> &'static str {
        match self {
            Scheme::Https => "https",
            Scheme::Http => "http",
        }
    }
}

/// An error and all its causes, joined with ": ".
pub use crate::engine::error::chain as error_chain;

/// Whether a request failed because the server's certificate was refused: rustls's verdict,
/// found in the error's causes (hyper hands it up inside an `io::Error`).
pub fn certificate_refused(e: &(dyn std::error::Error + 'static)) -> bool {
    let refused = |t: &rustls::Error| {
        matches!(
            t,
            rustls::Error::InvalidCertificate(_)
                | rustls::Error::NoCertificatesPresented
                | rustls::Error::InvalidCertRevocationList(_)
        )
    };
    crate::engine::error::causes(e)
        .filter_map(|c| c.downcast_ref::<rustls::Error>())
        .any(refused)
}

/// A registry failure whose cause is a refused certificate (see [`certificate_refused`]).
pub fn tls_error(source: reqwest::Error) -> EngineError {
    EngineError::caused(ErrorKind::Registry, "TLS", source)
}

/// Whether `e` is a failure made by [`tls_error`] or another with a refused certificate among
/// its causes.
pub fn is_tls_error(e: &EngineError) -> bool {
    std::error::Error::source(e).is_some_and(certificate_refused)
}

fn http_client(insecure: bool) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .danger_accept_invalid_certs(insecure)
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .user_agent(concat!("berth/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| EngineError::caused(ErrorKind::Registry, "cannot set up an HTTP client", e))
}

/// Finds the scheme `host` answers on: https, falling back to http for loopback hosts and when
/// `insecure`. Retries connection failures with backoff. Errors carry the cause only; callers
/// add image and registry.
pub async fn probe(host: &str, insecure: bool, loopback: bool) -> Result<Scheme> {
    let client = http_client(insecure)?;
    let mut attempt = 1;
    loop {
        let https = client.get(format!("https://{host}/v2/")).send().await;
        let err = match https {
            Ok(_) => return Ok(Scheme::Https),
            Err(e) if !insecure && certificate_refused(&e) => return Err(tls_error(e)),
            Err(e) => error_chain(&e),
        };
        let err = if insecure || loopback {
            match client.get(format!("http://{host}/v2/")).send().await {
                Ok(_) => return Ok(Scheme::Http),
                Err(e) => error_chain(&e),
            }
        } else {
            err
        };
        if attempt >= ATTEMPTS {
            return Err(EngineError::Registry(err));
        }
        tokio::time::sleep(backoff(attempt)).await;
        attempt += 1;
    }
}

/// A `WWW-Authenticate` challenge: scheme and parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// `basic` or `bearer` (lower case).
    pub scheme: String,
    /// Parameters such as realm and service.
    pub params: Vec<(String, String)>,
}

impl Challenge {
    /// The value of parameter `key` (case-insensitive).
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

/// The token in a token service's answer (`token`, or OAuth's `access_token`).
pub fn bearer_token(body: &serde_json::Value) -> Option<&str> {
    body.get("token")
        .or_else(|| body.get("access_token"))
        .and_then(|t| t.as_str())
}

/// Parses `Bearer realm="…",service="…"` (one challenge; quoted or bare values).
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    let mut params = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.peek().copied() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        params.push((key.trim().to_string(), value.trim().to_string()));
    }
    Some(Challenge {
        scheme: scheme.to_ascii_lowercase(),
        params,
    })
}

/// Checks `creds` against `host` the way `docker login` does: `/v2/` with basic auth, or a
/// token from the realm the registry names and `/v2/` with that token.
pub async fn verify_login(host: &str, creds: &Credentials, tls_verify: bool) -> Result<()> {
    let api = api_host(host);
    let insecure = !tls_verify;
    let scheme = probe(api, insecure, is_loopback_host(api))
        .await
        .map_err(|e| {
            EngineError::caused(ErrorKind::Registry, format!("cannot log in to {host}"), e)
        })?;
    let client = http_client(insecure)?;
    let v2 = format!("{}://{api}/v2/", scheme.as_str());
    let net = |e: reqwest::Error| {
        EngineError::Registry(format!("cannot log in to {host}: {}", error_chain(&e)))
    };
    let denied = || {
        EngineError::Unauthorized(format!(
            "login to {host} failed: unauthorized (wrong user name or password)"
        ))
    };
    let first = client.get(&v2).send().await.map_err(net)?;
    if first.status().is_success() {
        return Ok(());
    }
    if first.status() != reqwest::StatusCode::UNAUTHORIZED {
        return Err(EngineError::Registry(format!(
            "cannot log in to {host}: {v2} answered {}",
            first.status()
        )));
    }
    let challenge = first
        .headers()
        .get(reqwest::header::WWW_AUTHENTICATE)
        .and_then(|h| h.to_str().ok())
        .and_then(parse_challenge);
    let authed = match challenge {
        Some(c) if c.scheme == "bearer" => {
            let realm = c.param("realm").ok_or_else(|| {
                EngineError::Registry(format!(
                    "cannot log in to {host}: token challenge has no realm"
                ))
            })?;
            let mut query = vec![("account", creds.username.as_str())];
            if let Some(service) = c.param("service") {
                query.push(("service", service));
            }
            let resp = client
                .get(realm)
                .query(&query)
                .basic_auth(&creds.username, Some(&creds.password))
                .send()
                .await
                .map_err(net)?;
            if matches!(resp.status().as_u16(), 401 | 403) {
                return Err(denied());
            }
            if !resp.status().is_success() {
                return Err(EngineError::Registry(format!(
                    "cannot log in to {host}: token service {realm} answered {}",
                    resp.status()
                )));
            }
            let body: serde_json::Value = resp.json().await.map_err(net)?;
            let token = bearer_token(&body).ok_or_else(|| {
                EngineError::Registry(format!(
                    "cannot log in to {host}: token service {realm} sent no token"
                ))
            })?;
            client
                .get(&v2)
                .bearer_auth(token)
                .send()
                .await
                .map_err(net)?
        }
        _ => client
            .get(&v2)
            .basic_auth(&creds.username, Some(&creds.password))
            .send()
            .await
            .map_err(net)?,
    };
    match authed.status().as_u16() {
        200..=299 => Ok(()),
        401 | 403 => Err(denied()),
        other => Err(EngineError::Registry(format!(
            "cannot log in to {host}: {v2} answered {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_challenges() {
        let c = parse_challenge(
            r#"Bearer realm="http://127.0.0.1:1/token",service="reg, x",scope="repository:a:pull""#,
        )
        .unwrap();
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.param("realm"), Some("http://127.0.0.1:1/token"));
        assert_eq!(c.param("service"), Some("reg, x"));
        let c = parse_challenge(r#"Basic realm=Registry"#).unwrap();
        assert_eq!(c.scheme, "basic");
        assert_eq!(c.param("REALM"), Some("Registry"));
    }

    /// A TLS server on 127.0.0.1 with a self-signed certificate, answering `n` handshakes.
    fn self_signed_server(n: usize) -> String {
        use std::sync::Arc;
        let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
        let key =
            rustls::pki_types::PrivateKeyDer::Pkcs8(certified.key_pair.serialize_der().into());
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .unwrap();
        let config = Arc::new(config);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        std::thread::spawn(move || {
            for mut sock in listener.incoming().take(n).flatten() {
                let mut conn = rustls::ServerConnection::new(config.clone()).unwrap();
                // The client refuses the certificate: the handshake fails, as it should.
                let _ = conn.complete_io(&mut sock);
            }
        });
        addr
    }

    #[tokio::test]
    async fn a_refused_certificate_is_a_tls_error_by_its_cause() {
        let addr = self_signed_server(1);
        let e = probe(&addr, false, true).await.unwrap_err();
        assert!(is_tls_error(&e), "{e:?}");
        assert!(e.is(ErrorKind::Registry));
        let text = e.to_string();
        assert!(text.starts_with("TLS: "), "{text}");
    }

    #[tokio::test]
    async fn a_refused_certificate_fails_the_login_with_its_cause() {
        let addr = self_signed_server(1);
        let creds = Credentials {
            username: "u".into(),
            password: "p".into(),
        };
        let e = verify_login(&addr, &creds, true).await.unwrap_err();
        assert!(is_tls_error(&e), "{e:?}");
        assert!(
            e.to_string()
                .starts_with(&format!("cannot log in to {addr}: TLS: ")),
            "{e}"
        );
    }

    #[test]
    fn other_failures_are_not_tls_errors() {
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(!certificate_refused(&io));
        assert!(!is_tls_error(&EngineError::Registry(
            "TLS certificate".into()
        )));
    }
}
