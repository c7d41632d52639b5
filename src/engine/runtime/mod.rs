//! The OCI runtime spec (`config.json` in the container's bundle dir) built from the container's
//! record: process, namespaces, mounts, capabilities, masked paths, seccomp, cgroup limits.

pub mod caps;
pub mod cgroupfs;
pub mod destinations;
pub mod devices;
pub mod init_binary;
pub mod namespaces;
pub mod seccomp;
pub mod seccomp_cache;
pub mod tmpfs_mode;
pub mod ulimits;
pub mod user_devices;

use std::path::Path;

use oci_spec::runtime::Spec;
use serde_json::{json, Value};

use super::container::record::ContainerRecord;
use super::error::{EngineError, IoContext, Result};
use super::users::ResolvedUser;

/// PATH when neither the image nor the user sets one (Docker's).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Docker's masked paths: unreadable inside the container.
pub const MASKED_PATHS: [&str; 12] = [
    "/proc/asound",
    "/proc/acpi",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Docker's read-only paths.
pub const READONLY_PATHS: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// The cgroup path of a container (cgroupfs, under berth's parent).
pub fn cgroups_path(id: &str) -> String {
    format!("/berth/{id}")
}

/// The process arguments: entrypoint then cmd.
pub fn process_args(record: &ContainerRecord) -> Result<Vec<String>> {
    let mut args = record.config.entrypoint.clone();
    args.extend(record.config.cmd.iter().cloned());
    if args.is_empty() {
        return Err(EngineError::InvalidInput(
            "no command specified: the image has no Entrypoint or Cmd; give a command after the \
             image name"
                .into(),
        ));
    }
    Ok(args)
}

/// The environment: the record's, plus PATH, HOSTNAME, HOME (and TERM with a tty) when missing.
pub fn process_env(record: &ContainerRecord, user: &ResolvedUser) -> Vec<String> {
    let mut env = record.config.env.clone();
    let has = |env: &[String], k: &str| env.iter().any(|e| e.split('=').next() == Some(k));
    if !has(&env, "PATH") {
        env.insert(0, format!("PATH={DEFAULT_PATH}"));
    }
    if !has(&env, "HOSTNAME") {
        env.push(format!("HOSTNAME={}", record.config.hostname));
    }
    if !has(&env, "HOME") {
        env.push(format!("HOME={}", user.home));
    }
    // Docker's: a terminal gets TERM unless the image or the user set one.
    if record.config.tty && !has(&env, "TERM") {
        env.push("TERM=xterm".into());
    }
    env
}

/// Soft and hard limit for RLIMIT_NOFILE/NPROC: podman's 1048576, never above the current hard
/// limit (raising it needs CAP_SYS_RESOURCE); then the container's own `--ulimit`s.
fn rlimits(own: &[ulimits::Ulimit]) -> Vec<Value> {
    use nix::sys::resource::{getrlimit, Resource};
    let mut out = Vec::new();
    for (name, res) in [
        ("RLIMIT_NOFILE", Resource::RLIMIT_NOFILE),
        ("RLIMIT_NPROC", Resource::RLIMIT_NPROC),
    ] {
        if let Ok((_, hard)) = getrlimit(res) {
            let v = hard.min(1_048_576);
            out.push(json!({"type": name, "soft": v, "hard": v}));
        }
    }
    // `--ulimit` replaces a default of the same name.
    for u in own {
        let entry = ulimits::spec_entry(u);
        out.retain(|v| v["type"] != entry["type"]);
        out.push(entry);
    }
    out
}

fn mounts(
    dir: &Path,
    record: &ContainerRecord,
    cgroups: &cgroupfs::CgroupLayout,
    privileged: bool,
    init: Option<&Path>,
) -> Vec<Value> {
    let id = &record.id;
    let ro = if privileged { "rw" } else { "ro" };
    let shm = match record.host_config.shm_size {
        s if s > 0 => s,
        _ => crate::engine::container::create::DEFAULT_SHM_SIZE,
    };
    let mut m = vec![
        json!({"destination": "/proc", "type": "proc", "source": "proc",
               "options": ["nosuid", "noexec", "nodev"]}),
        json!({"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
               "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}),
        json!({"destination": "/dev/pts", "type": "devpts", "source": "devpts",
               "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]}),
        if record.host_config.ipc_mode == "host" {
            // The host's IPC namespace comes with its /dev/shm, as in docker.
            json!({"destination": "/dev/shm", "type": "bind", "source": "/dev/shm",
                   "options": ["rbind", "rprivate"]})
        } else {
            json!({"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
                   "options": ["nosuid", "noexec", "nodev", "mode=1777", format!("size={shm}")]})
        },
        json!({"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
               "options": ["nosuid", "noexec", "nodev"]}),
        json!({"destination": "/sys", "type": "sysfs", "source": "sysfs",
               "options": ["nosuid", "noexec", "nodev", ro]}),
    ];
    m.extend(cgroupfs::mounts(
        cgroups,
        id,
        &dir.join("merged"),
        privileged,
    ));
    if record.host_config.init {
        if let Some(init) = init {
            m.push(
                json!({"destination": init_binary::CONTAINER_PATH, "type": "bind",
                          "source": init, "options": ["rbind", "ro", "rprivate"]}),
            );
        }
    }
    for file in ["hosts", "hostname", "resolv.conf"] {
        m.push(json!({
            "destination": format!("/etc/{file}"),
            "type": "bind",
            "source": dir.join(file),
            "options": ["rbind", "rprivate"],
        }));
    }
    m
}

fn resources(record: &ContainerRecord, device_rules: Vec<Value>) -> Value {
    let hc = &record.host_config;
    let mut rules = devices::cgroup_rules(hc.privileged);
    if let Some(list) = rules.as_array_mut() {
        list.extend(device_rules);
    }
    let mut r = json!({ "devices": rules });
    if hc.memory > 0 {
        r["memory"] = json!({"limit": hc.memory});
    }
    if hc.nano_cpus > 0 {
        let period: i64 = 100_000;
        r["cpu"] = json!({"quota": hc.nano_cpus * period / 1_000_000_000, "period": period});
    }
    if let Some(p) = hc.pids_limit.filter(|p| *p > 0) {
        r["pids"] = json!({"limit": p});
    }
    r
}

/// Builds the runtime spec for `record` running as `user` on this host; `dir` is the
/// container's directory (bundle), whose `merged/` is the rootfs and whose `hosts`, `hostname`,
/// `resolv.conf` are bind-mounted into `/etc`.
pub fn build_spec(record: &ContainerRecord, user: &ResolvedUser, dir: &Path) -> Result<Spec> {
    build_spec_for(record, user, dir, &cgroupfs::CgroupLayout::detect())
}

/// [`build_spec`] for a host whose cgroups are laid out as `cgroups`.
pub fn build_spec_for(
    record: &ContainerRecord,
    user: &ResolvedUser,
    dir: &Path,
    cgroups: &cgroupfs::CgroupLayout,
) -> Result<Spec> {
    let hc = &record.host_config;
    let caps = caps::effective(&hc.cap_add, &hc.cap_drop, hc.privileged)?;
    let namespaces = namespaces::for_host_config(hc);
    let (device_nodes, device_rules) = user_devices::spec_entries(&hc.devices)?;
    let cwd = if record.config.working_dir.is_empty() {
        "/".to_string()
    } else {
        record.config.working_dir.clone()
    };
    let init = if hc.init {
        Some(init_binary::find()?)
    } else {
        None
    };
    let mut args = process_args(record)?;
    if hc.init {
        args.splice(
            0..0,
            [init_binary::CONTAINER_PATH.to_string(), "--".to_string()],
        );
    }
    let mut process = json!({
        "terminal": record.config.tty,
        "user": {"uid": user.uid, "gid": user.gid, "additionalGids": user.additional_gids},
        "args": args,
        "env": process_env(record, user),
        "cwd": cwd,
        "capabilities": {
            "bounding": caps, "effective": caps, "permitted": caps,
        },
        "rlimits": rlimits(&hc.ulimits),
    });
    if hc.no_new_privileges() {
        process["noNewPrivileges"] = json!(true);
    }
    let mut linux = json!({
        "namespaces": namespaces,
        "cgroupsPath": cgroups_path(&record.id),
        "resources": resources(record, device_rules),
    });
    if !hc.privileged {
        linux["maskedPaths"] = json!(MASKED_PATHS);
        linux["readonlyPaths"] = json!(READONLY_PATHS);
        linux["seccomp"] = seccomp::default_profile(&caps)?;
    } else {
        linux["devices"] = Value::Array(devices::host_devices());
    }
    if !device_nodes.is_empty() {
        let mut all = linux["devices"].as_array().cloned().unwrap_or_default();
        all.retain(|d| !device_nodes.iter().any(|n| n["path"] == d["path"]));
        all.extend(device_nodes);
        linux["devices"] = Value::Array(all);
    }
    let spec = json!({
        "ociVersion": "1.0.2",
        "root": {"path": dir.join("merged"), "readonly": hc.readonly_rootfs},
        "hostname": record.config.hostname,
        "process": process,
        "mounts": mounts(dir, record, cgroups, hc.privileged, init.as_deref())
            .into_iter()
            .chain(crate::engine::mounts::spec_mounts(&record.mounts))
            .collect::<Vec<_>>(),
        "linux": linux,
    });
    let mut spec = spec;
    if hc.uts_mode == "host" {
        // The host's UTS namespace: its name is not the runtime's to set.
        if let Some(o) = spec.as_object_mut() {
            o.remove("hostname");
        }
    }
    serde_json::from_value(spec).map_err(|e| {
        EngineError::caused(
            crate::engine::ErrorKind::Runtime,
            "cannot build the runtime spec",
            e,
        )
    })
}

/// Writes `config.json` into the bundle dir `dir` (atomically: temp file, then rename).
pub fn write_spec(spec: &Spec, dir: &Path) -> Result<()> {
    let tmp = dir.join("config.json.tmp");
    let json = serde_json::to_vec_pretty(spec).map_err(|e| {
        EngineError::caused(
            crate::engine::ErrorKind::Runtime,
            "cannot encode the runtime spec",
            e,
        )
    })?;
    std::fs::write(&tmp, json).ctx("cannot write", &tmp)?;
    std::fs::rename(&tmp, dir.join("config.json")).ctx("cannot rename", &tmp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::container::record::{Config, HostConfig, State};
    use crate::engine::container::NetworkMode;

    fn record() -> ContainerRecord {
        ContainerRecord {
            id: "ab".repeat(32),
            name: "t".into(),
            image: "img".into(),
            image_id: String::new(),
            lowers: vec![],
            created: chrono::Utc::now(),
            config: Config {
                hostname: "abababababab".into(),
                cmd: vec!["sh".into()],
                env: vec!["A=1".into()],
                ..Default::default()
            },
            host_config: HostConfig {
                network_mode: NetworkMode::None,
                memory: 64 << 20,
                nano_cpus: 500_000_000,
                pids_limit: Some(50),
                security_opt: vec!["no-new-privileges".into()],
                ..Default::default()
            },
            state: State::default(),
            restart_count: 0,
            mounts: vec![],
            networks: Default::default(),
            health: None,
        }
    }

    fn user() -> ResolvedUser {
        ResolvedUser {
            uid: 0,
            gid: 0,
            additional_gids: vec![],
            home: "/root".into(),
        }
    }

    #[test]
    fn spec_has_safe_defaults_and_limits() {
        let spec = build_spec(&record(), &user(), Path::new("/b")).unwrap();
        let v = serde_json::to_value(&spec).unwrap();
        assert_eq!(
            v["linux"]["cgroupsPath"],
            format!("/berth/{}", "ab".repeat(32))
        );
        assert_eq!(
            v["process"]["capabilities"]["bounding"]
                .as_array()
                .unwrap()
                .len(),
            14
        );
        assert_eq!(v["linux"]["resources"]["memory"]["limit"], 64 << 20);
        assert_eq!(v["linux"]["resources"]["cpu"]["quota"], 50_000);
        assert_eq!(v["linux"]["resources"]["pids"]["limit"], 50);
        assert_eq!(v["process"]["noNewPrivileges"], true);
        assert_eq!(v["linux"]["namespaces"].as_array().unwrap().len(), 6);
        assert!(v["linux"]["maskedPaths"]
            .as_array()
            .unwrap()
            .contains(&json!("/proc/kcore")));
        assert_eq!(v["linux"]["seccomp"]["defaultAction"], "SCMP_ACT_ERRNO");
        let env: Vec<String> = serde_json::from_value(v["process"]["env"].clone()).unwrap();
        assert!(env[0].starts_with("PATH="));
        assert!(env.contains(&"HOME=/root".to_string()));
        assert!(env.contains(&"HOSTNAME=abababababab".to_string()));
    }

    #[test]
    fn host_network_and_privileged() {
        let mut r = record();
        r.host_config.network_mode = NetworkMode::Host;
        r.host_config.privileged = true;
        let v = serde_json::to_value(build_spec(&r, &user(), Path::new("/b")).unwrap()).unwrap();
        assert_eq!(v["linux"]["namespaces"].as_array().unwrap().len(), 5);
        assert!(v["linux"].get("seccomp").is_none());
        assert!(v["linux"].get("maskedPaths").is_none());
        assert_eq!(v["linux"]["resources"]["devices"][0]["allow"], true);
        assert!(v["linux"]["devices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["path"] == "/dev/null"));
    }

    #[test]
    fn cgroup_fs_is_read_only_and_own_only_on_v1_and_v2() {
        use cgroupfs::CgroupLayout;
        let v1 = CgroupLayout::V1 {
            hierarchies: vec!["/sys/fs/cgroup/memory".into()],
        };
        for layout in [v1, CgroupLayout::V2] {
            let spec = build_spec_for(&record(), &user(), Path::new("/b"), &layout).unwrap();
            let v = serde_json::to_value(&spec).unwrap();
            assert!(v["linux"]["namespaces"]
                .as_array()
                .unwrap()
                .contains(&json!({"type": "cgroup"})));
            assert_eq!(v["linux"]["resources"]["devices"][0]["allow"], false);
            assert!(v["linux"].get("devices").is_none());
            let cg: Vec<&Value> = v["mounts"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|m| {
                    m["destination"]
                        .as_str()
                        .unwrap()
                        .starts_with("/sys/fs/cgroup")
                })
                .collect();
            assert!(!cg.is_empty(), "{layout:?}");
            for m in &cg {
                let opts = m["options"].as_array().unwrap();
                assert!(
                    m["type"] == "tmpfs" || opts.contains(&json!("ro")),
                    "{layout:?}: {m}"
                );
            }
            if matches!(layout, CgroupLayout::V1 { .. }) {
                let sources: Vec<&str> = cg.iter().filter_map(|m| m["source"].as_str()).collect();
                assert!(sources.contains(
                    &format!("/sys/fs/cgroup/memory/berth/{}", "ab".repeat(32)).as_str()
                ));
                assert_eq!(cg.last().unwrap()["source"], "/b/merged/sys/fs/cgroup");
            }
        }
    }

    #[test]
    fn missing_command_is_explained() {
        let mut r = record();
        r.config.cmd.clear();
        let e = build_spec(&r, &user(), Path::new("/b"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("no command specified"), "{e}");
    }
}
