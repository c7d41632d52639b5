//! `--label`/`-l` and `--label-file`: the container's labels, its image's with the user's
//! applied (as docker merges them).

use std::collections::BTreeMap;

use crate::engine::error::{EngineError, Result};

/// `image`'s labels with `entries` (`KEY=VALUE`, or `KEY` for an empty value) applied in order.
pub fn merge(
    image: Option<&BTreeMap<String, String>>,
    entries: &[String],
) -> Result<BTreeMap<String, String>> {
    let mut labels = image.cloned().unwrap_or_default();
    for e in entries {
        let (k, v) = e.split_once('=').unwrap_or((e.as_str(), ""));
        if k.trim().is_empty() {
            return Err(EngineError::InvalidInput(format!(
                "invalid label {e:?}: the name is empty; use --label KEY=VALUE"
            )));
        }
        if k.chars().any(char::is_whitespace) {
            return Err(EngineError::InvalidInput(format!(
                "invalid label {e:?}: the name {k:?} contains whitespace; use --label KEY=VALUE"
            )));
        }
        labels.insert(k.to_string(), v.to_string());
    }
    Ok(labels)
}

/// The entries of a `--label-file`'s text: one per line, blank lines and `#` comments skipped.
pub fn file_entries(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.trim_start().trim_end_matches(['\r', '\n']))
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_labels_override_the_image_and_bad_names_are_refused() {
        let image = BTreeMap::from([("a".to_string(), "img".to_string())]);
        let got = merge(Some(&image), &["a=1".into(), "b".into(), "c=x=y".into()]).unwrap();
        assert_eq!(got["a"], "1");
        assert_eq!(got["b"], "");
        assert_eq!(got["c"], "x=y");
        assert!(merge(None, &["=v".into()])
            .unwrap_err()
            .to_string()
            .contains("the name is empty"));
        assert_eq!(file_entries("# c\n\nk=v\r\n  j=w\n"), vec!["k=v", "j=w"]);
    }
}
