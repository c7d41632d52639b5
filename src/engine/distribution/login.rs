//! `login` and `logout`: credentials checked against a registry and kept in the user's
//! credential file (see [`super::credentials`]). They need no engine root: credentials belong
//! to the user, as docker's do.

use super::credentials::{self, Credentials};
use super::reference::DEFAULT_DOMAIN;
use super::registry_http::verify_login;
use crate::engine::error::{EngineError, Result};

/// The registry host `server` names (Docker Hub when `None`), as credentials are keyed.
pub fn registry_host(server: Option<&str>) -> Result<String> {
    let raw = server.unwrap_or(DEFAULT_DOMAIN);
    let host = credentials::normalize_host(raw);
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(EngineError::InvalidInput(format!(
            "invalid registry \"{raw}\": expected host[:port]"
        )));
    }
    Ok(host)
}

/// Checks `creds` against the registry `server` names and, when it accepts them, stores them.
/// Returns the registry host.
pub async fn login(server: Option<&str>, creds: Credentials, tls_verify: bool) -> Result<String> {
    let host = registry_host(server)?;
    if creds.username.is_empty() || creds.password.is_empty() {
        return Err(EngineError::InvalidInput(
            "user name and password must not be empty".into(),
        ));
    }
    verify_login(&host, &creds, tls_verify).await?;
    credentials::store(&host, &creds)?;
    Ok(host)
}

/// Forgets the credentials of the registry `server` names; `NotFound` when there are none.
/// Returns the registry host.
pub fn logout(server: Option<&str>) -> Result<String> {
    let host = registry_host(server)?;
    if credentials::remove(&host)? {
        Ok(host)
    } else {
        Err(EngineError::NotFound(format!(
            "not logged in to {host} (berth stores no credentials for it)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registry_host_is_normalised_and_checked() {
        assert_eq!(registry_host(None).unwrap(), DEFAULT_DOMAIN);
        assert_eq!(
            registry_host(Some("https://localhost:5000/")).unwrap(),
            credentials::normalize_host("https://localhost:5000/")
        );
        let e = registry_host(Some("bad host")).unwrap_err();
        assert!(e.is(crate::engine::ErrorKind::InvalidInput), "{e}");
    }
}
