//! The instructions that only change the image config (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL,
//! ONBUILD, USER, VOLUME, WORKDIR, STOPSIGNAL, HEALTHCHECK, SHELL, MAINTAINER), shared by
//! `build` and the `-c` changes of `commit` and `import`.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::parser::{Args, Instruction};
use super::words::{expand_word, expand_words, key_values, Lookup};
use crate::engine::error::{EngineError, Result};
use crate::engine::image::ImageConfig;

/// The instructions `commit -c` and `import -c` accept (docker's list).
pub const COMMIT_CHANGES: &[&str] = &[
    "CMD",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "HEALTHCHECK",
    "LABEL",
    "ONBUILD",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// Parses `-c` values of `commit` and `import`; only docker's list of instructions is allowed.
pub fn parse_changes(changes: &[String]) -> Result<Vec<Instruction>> {
    let mut out = Vec::new();
    for c in changes {
        let df = super::parser::parse(c)
            .map_err(|e| EngineError::InvalidInput(format!("invalid change {c:?}: {e}")))?;
        for ins in df.instructions {
            if !COMMIT_CHANGES.contains(&ins.keyword.as_str()) {
                return Err(EngineError::InvalidInput(format!(
                    "{} is not a valid change command; use one of {}",
                    ins.keyword,
                    COMMIT_CHANGES.join(", ")
                )));
            }
            out.push(ins);
        }
    }
    Ok(out)
}

/// Applies parsed `-c` changes to `cfg`, variables expanded from the config's own ENV as the
/// changes go (docker applies them as the steps of a one-stage build on that config).
pub fn apply_changes(
    cfg: &mut ImageConfig,
    author: &mut Option<String>,
    changes: &[Instruction],
) -> Result<()> {
    let mut cmd_set = false;
    for ins in changes {
        let env = cfg.env.clone().unwrap_or_default();
        let vars = move |n: &str| {
            env.iter()
                .find_map(|e| e.strip_prefix(&format!("{n}=")).map(str::to_string))
        };
        apply(cfg, author, &mut cmd_set, ins, &vars, '\\')?;
    }
    Ok(())
}

/// Whether `keyword` is a config-only instruction [`apply`] handles.
pub fn is_config_instruction(keyword: &str) -> bool {
    matches!(
        keyword,
        "CMD"
            | "ENTRYPOINT"
            | "ENV"
            | "EXPOSE"
            | "LABEL"
            | "ONBUILD"
            | "USER"
            | "VOLUME"
            | "WORKDIR"
            | "STOPSIGNAL"
            | "HEALTHCHECK"
            | "SHELL"
            | "MAINTAINER"
    )
}

/// The shell that runs shell-form commands.
pub fn shell_of(cfg: &ImageConfig) -> Vec<String> {
    cfg.shell
        .clone()
        .unwrap_or_else(|| vec!["/bin/sh".into(), "-c".into()])
}

/// The command of a RUN/CMD/ENTRYPOINT: the JSON form as is, the shell form through the shell.
pub fn command_of(cfg: &ImageConfig, ins: &Instruction) -> Vec<String> {
    match &ins.args {
        Args::Json(v) => v.clone(),
        Args::Shell(s) => {
            let mut c = shell_of(cfg);
            c.push(s.clone());
            c
        }
    }
}

/// Sets `KEY=VALUE` in an env list, replacing an earlier value of KEY.
pub fn set_env(env: &mut Vec<String>, key: &str, value: &str) {
    let prefix = format!("{key}=");
    env.retain(|e| !e.starts_with(&prefix));
    env.push(format!("{key}={value}"));
}

/// Applies the config instruction `ins` to `cfg` (and `author` for MAINTAINER), expanding
/// variables with `vars` where docker does. `cmd_set` tells whether this stage (or this list
/// of changes) set CMD already: an ENTRYPOINT drops only an inherited CMD, as docker's does.
pub fn apply(
    cfg: &mut ImageConfig,
    author: &mut Option<String>,
    cmd_set: &mut bool,
    ins: &Instruction,
    vars: Lookup,
    escape: char,
) -> Result<()> {
    let text = ins.text();
    let one = |s: &str| expand_word(s.trim(), vars, escape);
    match ins.keyword.as_str() {
        "CMD" => {
            cfg.cmd = Some(command_of(cfg, ins));
            *cmd_set = true;
        }
        "ENTRYPOINT" => {
            cfg.entrypoint = Some(command_of(cfg, ins));
            // Docker: a new ENTRYPOINT drops the CMD of the base image, not one set here.
            if !*cmd_set {
                cfg.cmd = None;
            }
        }
        "ENV" => {
            let pairs = key_values(&text, vars, escape, true).map_err(|e| ins.error(e))?;
            let env = cfg.env.get_or_insert_with(Vec::new);
            for (k, v) in pairs {
                set_env(env, &k, &v);
            }
        }
        "LABEL" => {
            let pairs = key_values(&text, vars, escape, false).map_err(|e| ins.error(e))?;
            let labels = cfg.labels.get_or_insert_with(BTreeMap::new);
            for (k, v) in pairs {
                labels.insert(k, v);
            }
        }
        "EXPOSE" => {
            let ports = cfg.exposed_ports.get_or_insert_with(BTreeMap::new);
            for p in expand_words(&text, vars, escape)? {
                for port in expand_ports(&p).map_err(|e| ins.error(e))? {
                    ports.insert(port, json!({}));
                }
            }
        }
        "VOLUME" => {
            let list = match &ins.args {
                Args::Json(v) => v.clone(),
                Args::Shell(s) => expand_words(s, vars, escape)?,
            };
            if list.iter().any(|v| v.trim().is_empty()) || list.is_empty() {
                return Err(ins.error("VOLUME needs at least one non-empty path"));
            }
            let vols = cfg.volumes.get_or_insert_with(BTreeMap::new);
            for v in list {
                vols.insert(v, json!({}));
            }
        }
        "USER" => cfg.user = Some(one(&text)?),
        "WORKDIR" => {
            let dir = one(&text)?;
            if dir.is_empty() {
                return Err(ins.error("WORKDIR needs a path"));
            }
            let base = cfg.working_dir.clone().unwrap_or_else(|| "/".into());
            let joined = if dir.starts_with('/') {
                dir
            } else {
                format!("{}/{dir}", base.trim_end_matches('/'))
            };
            cfg.working_dir = Some(clean_path(&joined));
        }
        "STOPSIGNAL" => cfg.stop_signal = Some(one(&text)?),
        "MAINTAINER" => *author = Some(text.trim().to_string()),
        "SHELL" => match &ins.args {
            Args::Json(v) if !v.is_empty() => cfg.shell = Some(v.clone()),
            _ => {
                return Err(
                    ins.error("SHELL needs the JSON form, e.g. SHELL [\"/bin/bash\", \"-c\"]")
                )
            }
        },
        "ONBUILD" => {
            let rest = ins.original.trim_start()[7..].trim().to_string();
            let kw = rest
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_uppercase();
            if matches!(kw.as_str(), "ONBUILD" | "FROM" | "MAINTAINER" | "") {
                return Err(ins.error(format!("{kw} is not allowed as an ONBUILD trigger")));
            }
            cfg.on_build.get_or_insert_with(Vec::new).push(rest);
        }
        "HEALTHCHECK" => cfg.healthcheck = Some(healthcheck(cfg, ins)?),
        other => return Err(ins.error(format!("{other} does not change the image config"))),
    }
    Ok(())
}

fn healthcheck(cfg: &ImageConfig, ins: &Instruction) -> Result<Value> {
    let text = ins.text();
    if text.trim().eq_ignore_ascii_case("NONE") {
        return Ok(json!({"Test": ["NONE"]}));
    }
    let (kw, rest) = match &ins.args {
        Args::Shell(s) => {
            let s = s.trim();
            let n = s.find(char::is_whitespace).unwrap_or(s.len());
            (s[..n].to_ascii_uppercase(), s[n..].trim().to_string())
        }
        Args::Json(_) => (String::new(), String::new()),
    };
    if kw != "CMD" {
        return Err(ins.error("use HEALTHCHECK [OPTIONS] CMD command, or HEALTHCHECK NONE"));
    }
    let test: Vec<String> = match serde_json::from_str::<Vec<String>>(&rest) {
        Ok(v) if rest.starts_with('[') => std::iter::once("CMD".to_string()).chain(v).collect(),
        _ => vec!["CMD-SHELL".into(), rest],
    };
    let _ = cfg;
    let mut hc = json!({ "Test": test });
    for (k, v) in &ins.flags {
        let field = match k.as_str() {
            "interval" => "Interval",
            "timeout" => "Timeout",
            "start-period" => "StartPeriod",
            "start-interval" => "StartInterval",
            "retries" => {
                let n: u64 = v
                    .parse()
                    .map_err(|_| ins.error(format!("--retries={v} is not a number")))?;
                hc["Retries"] = json!(n);
                continue;
            }
            _ => return Err(ins.error(format!("unknown flag --{k}"))),
        };
        hc[field] = json!(duration_ns(v).ok_or_else(|| ins.error(format!(
            "--{k}={v} is not a duration (e.g. 30s, 1m30s, 500ms)"
        )))?);
    }
    Ok(hc)
}

/// Go's duration syntax (`1h2m3s`, `500ms`, `1.5s`) in nanoseconds.
pub fn duration_ns(s: &str) -> Option<u64> {
    let mut total = 0f64;
    let mut rest = s.trim();
    if rest == "0" {
        return Some(0);
    }
    while !rest.is_empty() {
        let n = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let value: f64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let u = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let mult = match &rest[..u] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        total += value * mult;
        rest = &rest[u..];
    }
    Some(total as u64)
}

/// `80`, `80/udp`, `8000-8002/tcp` → `80/tcp`, …
fn expand_ports(p: &str) -> std::result::Result<Vec<String>, String> {
    let (range, proto) = p.split_once('/').unwrap_or((p, "tcp"));
    let proto = proto.to_ascii_lowercase();
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(format!("invalid protocol {proto:?} in {p:?}"));
    }
    let num = |s: &str| {
        s.parse::<u16>()
            .map_err(|_| format!("invalid port {s:?} in {p:?}"))
    };
    let (a, b) = match range.split_once('-') {
        Some((a, b)) => (num(a)?, num(b)?),
        None => (num(range)?, num(range)?),
    };
    if b < a {
        return Err(format!("invalid port range {p:?}"));
    }
    Ok((a..=b).map(|n| format!("{n}/{proto}")).collect())
}

/// Lexically cleans an absolute path (`/a/./b/../c` → `/a/c`).
pub fn clean_path(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    format!("/{}", out.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::build::parser::parse;

    #[test]
    fn config_instructions_change_the_config() {
        let df = parse(
            "ENV A=1 B=\"two words\"\nENV C $A-x\nLABEL l=v\nEXPOSE 80 53/udp 8000-8001\n\
             VOLUME [\"/data\"]\nWORKDIR /app\nWORKDIR sub/../src\nUSER 1000:1000\n\
             ENTRYPOINT [\"/bin/app\"]\nCMD run now\nSTOPSIGNAL SIGINT\n\
             HEALTHCHECK --interval=5s --retries=2 CMD wget -q localhost\nONBUILD RUN echo hi\n",
        )
        .unwrap();
        let mut cfg = ImageConfig::default();
        let mut author = None;
        apply_changes(&mut cfg, &mut author, &df.instructions).unwrap();
        assert_eq!(cfg.env.unwrap(), vec!["A=1", "B=two words", "C=1-x"]);
        assert_eq!(cfg.labels.unwrap()["l"], "v");
        let ports: Vec<_> = cfg.exposed_ports.unwrap().into_keys().collect();
        assert_eq!(ports, vec!["53/udp", "80/tcp", "8000/tcp", "8001/tcp"]);
        assert_eq!(cfg.working_dir.unwrap(), "/app/src");
        assert_eq!(cfg.user.unwrap(), "1000:1000");
        assert_eq!(cfg.entrypoint.unwrap(), vec!["/bin/app"]);
        assert_eq!(cfg.cmd.unwrap(), vec!["/bin/sh", "-c", "run now"]);
        let hc = cfg.healthcheck.unwrap();
        assert_eq!(hc["Test"], json!(["CMD-SHELL", "wget -q localhost"]));
        assert_eq!(hc["Interval"], json!(5_000_000_000u64));
        assert_eq!(hc["Retries"], json!(2));
        assert_eq!(cfg.on_build.unwrap(), vec!["RUN echo hi"]);
        assert_eq!(duration_ns("1m30s"), Some(90_000_000_000));
    }

    fn changed(base: ImageConfig, changes: &[&str]) -> Result<ImageConfig> {
        let owned: Vec<String> = changes.iter().map(|c| c.to_string()).collect();
        let mut cfg = base;
        apply_changes(&mut cfg, &mut None, &parse_changes(&owned)?)?;
        Ok(cfg)
    }

    #[test]
    fn changes_apply_as_docker_reads_them() {
        let c = changed(
            ImageConfig::default(),
            &[
                r#"CMD ["echo", "hi"]"#,
                "ENTRYPOINT /bin/run it",
                "ENV A=1 B=\"two words\"",
                "env C three four",
                "ENV A=again",
                "EXPOSE 80 53/udp",
                "LABEL x=y",
                "WORKDIR /srv",
                "USER nobody",
                "VOLUME /data /logs",
                "STOPSIGNAL SIGINT",
            ],
        )
        .unwrap();
        // CMD came before ENTRYPOINT in the same changes: kept, as docker does.
        assert_eq!(c.cmd.unwrap(), ["echo", "hi"]);
        assert_eq!(c.entrypoint.unwrap(), ["/bin/sh", "-c", "/bin/run it"]);
        assert_eq!(c.env.unwrap(), ["B=two words", "C=three four", "A=again"]);
        let ports = c.exposed_ports.unwrap();
        assert!(ports.contains_key("80/tcp") && ports.contains_key("53/udp"));
        assert_eq!(c.labels.unwrap()["x"], "y");
        assert_eq!(c.working_dir.unwrap(), "/srv");
        assert_eq!(c.volumes.unwrap().len(), 2);
        assert_eq!(c.stop_signal.unwrap(), "SIGINT");
        for bad in ["RUN rm -rf /", "FROM scratch", "ARG x=1"] {
            assert!(changed(ImageConfig::default(), &[bad]).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_entrypoint_drops_only_an_inherited_cmd() {
        let base = ImageConfig {
            cmd: Some(vec!["sh".into()]),
            ..Default::default()
        };
        let c = changed(base.clone(), &["ENTRYPOINT [\"/app\"]"]).unwrap();
        assert_eq!(c.cmd, None);
        let c = changed(base, &["CMD [\"x\"]", "ENTRYPOINT [\"/app\"]"]).unwrap();
        assert_eq!(c.cmd.unwrap(), ["x"]);
    }
}
