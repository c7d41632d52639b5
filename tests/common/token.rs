//! A token issuer for the registry's token auth (the Docker Hub flow), std::net only.
//!
//! `GET /token?service=S&scope=repository:NAME:ACTIONS[&scope=…][&account=U]` with Basic
//! credentials answers `{"token":JWT,"access_token":JWT,"expires_in":300,"issued_at":…}`. The JWT
//! is ES256-signed; its header carries `x5c` = [base64 DER of a self-signed certificate], and that
//! certificate is the registry's `rootcertbundle`. Claims: `iss` = [`ISSUER`], `aud` = the
//! service, `sub`, `exp`, `nbf`, `iat`, `jti`, `access` = the requested repository scopes with
//! only the `pull`/`push`/`delete` actions. Anonymous or wrong credentials get 401, a wrong
//! service 400, any other path 404. The issuer runs on its own loopback port in a thread and is
//! stopped (and joined) in Drop.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::json;

/// The registry's `auth.token.service`, the `aud` of every token.
pub const SERVICE: &str = "berth-test-registry";
/// The registry's `auth.token.issuer`, the `iss` of every token.
pub const ISSUER: &str = "berth-test-issuer";
/// Lifetime of a token in seconds.
pub const EXPIRES_IN: u64 = 300;

/// The process-wide signing key and its self-signed certificate.
struct SigningKey {
    pkcs8: Vec<u8>,
    cert_der: Vec<u8>,
}

fn signing_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let key = rcgen::KeyPair::generate().expect("generate P-256 key");
        let mut params = rcgen::CertificateParams::new(vec!["berth-test-token-issuer".to_string()])
            .expect("certificate params");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "berth test token issuer");
        let cert = params.self_signed(&key).expect("self-signed certificate");
        SigningKey {
            pkcs8: key.serialize_der(),
            cert_der: cert.der().to_vec(),
        }
    })
}

/// The certificate in PEM form (the registry's `rootcertbundle`).
pub fn cert_pem() -> String {
    let b64 = STANDARD.encode(&signing_key().cert_der);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem
}

/// Signs `claims` as an ES256 JWT with the `x5c` header.
pub fn sign_jwt(claims: &serde_json::Value) -> String {
    use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
    let key = signing_key();
    let rng = ring::rand::SystemRandom::new();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &key.pkcs8, &rng)
        .expect("PKCS#8 key from rcgen");
    let header = json!({"typ": "JWT", "alg": "ES256", "x5c": [STANDARD.encode(&key.cert_der)]});
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = pair
        .sign(&rng, signing_input.as_bytes())
        .expect("ECDSA sign");
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
}

/// Counters the tests can read.
#[derive(Default)]
struct Stats {
    requests: AtomicUsize,
    granted: AtomicUsize,
}

/// A running token issuer; stopped in Drop.
pub struct TokenIssuer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    stats: Arc<Stats>,
    thread: Option<JoinHandle<()>>,
}

impl TokenIssuer {
    /// Starts an issuer on 127.0.0.1:<free port> that grants tokens to `user`/`pass`.
    pub fn start(user: &str, pass: &str) -> TokenIssuer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind token issuer on loopback");
        let addr = listener.local_addr().expect("issuer address");
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(Stats::default());
        let creds = (user.to_string(), pass.to_string());
        let thread = {
            let (stop, stats) = (stop.clone(), stats.clone());
            std::thread::Builder::new()
                .name("token-issuer".into())
                .spawn(move || {
                    for conn in listener.incoming() {
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        if let Ok(stream) = conn {
                            handle(stream, &creds, &stats);
                        }
                    }
                })
                .expect("spawn token issuer thread")
        };
        TokenIssuer {
            addr,
            stop,
            stats,
            thread: Some(thread),
        }
    }

    /// The registry's `auth.token.realm`.
    pub fn realm(&self) -> String {
        format!("http://{}/token", self.addr)
    }

    /// Token requests answered so far (granted or not).
    pub fn requests(&self) -> usize {
        self.stats.requests.load(Ordering::SeqCst)
    }

    /// Tokens issued so far.
    pub fn granted(&self) -> usize {
        self.stats.granted.load(Ordering::SeqCst)
    }
}

impl Drop for TokenIssuer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept; the loop then sees the flag and ends.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn handle(mut stream: TcpStream, creds: &(String, String), stats: &Stats) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 65536 {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    if buf.is_empty() {
        return; // the wake-up connection from Drop, or a client that gave up
    }
    stats.requests.fetch_add(1, Ordering::SeqCst);
    let (status, body) = respond(&String::from_utf8_lossy(&buf), creds, stats);
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        _ => "Not Found",
    };
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if status == 401 {
        head.push_str("WWW-Authenticate: Basic realm=\"berth-test-issuer\"\r\n");
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
    let _ = stream.flush();
}

fn error(status: u16, code: &str, message: &str) -> (u16, String) {
    (
        status,
        json!({"errors": [{"code": code, "message": message}]}).to_string(),
    )
}

/// Answers one request: (status, JSON body).
fn respond(request: &str, creds: &(String, String), stats: &Stats) -> (u16, String) {
    let mut lines = request.split("\r\n");
    let mut parts = lines.next().unwrap_or("").split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if method != "GET" || path != "/token" {
        return error(404, "NOT_FOUND", "only GET /token is served here");
    }
    let params: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect();
    let service = params
        .iter()
        .find(|(k, _)| k == "service")
        .map(|(_, v)| v.as_str());
    if service != Some(SERVICE) {
        return error(400, "INVALID_REQUEST", "unknown or missing service");
    }
    let given = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("authorization"))
        .and_then(|(_, v)| basic_credentials(v.trim()));
    let Some((user, pass)) = given else {
        return error(401, "UNAUTHORIZED", "authentication required");
    };
    if user != creds.0 || pass != creds.1 {
        return error(401, "UNAUTHORIZED", "wrong user name or password");
    }
    let access: Vec<serde_json::Value> = params
        .iter()
        .filter(|(k, _)| k == "scope")
        .flat_map(|(_, v)| v.split(' ').map(str::to_string).collect::<Vec<_>>())
        .filter_map(|scope| grant(&scope))
        .collect();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let jti = stats.granted.fetch_add(1, Ordering::SeqCst);
    let claims = json!({
        "iss": ISSUER,
        "sub": user,
        "aud": SERVICE,
        "exp": now + EXPIRES_IN,
        "nbf": now.saturating_sub(10),
        "iat": now,
        "jti": format!("berth-test-{}-{jti}", std::process::id()),
        "access": access,
    });
    let token = sign_jwt(&claims);
    let issued_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let body = json!({"token": token, "access_token": token, "expires_in": EXPIRES_IN, "issued_at": issued_at});
    (200, body.to_string())
}

/// `repository:NAME:a,b` → {type, name, actions ∩ {pull, push, delete}}.
fn grant(scope: &str) -> Option<serde_json::Value> {
    let (kind, rest) = scope.split_once(':')?;
    let (name, actions) = rest.rsplit_once(':')?;
    if kind != "repository" || name.is_empty() {
        return None;
    }
    let actions: Vec<&str> = actions
        .split(',')
        .filter(|a| matches!(*a, "pull" | "push" | "delete"))
        .collect();
    Some(json!({"type": kind, "name": name, "actions": actions}))
}

fn basic_credentials(value: &str) -> Option<(String, String)> {
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (u, p) = decoded.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
