//! `search`: a registry's catalog (`/v2/_catalog`, with the stored credentials) filtered by a
//! term, or Docker Hub's search API for a term without a registry host.

use std::time::Duration;

use super::upload::Uploader;
use crate::engine::compat::rows::SearchRow;
use crate::engine::error::{EngineError, Result};
use crate::engine::Engine;

/// Catalog entries asked for per request (distribution's maximum).
const PAGE: usize = 1000;

/// Most results asked for at once (docker's bound).
pub const MAX_LIMIT: usize = 100;

/// Splits `host/term` when the first component names a registry host (a dot, a port, or
/// `localhost`), as docker does; `None` for a Docker Hub term.
pub fn split_registry(term: &str) -> Option<(&str, &str)> {
    let (host, rest) = term.split_once('/')?;
    (host.contains('.') || host.contains(':') || host == "localhost").then_some((host, rest))
}

/// The catalog's repositories that contain `term` (case-insensitively), `host/name`, sorted.
pub fn matching(host: &str, repositories: &[String], term: &str) -> Vec<SearchRow> {
    let want = term.to_ascii_lowercase();
    let mut out: Vec<SearchRow> = repositories
        .iter()
        .filter(|r| r.to_ascii_lowercase().contains(&want))
        .map(|r| SearchRow {
            name: format!("{host}/{r}"),
            ..SearchRow::default()
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

impl Engine {
    /// Searches `term` (`HOST/TERM` for a registry's catalog), at most `limit` results.
    pub async fn search(
        &self,
        term: &str,
        limit: usize,
        tls_verify: bool,
    ) -> Result<Vec<SearchRow>> {
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(EngineError::InvalidInput(format!(
                "limit {limit} is outside the range of [1, {MAX_LIMIT}]"
            )));
        }
        match split_registry(term) {
            Some((host, query)) => {
                let scopes = ["registry:catalog:*".to_string()];
                let up = Uploader::connect_scoped(host, "", tls_verify, &scopes).await?;
                // Pages of 1000 (the registry's maximum), at most 50 of them.
                let mut repos: Vec<String> = Vec::new();
                for _ in 0..50 {
                    let path = match repos.last() {
                        Some(last) => format!("_catalog?n={PAGE}&last={last}"),
                        None => format!("_catalog?n={PAGE}"),
                    };
                    let v = up.get_json(&path).await?;
                    let page: Vec<String> = v["repositories"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|x| x.as_str().map(String::from))
                                .collect()
                        })
                        .unwrap_or_default();
                    let full = page.len() == PAGE;
                    repos.extend(page);
                    if !full {
                        break;
                    }
                }
                let mut rows = matching(host, &repos, query);
                rows.truncate(limit);
                Ok(rows)
            }
            None => hub_search(term, limit).await,
        }
    }
}

/// Docker Hub's `/v1/search`.
async fn hub_search(term: &str, limit: usize) -> Result<Vec<SearchRow>> {
    let unreachable = |e: String| {
        EngineError::Registry(format!(
            "cannot reach Docker Hub's search (index.docker.io): {e}; search a registry's \
             catalog with HOST/TERM"
        ))
    };
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| unreachable(e.to_string()))?;
    let resp = client
        .get("https://index.docker.io/v1/search")
        .query(&[("q", term), ("n", &limit.to_string())])
        .send()
        .await
        .map_err(|e| unreachable(super::registry_http::error_chain(&e)))?;
    if !resp.status().is_success() {
        return Err(unreachable(format!("it answered {}", resp.status())));
    }
    let v: serde_json::Value = resp.json().await.map_err(|e| unreachable(e.to_string()))?;
    let mut rows: Vec<SearchRow> = v["results"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| SearchRow {
                    name: r["name"].as_str().unwrap_or_default().to_string(),
                    description: r["description"].as_str().unwrap_or_default().to_string(),
                    star_count: r["star_count"].as_u64().unwrap_or(0),
                    is_official: r["is_official"].as_bool().unwrap_or(false),
                })
                .collect()
        })
        .unwrap_or_default();
    rows.truncate(limit);
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_terms_and_catalog_matches() {
        assert_eq!(
            split_registry("127.0.0.1:5000/busy"),
            Some(("127.0.0.1:5000", "busy"))
        );
        assert_eq!(split_registry("localhost/x"), Some(("localhost", "x")));
        assert_eq!(split_registry("library/busybox"), None);
        assert_eq!(split_registry("busybox"), None);
        let repos = vec![
            "test/BusyBox".to_string(),
            "a/nginx".into(),
            "busy/b".into(),
        ];
        let rows = matching("h:1", &repos, "busy");
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["h:1/busy/b", "h:1/test/BusyBox"]);
    }
}
