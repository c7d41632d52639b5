//! `import -c`/`commit -c`: Dockerfile instructions applied to an image config (docker's
//! allowed set: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD is refused, USER, VOLUME,
//! WORKDIR, STOPSIGNAL).

use std::collections::BTreeMap;

use super::record::ImageConfig;
use crate::engine::error::{EngineError, Result};

fn bad(change: &str, why: &str) -> EngineError {
    EngineError::InvalidInput(format!("invalid change \"{change}\": {why}"))
}

/// Splits shell-like words: quotes ('…', "…") group, a backslash escapes the next character.
pub fn words(s: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some(q) if q == c => break,
                        Some('\\') if c == '"' => cur.extend(chars.next()),
                        Some(x) => cur.push(x),
                        None => {
                            return Err(EngineError::InvalidInput(format!(
                                "unterminated quote in \"{s}\""
                            )))
                        }
                    }
                }
            }
            '\\' => {
                in_word = true;
                cur.extend(chars.next());
            }
            c if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    Ok(out)
}

/// A JSON array of strings, or the shell form run by `/bin/sh -c`.
fn command(change: &str, rest: &str) -> Result<Vec<String>> {
    if rest.starts_with('[') {
        serde_json::from_str(rest).map_err(|_| bad(change, "not a JSON array of strings"))
    } else {
        Ok(vec!["/bin/sh".into(), "-c".into(), rest.to_string()])
    }
}

fn pairs(change: &str, rest: &str) -> Result<Vec<(String, String)>> {
    let ws = words(rest)?;
    if ws.len() >= 2 && !ws[0].contains('=') {
        // The legacy `ENV key value…` form.
        let (k, v) = rest
            .trim()
            .split_once(char::is_whitespace)
            .ok_or_else(|| bad(change, "needs a value"))?;
        return Ok(vec![(k.to_string(), v.trim().to_string())]);
    }
    ws.into_iter()
        .map(|w| {
            w.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| bad(change, "expected KEY=VALUE"))
        })
        .collect()
}

/// Applies the instructions `changes` to `config`.
pub fn apply(config: &mut ImageConfig, changes: &[String]) -> Result<()> {
    for change in changes {
        let trimmed = change.trim();
        let (word, rest) = trimmed
            .split_once(char::is_whitespace)
            .unwrap_or((trimmed, ""));
        let rest = rest.trim();
        if rest.is_empty() {
            return Err(bad(change, "the instruction needs an argument"));
        }
        match word.to_ascii_uppercase().as_str() {
            "CMD" => config.cmd = Some(command(change, rest)?),
            "ENTRYPOINT" => config.entrypoint = Some(command(change, rest)?),
            "ENV" => {
                let env = config.env.get_or_insert_with(Vec::new);
                for (k, v) in pairs(change, rest)? {
                    env.retain(|e| e.split_once('=').map(|x| x.0) != Some(k.as_str()));
                    env.push(format!("{k}={v}"));
                }
            }
            "LABEL" => {
                let labels = config.labels.get_or_insert_with(BTreeMap::new);
                for (k, v) in pairs(change, rest)? {
                    labels.insert(k, v);
                }
            }
            "EXPOSE" => {
                let ports = config.exposed_ports.get_or_insert_with(BTreeMap::new);
                for p in words(rest)? {
                    let p = if p.contains('/') {
                        p
                    } else {
                        format!("{p}/tcp")
                    };
                    ports.insert(p, serde_json::json!({}));
                }
            }
            "VOLUME" => {
                let list: Vec<String> = if rest.starts_with('[') {
                    serde_json::from_str(rest)
                        .map_err(|_| bad(change, "not a JSON array of strings"))?
                } else {
                    words(rest)?
                };
                let vols = config.volumes.get_or_insert_with(BTreeMap::new);
                for v in list {
                    vols.insert(v, serde_json::json!({}));
                }
            }
            "USER" => config.user = Some(rest.to_string()),
            "WORKDIR" => config.working_dir = Some(rest.to_string()),
            "STOPSIGNAL" => config.stop_signal = Some(rest.to_string()),
            other => {
                return Err(bad(
                    change,
                    &format!(
                        "{other} is not allowed (only CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, \
                         STOPSIGNAL, USER, VOLUME, WORKDIR)"
                    ),
                ))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_apply_as_docker_reads_them() {
        let mut c = ImageConfig::default();
        apply(
            &mut c,
            &[
                r#"CMD ["echo", "hi"]"#.into(),
                "ENTRYPOINT /bin/run it".into(),
                "ENV A=1 B=\"two words\"".into(),
                "env C three four".into(),
                "ENV A=again".into(),
                "EXPOSE 80 53/udp".into(),
                "LABEL x=y".into(),
                "WORKDIR /srv".into(),
                "USER nobody".into(),
                "VOLUME /data /logs".into(),
            ],
        )
        .unwrap();
        assert_eq!(c.cmd.unwrap(), ["echo", "hi"]);
        assert_eq!(c.entrypoint.unwrap(), ["/bin/sh", "-c", "/bin/run it"]);
        assert_eq!(c.env.unwrap(), ["B=two words", "C=three four", "A=again"]);
        let ports = c.exposed_ports.unwrap();
        assert!(ports.contains_key("80/tcp") && ports.contains_key("53/udp"));
        assert_eq!(c.labels.unwrap()["x"], "y");
        assert_eq!(c.working_dir.unwrap(), "/srv");
        assert_eq!(c.volumes.unwrap().len(), 2);
        let mut c = ImageConfig::default();
        assert!(apply(&mut c, &["RUN rm -rf /".into()]).is_err());
        assert!(apply(&mut c, &["CMD".into()]).is_err());
        assert!(apply(&mut c, &["CMD [broken".into()]).is_err());
    }
}
