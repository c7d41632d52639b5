//! berth's default seccomp profile (`assets/seccomp.json`, the facts of Docker's default profile)
//! turned into the runtime spec's `linux.seccomp` for one container's capability set.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::engine::error::{EngineError, ErrorKind, Result};

const PROFILE: &str = include_str!("../../../assets/seccomp.json");

#[derive(Deserialize)]
struct Profile {
    #[serde(rename = "defaultErrno")]
    default_errno: u32,
    architectures: Vec<String>,
    rules: Vec<Rule>,
}

#[derive(Deserialize)]
struct Rule {
    names: Vec<String>,
    action: String,
    #[serde(default)]
    errno: Option<u32>,
    #[serde(default)]
    args: Vec<Arg>,
    #[serde(default)]
    caps: Vec<String>,
    #[serde(default)]
    unless_caps: Vec<String>,
    /// Only on kernels at least this version ("major.minor").
    #[serde(default)]
    min_kernel: Option<String>,
}

#[derive(Deserialize)]
struct Arg {
    index: u32,
    value: u64,
    #[serde(default)]
    value_two: Option<u64>,
    op: String,
}

fn op_name(op: &str) -> Result<&'static str> {
    Ok(match op {
        "eq" => "SCMP_CMP_EQ",
        "ne" => "SCMP_CMP_NE",
        "lt" => "SCMP_CMP_LT",
        "le" => "SCMP_CMP_LE",
        "gt" => "SCMP_CMP_GT",
        "ge" => "SCMP_CMP_GE",
        "masked_eq" => "SCMP_CMP_MASKED_EQ",
        _ => {
            return Err(EngineError::Runtime(format!(
                "seccomp profile: unknown operator {op:?}"
            )))
        }
    })
}

/// `(major, minor)` of a kernel release string such as `6.1.0-18-amd64` or `4.8`.
fn kernel_version(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.split(['.', '-', '+']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// The running kernel's `(major, minor)`; `(0, 0)` when unreadable, so that rules needing a
/// newer kernel stay off.
fn running_kernel() -> (u32, u32) {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .ok()
        .and_then(|r| kernel_version(r.trim()))
        .unwrap_or((0, 0))
}

/// The `linux.seccomp` object for a container holding `caps` (names like `CAP_SYS_ADMIN`) on
/// the running kernel.
pub fn default_profile(caps: &[String]) -> Result<Value> {
    profile_for(caps, running_kernel())
}

fn profile_for(caps: &[String], kernel: (u32, u32)) -> Result<Value> {
    let profile: Profile = serde_json::from_str(PROFILE).map_err(|e| {
        EngineError::caused(
            ErrorKind::Runtime,
            "built-in seccomp profile is malformed",
            e,
        )
    })?;
    let has = |c: &String| caps.iter().any(|x| x == c);
    let mut syscalls = Vec::new();
    for rule in &profile.rules {
        if !rule.caps.iter().all(has) || rule.unless_caps.iter().any(has) {
            continue;
        }
        if let Some(min) = &rule.min_kernel {
            let min = kernel_version(min).ok_or_else(|| {
                EngineError::Runtime(format!("seccomp profile: bad min_kernel {min:?}"))
            })?;
            if kernel < min {
                continue;
            }
        }
        let mut out = json!({
            "names": rule.names,
            "action": match rule.action.as_str() {
                "allow" => "SCMP_ACT_ALLOW",
                "errno" => "SCMP_ACT_ERRNO",
                other => return Err(EngineError::Runtime(format!(
                    "seccomp profile: unknown action {other:?}"
                ))),
            },
        });
        if let Some(errno) = rule.errno {
            out["errnoRet"] = json!(errno);
        }
        if !rule.args.is_empty() {
            let mut args = Vec::new();
            for a in &rule.args {
                let mut arg = json!({"index": a.index, "value": a.value, "op": op_name(&a.op)?});
                if let Some(v2) = a.value_two {
                    arg["valueTwo"] = json!(v2);
                }
                args.push(arg);
            }
            out["args"] = Value::Array(args);
        }
        syscalls.push(out);
    }
    Ok(json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": profile.default_errno,
        "architectures": profile.architectures,
        "syscalls": syscalls,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(profile: &Value, name: &str) -> bool {
        profile["syscalls"].as_array().unwrap().iter().any(|r| {
            r["action"] == "SCMP_ACT_ALLOW"
                && r.get("args").is_none()
                && r["names"].as_array().unwrap().iter().any(|n| n == name)
        })
    }

    #[test]
    fn capability_gated_syscalls_follow_the_caps() {
        let plain = default_profile(&["CAP_CHOWN".into()]).unwrap();
        assert!(allowed(&plain, "read"));
        assert!(!allowed(&plain, "unshare"));
        assert!(!allowed(&plain, "mount"));
        assert!(!allowed(&plain, "chroot"));
        let admin = default_profile(&["CAP_SYS_ADMIN".into(), "CAP_SYS_CHROOT".into()]).unwrap();
        assert!(allowed(&admin, "unshare"));
        assert!(allowed(&admin, "clone"));
        assert!(allowed(&admin, "chroot"));
        assert_eq!(plain["defaultErrnoRet"], 1);
    }

    #[test]
    fn ptrace_is_allowed_from_kernel_4_8_like_docker() {
        let caps = ["CAP_CHOWN".to_string()];
        let new = profile_for(&caps, (4, 8)).unwrap();
        assert!(allowed(&new, "ptrace"));
        assert!(allowed(&new, "process_vm_readv"));
        assert!(!allowed(&new, "kcmp"), "kcmp still needs CAP_SYS_PTRACE");
        let old = profile_for(&caps, (4, 7)).unwrap();
        assert!(!allowed(&old, "ptrace"));
        let traced = profile_for(&["CAP_SYS_PTRACE".to_string()], (4, 7)).unwrap();
        assert!(allowed(&traced, "ptrace"));
        assert_eq!(kernel_version("6.18.44-fc-v857"), Some((6, 18)));
        assert_eq!(kernel_version("4.8"), Some((4, 8)));
        assert_eq!(kernel_version("5"), None);
    }
}
