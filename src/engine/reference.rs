//! Image references, normalised the way docker and podman do.
//!
//! `busybox` becomes `docker.io/library/busybox:latest`; `host:port/repo:tag`, `localhost/repo`,
//! `repo@sha256:…` and `repo:tag@sha256:…` are understood. Anything else is refused with an error
//! that names the offending part.

use std::fmt;
use std::sync::OnceLock;

use regex::Regex;

use super::error::{EngineError, Result};

/// The registry used when a reference names none.
pub const DEFAULT_DOMAIN: &str = "docker.io";
/// The tag used when a reference names neither tag nor digest.
pub const DEFAULT_TAG: &str = "latest";
const LEGACY_DOMAIN: &str = "index.docker.io";
const OFFICIAL_PREFIX: &str = "library";
const MAX_NAME_LEN: usize = 255;

/// A fully normalised image reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImageRef {
    /// Registry host, with port if any (`docker.io`, `127.0.0.1:5000`).
    pub domain: String,
    /// Repository path inside the registry (`library/busybox`).
    pub path: String,
    /// Tag, if any. A reference with neither tag nor digest gets `latest`.
    pub tag: Option<String>,
    /// Digest (`sha256:…`), if any.
    pub digest: Option<String>,
}

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("static regex is valid"))
}

fn component_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
}

fn domain_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$",
    )
}

fn tag_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
}

fn digest_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"^[a-z][a-z0-9]*(?:[-_+.][a-z][a-z0-9]*)*:[a-fA-F0-9]{32,}$",
    )
}

fn invalid(input: &str, why: String) -> EngineError {
    EngineError::InvalidInput(format!("invalid reference \"{input}\": {why}"))
}

/// Checks that `digest` is a well-formed digest that is safe to use as a path component.
/// Only `sha256:` with 64 lower-case hex digits is accepted, so it can never name a path outside
/// the store.
pub fn validate_digest(digest: &str) -> Result<()> {
    match digest.split_once(':') {
        Some(("sha256", hex))
            if hex.len() == 64
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) =>
        {
            Ok(())
        }
        Some((algo, _)) if algo != "sha256" => Err(EngineError::InvalidInput(format!(
            "unsupported digest algorithm \"{algo}\" in \"{digest}\": only sha256 is supported"
        ))),
        _ => Err(EngineError::InvalidInput(format!(
            "invalid digest \"{digest}\": expected sha256: followed by 64 lower-case hex digits"
        ))),
    }
}

impl ImageRef {
    /// Parses and normalises a reference as docker does.
    pub fn parse(input: &str) -> Result<ImageRef> {
        if input.is_empty() {
            return Err(invalid(input, "the reference is empty".into()));
        }
        if input.trim() != input || input.contains(char::is_whitespace) {
            return Err(invalid(input, "it contains white space".into()));
        }
        let (rest, digest) = match input.split_once('@') {
            Some((rest, digest)) => {
                if !digest_re().is_match(digest) {
                    return Err(invalid(
                        input,
                        format!("\"{digest}\" is not a valid digest (expected sha256:<64 hex>)"),
                    ));
                }
                validate_digest(digest).map_err(|e| invalid(input, e.to_string()))?;
                (rest, Some(digest.to_string()))
            }
            None => (input, None),
        };
        // The tag follows the last ':' after the last '/'.
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => {
                let i = last_slash + i;
                let tag = &rest[i + 1..];
                if !tag_re().is_match(tag) {
                    return Err(invalid(
                        input,
                        format!(
                            "tag \"{tag}\" is not valid: use letters, digits, '_', '.' and '-', \
                             at most 128, not starting with '.' or '-'"
                        ),
                    ));
                }
                (&rest[..i], Some(tag.to_string()))
            }
            None => (rest, None),
        };
        if name.is_empty() {
            return Err(invalid(input, "the repository name is empty".into()));
        }
        let (domain, path) = split_domain(name);
        if let Some(domain) = &domain {
            if !domain_re().is_match(domain) {
                return Err(invalid(
                    input,
                    format!("registry host \"{domain}\" is not a valid host[:port]"),
                ));
            }
        }
        for component in path.split('/') {
            if component.is_empty() {
                return Err(invalid(
                    input,
                    "the repository path has an empty component".into(),
                ));
            }
            if component.bytes().any(|b| b.is_ascii_uppercase()) {
                return Err(invalid(
                    input,
                    format!("repository name component \"{component}\" must be lower case"),
                ));
            }
            if !component_re().is_match(component) {
                return Err(invalid(
                    input,
                    format!(
                        "repository name component \"{component}\" may hold only a-z, 0-9 and \
                         the separators '.', '_', '__' or '-' between them"
                    ),
                ));
            }
        }
        let mut domain = domain.unwrap_or_else(|| DEFAULT_DOMAIN.to_string());
        if domain == LEGACY_DOMAIN {
            domain = DEFAULT_DOMAIN.to_string();
        }
        let path = if domain == DEFAULT_DOMAIN && !path.contains('/') {
            format!("{OFFICIAL_PREFIX}/{path}")
        } else {
            path.to_string()
        };
        if domain.len() + 1 + path.len() > MAX_NAME_LEN {
            return Err(invalid(
                input,
                format!("the repository name is longer than {MAX_NAME_LEN} characters"),
            ));
        }
        let tag = match (&tag, &digest) {
            (None, None) => Some(DEFAULT_TAG.to_string()),
            _ => tag,
        };
        Ok(ImageRef {
            domain,
            path,
            tag,
            digest,
        })
    }

    /// `domain/path`, without tag or digest.
    pub fn repository(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    /// The shortest form docker would print (`busybox:latest`, `127.0.0.1:5000/a/b:t`).
    pub fn familiar(&self) -> String {
        let mut s = self.familiar_repository();
        if let Some(tag) = &self.tag {
            s.push(':');
            s.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            s.push('@');
            s.push_str(digest);
        }
        s
    }

    /// The familiar repository name without tag or digest (`busybox`, `127.0.0.1:5000/a/b`).
    /// It always parses back to this repository: `library/` is dropped only before a single
    /// component (`docker.io/library/a/b` stays `library/a/b`, as in docker), and `docker.io/`
    /// stays when the path's first component would read as a registry host
    /// (`docker.io/a.b/c`, not `a.b/c`).
    pub fn familiar_repository(&self) -> String {
        if self.domain != DEFAULT_DOMAIN {
            return self.repository();
        }
        let short = match self.path.strip_prefix("library/") {
            Some(name) if !name.contains('/') => name,
            _ => &self.path,
        };
        if split_domain(short).0.is_some() {
            return self.repository();
        }
        short.to_string()
    }

    /// What to ask the registry for: the digest if there is one, else the tag.
    pub fn reference(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or(DEFAULT_TAG)
    }

    /// `domain/path:tag` (the key under which a tag is stored), if the reference has a tag.
    pub fn tagged(&self) -> Option<String> {
        self.tag
            .as_ref()
            .map(|t| format!("{}:{t}", self.repository()))
    }

    /// `domain/path@digest` with the given digest, as docker's RepoDigests.
    pub fn with_digest(&self, digest: &str) -> String {
        format!("{}@{digest}", self.repository())
    }

    /// True when the registry is on this host (plain http is allowed there, as docker does).
    pub fn is_loopback(&self) -> bool {
        is_loopback_host(&self.domain)
    }
}

/// True for `localhost`, `127.x.x.x` and `[::1]`, with or without a port.
pub fn is_loopback_host(domain: &str) -> bool {
    let host = if let Some(rest) = domain.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        domain.split(':').next().unwrap_or("")
    };
    host == "localhost"
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Splits off the registry host as docker does: the first component is a host when it contains
/// '.' or ':', is `localhost`, or contains upper case.
fn split_domain(name: &str) -> (Option<String>, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.bytes().any(|b| b.is_ascii_uppercase()) =>
        {
            (Some(first.to_string()), rest)
        }
        _ => (None, name),
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.domain, self.path)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for ImageRef {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self> {
        ImageRef::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn ok(input: &str, want: &str) {
        let r = ImageRef::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(r.to_string(), want, "{input}");
    }

    fn bad(input: &str, needle: &str) {
        let e = ImageRef::parse(input).expect_err(input).to_string();
        assert!(e.contains(needle), "{input}: {e} should mention {needle}");
    }

    #[test]
    fn normalises_like_docker() {
        ok("busybox", "docker.io/library/busybox:latest");
        ok("busybox:1.36", "docker.io/library/busybox:1.36");
        ok("library/busybox", "docker.io/library/busybox:latest");
        ok("user/repo", "docker.io/user/repo:latest");
        ok("docker.io/busybox", "docker.io/library/busybox:latest");
        ok(
            "index.docker.io/busybox",
            "docker.io/library/busybox:latest",
        );
        ok("localhost/foo", "localhost/foo:latest");
        ok("localhost:5000/foo/bar:v1", "localhost:5000/foo/bar:v1");
        ok(
            "127.0.0.1:5000/test/busybox",
            "127.0.0.1:5000/test/busybox:latest",
        );
        ok("quay.io/a/b/c:1.0-rc_1", "quay.io/a/b/c:1.0-rc_1");
        ok("[::1]:5000/x", "[::1]:5000/x:latest");
        ok("a.b-c/e__f.g--h", "a.b-c/e__f.g--h:latest");
        bad("foo/e..f", "\"e..f\"");
        bad("a_b.com/x", "registry host");
        ok("Example.com/foo", "Example.com/foo:latest");
        ok(
            &format!("busybox@{D}"),
            &format!("docker.io/library/busybox@{D}"),
        );
        ok(
            &format!("busybox:1@{D}"),
            &format!("docker.io/library/busybox:1@{D}"),
        );
        ok("foo.com:8080/x", "foo.com:8080/x:latest");
    }

    #[test]
    fn refuses_bad_parts_and_names_them() {
        bad("", "empty");
        bad("Busybox", "lower case");
        bad("foo/Bar", "\"Bar\"");
        bad("foo/-bar", "\"-bar\"");
        bad("foo//bar", "empty component");
        bad("foo:bad tag", "white space");
        bad("foo:-x", "tag \"-x\"");
        bad(&format!("foo:{}", "a".repeat(129)), "tag");
        bad("foo@sha256:abc", "not a valid digest");
        bad("foo@md5:0123456789abcdef0123456789abcdef", "only sha256");
        bad(
            "foo@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
            "lower-case",
        );
        bad(":tag", "empty");
        bad("-host.com/x", "registry host");
        bad(&format!("x/{}", "a".repeat(260)), "longer than");
        bad("foo$/bar", "\"foo$\"");
    }

    #[test]
    fn helpers() {
        let r = ImageRef::parse("busybox").unwrap();
        assert_eq!(r.familiar(), "busybox:latest");
        assert_eq!(r.reference(), "latest");
        assert!(!r.is_loopback());
        let r = ImageRef::parse("127.0.0.1:5000/t/b:x").unwrap();
        assert!(r.is_loopback());
        assert_eq!(r.familiar(), "127.0.0.1:5000/t/b:x");
        assert!(is_loopback_host("localhost:80"));
        assert!(is_loopback_host("[::1]:80"));
        assert!(!is_loopback_host("10.0.0.1:80"));
        validate_digest(D).unwrap();
        assert!(validate_digest("sha256:../../etc/passwd").is_err());
    }

    /// Inputs from `fuzz/` (target `reference`): the familiar form dropped `library/` before a
    /// path with more components, or `docker.io/` before a component that reads as a host, and
    /// so named another repository or even another registry.
    #[test]
    fn familiar_form_names_the_same_repository() {
        for (input, want) in [
            (
                "docker.io/library/busyboxdocker.io/library1/27:latest",
                "library/busyboxdocker.io/library1/27:latest",
            ),
            ("docker.io/library/a/b", "library/a/b:latest"),
            ("docker.io/a.b/c:t", "docker.io/a.b/c:t"),
            ("docker.io/library/localhost", "localhost:latest"),
            ("docker.io/library/busybox:1", "busybox:1"),
            ("docker.io/user/app", "user/app:latest"),
        ] {
            let r = ImageRef::parse(input).unwrap();
            assert_eq!(r.familiar(), want, "{input}");
            assert_eq!(ImageRef::parse(&r.familiar()).unwrap(), r, "{input}");
            let repo = ImageRef::parse(&r.familiar_repository()).unwrap();
            assert_eq!(repo.repository(), r.repository(), "{input}");
        }
    }

    proptest::proptest! {
        #[test]
        fn parse_format_is_identity(
            domain in proptest::option::of("(localhost|[a-z][a-z0-9]{0,8}\\.[a-z]{2,3})(:[1-9][0-9]{0,4})?"),
            comps in proptest::collection::vec("[a-z0-9]{1,5}([._-][a-z0-9]{1,5})?", 1..4),
            tag in proptest::option::of("[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}"),
            digest in proptest::option::of("[a-f0-9]{64}"),
        ) {
            let mut s = String::new();
            if let Some(d) = &domain { s.push_str(d); s.push('/'); }
            s.push_str(&comps.join("/"));
            if let Some(t) = &tag { s.push(':'); s.push_str(t); }
            if let Some(d) = &digest { s.push_str("@sha256:"); s.push_str(d); }
            let parsed = ImageRef::parse(&s).unwrap();
            let again = ImageRef::parse(&parsed.to_string()).unwrap();
            proptest::prop_assert_eq!(&parsed, &again);
            proptest::prop_assert_eq!(parsed.to_string(), again.to_string());
            let familiar = ImageRef::parse(&parsed.familiar()).unwrap();
            proptest::prop_assert_eq!(parsed, familiar);
        }
    }
}
