//! Capability sets: Docker's 14 defaults, `--cap-add`, `--cap-drop`, `--privileged`.

use crate::engine::error::{EngineError, Result};

/// Docker's default capabilities. NET_RAW lets `ping` (whose file capability is
/// `cap_net_raw=ep`) run at all: the kernel refuses to exec a file whose forced capabilities
/// exceed the bounding set.
pub const DEFAULT_CAPS: [&str; 14] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_RAW",
    "CAP_MKNOD",
    "CAP_AUDIT_WRITE",
    "CAP_SETFCAP",
    "CAP_SETGID",
    "CAP_SETPCAP",
    "CAP_SETUID",
    "CAP_SYS_CHROOT",
];

/// Every capability Linux 6.x knows, in bit order.
pub const ALL_CAPS: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// Normalises a user-given capability name (`net_admin`, `CAP_NET_ADMIN`, `ALL`).
pub fn normalize(name: &str) -> Result<String> {
    let upper = name.trim().to_ascii_uppercase();
    if upper == "ALL" {
        return Ok(upper);
    }
    let full = if upper.starts_with("CAP_") {
        upper
    } else {
        format!("CAP_{upper}")
    };
    if ALL_CAPS.contains(&full.as_str()) {
        Ok(full)
    } else {
        Err(EngineError::InvalidInput(format!(
            "unknown capability {name:?}: use a name like NET_ADMIN or CAP_NET_ADMIN, or ALL"
        )))
    }
}

/// The capabilities berth itself may hand out: those in its own bounding set (a container can
/// never get more; e.g. CAP_SYS_RESOURCE is missing on some hosts).
pub fn available() -> Vec<&'static str> {
    let mask = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapBnd:"))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        })
        .unwrap_or(u64::MAX);
    ALL_CAPS
        .iter()
        .enumerate()
        .filter(|(bit, _)| mask & (1u64 << bit) != 0)
        .map(|(_, c)| *c)
        .collect()
}

/// The capability set: Docker's defaults (or all berth has with `privileged`), plus `add`,
/// minus `drop`. `drop` wins over `add` like Docker, except that `ALL` in `add` re-adds
/// everything.
pub fn effective(add: &[String], drop: &[String], privileged: bool) -> Result<Vec<String>> {
    let add: Vec<String> = add.iter().map(|c| normalize(c)).collect::<Result<_>>()?;
    let drop: Vec<String> = drop.iter().map(|c| normalize(c)).collect::<Result<_>>()?;
    let available = available();
    if let Some(missing) = add
        .iter()
        .find(|c| *c != "ALL" && !available.contains(&c.as_str()))
    {
        return Err(EngineError::InvalidInput(format!(
            "cannot add capability {missing}: berth itself does not hold it (it is not in this              process's bounding set)"
        )));
    }
    let mut set: Vec<String> = if privileged || add.iter().any(|c| c == "ALL") {
        available.iter().map(|s| s.to_string()).collect()
    } else {
        // A host that withholds one of them from berth (it cannot be granted) runs without it.
        DEFAULT_CAPS
            .iter()
            .filter(|c| available.contains(c))
            .map(|s| s.to_string())
            .collect()
    };
    if privileged {
        return Ok(set);
    }
    if drop.iter().any(|c| c == "ALL") {
        set.clear();
    }
    for c in add.iter().filter(|c| *c != "ALL") {
        if !set.contains(c) {
            set.push(c.clone());
        }
    }
    set.retain(|c| !drop.contains(c));
    set.sort_by_key(|c| ALL_CAPS.iter().position(|a| a == c));
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_adds_and_drops() {
        assert_eq!(effective(&[], &[], false).unwrap().len(), 14);
        let s = effective(&["net_admin".into()], &["CHOWN".into()], false).unwrap();
        assert!(s.contains(&"CAP_NET_ADMIN".to_string()));
        assert!(!s.contains(&"CAP_CHOWN".to_string()));
        let s = effective(&["NET_RAW".into()], &["ALL".into()], false).unwrap();
        assert_eq!(s, vec!["CAP_NET_RAW".to_string()]);
        assert_eq!(effective(&[], &[], true).unwrap().len(), available().len());
        let e = effective(&["FLY".into()], &[], false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown capability"), "{e}");
    }
}
