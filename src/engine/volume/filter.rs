//! `--filter` for `volume ls` and `volume prune`: `dangling=true|false`, `name=REGEX`,
//! `label=KEY[=VALUE]`, `label!=KEY[=VALUE]`, `driver=NAME`. Values of one key are alternatives;
//! different keys must all match (docker's rule).

use std::collections::BTreeMap;

use regex::Regex;

use crate::engine::error::{EngineError, Result};

/// A parsed set of filters. The default matches everything.
#[derive(Debug, Clone, Default)]
pub struct VolumeFilter {
    /// `dangling=`: only volumes no container uses (`true`) or only used ones (`false`).
    pub dangling: Option<bool>,
    /// `name=`: regular expressions matched against the name (any may match).
    pub names: Vec<Regex>,
    /// `label=`: each must be present (with the value, when given).
    pub labels: Vec<(String, Option<String>)>,
    /// `label!=`: none may be present (with the value, when given).
    pub not_labels: Vec<(String, Option<String>)>,
    /// `driver=`: any may match.
    pub drivers: Vec<String>,
}

/// Facts about one volume that filters look at.
pub struct Candidate<'a> {
    pub name: &'a str,
    pub driver: &'a str,
    pub labels: &'a BTreeMap<String, String>,
    pub in_use: bool,
}

fn split_label(v: &str) -> (String, Option<String>) {
    match v.split_once('=') {
        Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
        None => (v.to_owned(), None),
    }
}

fn has_label(labels: &BTreeMap<String, String>, (k, v): &(String, Option<String>)) -> bool {
    match (labels.get(k), v) {
        (Some(_), None) => true,
        (Some(have), Some(want)) => have == want,
        (None, _) => false,
    }
}

impl VolumeFilter {
    /// Parses `KEY=VALUE` filters as given on the command line.
    pub fn parse<S: AsRef<str>>(filters: &[S]) -> Result<VolumeFilter> {
        let mut f = VolumeFilter::default();
        for raw in filters {
            let raw = raw.as_ref();
            if let Some(value) = raw.strip_prefix("label!=") {
                f.not_labels.push(split_label(value));
                continue;
            }
            let Some((key, value)) = raw.split_once('=') else {
                return Err(EngineError::InvalidInput(format!(
                    "bad filter {raw:?}: filters are KEY=VALUE (e.g. dangling=true, name=data, \
                     label=env=prod)"
                )));
            };
            match key {
                "dangling" => {
                    let want = match value.to_ascii_lowercase().as_str() {
                        "true" | "1" => true,
                        "false" | "0" => false,
                        _ => {
                            return Err(EngineError::InvalidInput(format!(
                                "bad filter {raw:?}: dangling takes true or false"
                            )))
                        }
                    };
                    if f.dangling.is_some_and(|d| d != want) {
                        return Err(EngineError::InvalidInput(
                            "dangling=true and dangling=false together match nothing; give one"
                                .into(),
                        ));
                    }
                    f.dangling = Some(want);
                }
                "name" => f.names.push(Regex::new(value).map_err(|e| {
                    EngineError::InvalidInput(format!(
                        "bad filter {raw:?}: {value:?} is not a regular expression: {e}"
                    ))
                })?),
                "label" => f.labels.push(split_label(value)),
                "driver" => f.drivers.push(value.to_owned()),
                _ => {
                    return Err(EngineError::InvalidInput(format!(
                        "unknown filter {key:?}; volume filters are dangling, name, label, \
                         label! and driver"
                    )))
                }
            }
        }
        Ok(f)
    }

    /// Whether a volume passes every filter.
    pub fn matches(&self, c: &Candidate<'_>) -> bool {
        if self.dangling.is_some_and(|d| d == c.in_use) {
            return false;
        }
        if !self.names.is_empty() && !self.names.iter().any(|r| r.is_match(c.name)) {
            return false;
        }
        if !self.drivers.is_empty() && !self.drivers.iter().any(|d| d == c.driver) {
            return false;
        }
        self.labels.iter().all(|l| has_label(c.labels, l))
            && !self.not_labels.iter().any(|l| has_label(c.labels, l))
    }

    /// Whether a filter other than labels was given (prune accepts only labels).
    pub fn has_non_label(&self) -> bool {
        self.dangling.is_some() || !self.names.is_empty() || !self.drivers.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand<'a>(
        name: &'a str,
        labels: &'a BTreeMap<String, String>,
        in_use: bool,
    ) -> Candidate<'a> {
        Candidate {
            name,
            driver: "local",
            labels,
            in_use,
        }
    }

    #[test]
    fn combines_keys_with_and_values_with_or() {
        let mut labels = BTreeMap::new();
        labels.insert("env".to_owned(), "prod".to_owned());
        let none = BTreeMap::new();
        let f = VolumeFilter::parse(&["dangling=true", "name=^db", "name=cache"]).unwrap();
        assert!(f.matches(&cand("db1", &none, false)));
        assert!(f.matches(&cand("mycache", &none, false)));
        assert!(!f.matches(&cand("db1", &none, true)));
        assert!(!f.matches(&cand("web", &none, false)));

        let f = VolumeFilter::parse(&["label=env=prod"]).unwrap();
        assert!(f.matches(&cand("a", &labels, true)));
        assert!(!f.matches(&cand("a", &none, true)));
        let f = VolumeFilter::parse(&["label=env"]).unwrap();
        assert!(f.matches(&cand("a", &labels, true)));
        let f = VolumeFilter::parse(&["label=env=dev"]).unwrap();
        assert!(!f.matches(&cand("a", &labels, true)));
        let f = VolumeFilter::parse(&["label!=env"]).unwrap();
        assert!(!f.matches(&cand("a", &labels, true)));
        assert!(f.matches(&cand("a", &none, true)));
        let f = VolumeFilter::parse(&["dangling=false", "driver=local"]).unwrap();
        assert!(f.matches(&cand("a", &none, true)));
        assert!(!f.matches(&cand("a", &none, false)));
    }

    #[test]
    fn refuses_bad_filters() {
        for (bad, want) in [
            ("dangling", "KEY=VALUE"),
            ("dangling=maybe", "true or false"),
            ("color=red", "unknown filter"),
            ("name=(", "regular expression"),
        ] {
            let err = VolumeFilter::parse(&[bad]).unwrap_err().to_string();
            assert!(err.contains(want), "{bad}: {err}");
        }
        assert!(VolumeFilter::parse(&["dangling=true", "dangling=false"]).is_err());
    }
}
