//! The container's namespaces: its own of each kind, but the host's with `--network host`,
//! `--pid host`, `--ipc host` and `--uts host` (docker's modes, `HostConfig.PidMode`,
//! `IpcMode`, `UTSMode`).

use serde_json::{json, Value};

use crate::engine::container::record::HostConfig;
use crate::engine::error::{EngineError, Result};

fn refuse(flag: &str, value: &str, allowed: &str) -> EngineError {
    EngineError::InvalidInput(format!(
        "invalid --{flag} {value:?}: berth supports {allowed}; container:NAME sharing is not \
         supported"
    ))
}

/// Checks the modes as given (`None`: the flag was not given) and returns them as recorded:
/// `(PidMode, IpcMode, UTSMode)` with docker's defaults ("", "private", "").
pub fn modes(
    pid: Option<&str>,
    ipc: Option<&str>,
    uts: Option<&str>,
) -> Result<(String, String, String)> {
    let pid = match pid.unwrap_or("") {
        p @ ("" | "host") => p.to_string(),
        p => return Err(refuse("pid", p, "host (or leave it out)")),
    };
    let ipc = match ipc.unwrap_or("private") {
        "" => "private".to_string(),
        i @ ("private" | "shareable" | "host") => i.to_string(),
        i => return Err(refuse("ipc", i, "private, shareable or host")),
    };
    let uts = match uts.unwrap_or("") {
        u @ ("" | "host") => u.to_string(),
        u => return Err(refuse("uts", u, "host (or leave it out)")),
    };
    Ok((pid, ipc, uts))
}

/// The spec's `linux.namespaces` for `hc`.
pub fn for_host_config(hc: &HostConfig) -> Vec<Value> {
    let mut out = Vec::new();
    if hc.pid_mode != "host" {
        out.push(json!({"type": "pid"}));
    }
    if hc.ipc_mode != "host" {
        out.push(json!({"type": "ipc"}));
    }
    if hc.uts_mode != "host" {
        out.push(json!({"type": "uts"}));
    }
    out.push(json!({"type": "mount"}));
    out.push(json!({"type": "cgroup"}));
    if !hc.network_mode.is_host() {
        out.push(json!({"type": "network"}));
    }
    out
}

/// Makes the container join the network namespace at `path` (made for it, or another
/// container's with `--network container:C`) instead of a new one.
pub fn join_network(spec: &mut oci_spec::runtime::Spec, path: &std::path::Path) {
    use oci_spec::runtime::LinuxNamespaceType;
    let Some(mut linux) = spec.linux().clone() else {
        return;
    };
    let mut nss = linux.namespaces().clone().unwrap_or_default();
    for ns in nss.iter_mut() {
        if ns.typ() == LinuxNamespaceType::Network {
            ns.set_path(Some(path.to_path_buf()));
        }
    }
    linux.set_namespaces(Some(nss));
    spec.set_linux(Some(linux));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::container::NetworkMode;

    #[test]
    fn modes_default_like_docker_and_refuse_the_rest() {
        assert_eq!(
            modes(None, None, None).unwrap(),
            ("".into(), "private".into(), "".into())
        );
        assert_eq!(
            modes(Some("host"), Some("host"), Some("host")).unwrap(),
            ("host".into(), "host".into(), "host".into())
        );
        assert!(modes(Some("container:x"), None, None).is_err());
        assert!(modes(None, Some("none"), None).is_err());
        assert!(modes(None, None, Some("private")).is_err());
        let hc = HostConfig {
            network_mode: NetworkMode::None,
            pid_mode: "host".into(),
            ipc_mode: "private".into(),
            ..Default::default()
        };
        let ns = for_host_config(&hc);
        assert!(!ns.contains(&json!({"type": "pid"})));
        assert_eq!(ns.len(), 5);
    }
}
