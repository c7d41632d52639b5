//! The container's `/sys/fs/cgroup`, as Docker gives it: read-only and showing only the
//! container's own cgroup, so a container can neither lift its own limits nor reach the host's
//! hierarchy roots (`release_agent`, other cgroups). `--privileged` gets it writable.
//!
//! On cgroup v2 the container has a cgroup namespace, so libcontainer's `cgroup2` mount is
//! rooted at the container's cgroup; `ro` makes it read-only. On cgroup v1 libcontainer ignores
//! `ro` and, for hierarchies the container does not join (`name=systemd`), would show the
//! host's root; so the spec instead lists the mounts itself: a tmpfs, a read-only bind of the
//! container's own directory on each hierarchy it joins, then the tmpfs and everything in it
//! bound read-only onto itself.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::cgroups_path;

/// Where the host mounts its cgroup filesystems, and the container sees its own.
const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// The v1 controllers libcontainer puts a container in (libcgroups' `v1::CONTROLLERS`).
const JOINED_CONTROLLERS: [&str; 12] = [
    "cpu",
    "cpuacct",
    "cpuset",
    "devices",
    "hugetlb",
    "memory",
    "pids",
    "perf_event",
    "blkio",
    "net_prio",
    "net_cls",
    "freezer",
];

/// How the host's cgroups are laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CgroupLayout {
    /// cgroup v1 (or hybrid): the host mount points of the v1 hierarchies the container joins.
    V1 { hierarchies: Vec<PathBuf> },
    /// cgroup v2 only (`/sys/fs/cgroup` is a `cgroup2` mount).
    V2,
}

impl CgroupLayout {
    /// The running host's layout, from `/proc/self/mountinfo`.
    pub fn detect() -> CgroupLayout {
        let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        Self::from_mountinfo(&info)
    }

    /// The layout described by a `mountinfo` text.
    pub fn from_mountinfo(info: &str) -> CgroupLayout {
        let mut hierarchies = Vec::new();
        for m in cgroup_mounts(info) {
            if m.fstype == "cgroup2" && m.point == CGROUP_ROOT {
                return CgroupLayout::V2;
            }
            if m.fstype == "cgroup" && m.joined() {
                let point = PathBuf::from(m.point);
                if !hierarchies.contains(&point) {
                    hierarchies.push(point);
                }
            }
        }
        CgroupLayout::V1 { hierarchies }
    }
}

/// A cgroup hierarchy libcontainer puts no container in (v1 `name=systemd`, the cgroup2 mount of
/// a hybrid host). The container must still get a cgroup of its own there, or its cgroup
/// namespace is rooted at the host's root on it (which a CAP_SYS_ADMIN container could mount).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unjoined {
    /// Where the host mounts it (`/sys/fs/cgroup/systemd`).
    pub mount_point: PathBuf,
    /// Its key in `/proc/<pid>/cgroup`: `name=systemd`, or empty for cgroup2.
    pub key: String,
}

/// The hierarchies of a cgroup v1 or hybrid host that libcontainer leaves alone (none on a
/// cgroup v2 host). Only those mounted at their root (the cgroup path of a process is then
/// relative to the mount point).
pub fn unjoined_hierarchies(info: &str) -> Vec<Unjoined> {
    let mut out: Vec<Unjoined> = Vec::new();
    for m in cgroup_mounts(info) {
        if m.fstype == "cgroup2" && m.point == CGROUP_ROOT {
            return Vec::new();
        }
        if m.joined() || m.root != "/" {
            continue;
        }
        let key = match m.fstype {
            "cgroup2" => String::new(),
            _ => match m.super_opts.split(',').find(|o| o.starts_with("name=")) {
                Some(name) => name.to_string(),
                None => continue,
            },
        };
        if !out.iter().any(|u| u.key == key) {
            out.push(Unjoined {
                mount_point: PathBuf::from(m.point),
                key,
            });
        }
    }
    out
}

/// One cgroup or cgroup2 mount directly under `/sys/fs/cgroup` (or at it).
struct CgroupMount<'a> {
    root: &'a str,
    point: &'a str,
    fstype: &'a str,
    super_opts: &'a str,
}

impl CgroupMount<'_> {
    /// Whether libcontainer puts a container in this hierarchy.
    fn joined(&self) -> bool {
        self.fstype == "cgroup"
            && self
                .super_opts
                .split(',')
                .any(|o| JOINED_CONTROLLERS.contains(&o))
    }
}

fn cgroup_mounts(info: &str) -> impl Iterator<Item = CgroupMount<'_>> {
    info.lines().filter_map(|line| {
        // `id parent dev root mount-point options [optional…] - fstype source super-options`
        let (left, right) = line.split_once(" - ")?;
        let mut left = left.split(' ');
        let root = left.nth(3)?;
        let point = left.next()?;
        let mut right = right.split(' ');
        let fstype = right.next()?;
        let super_opts = right.nth(1).unwrap_or_default();
        let at_or_under =
            point == CGROUP_ROOT || Path::new(point).parent() == Some(Path::new(CGROUP_ROOT));
        (at_or_under && matches!(fstype, "cgroup" | "cgroup2")).then_some(CgroupMount {
            root,
            point,
            fstype,
            super_opts,
        })
    })
}

/// The spec mounts that make up the container's `/sys/fs/cgroup`; `rootfs` is the container's
/// root directory on the host (`merged/`).
pub fn mounts(layout: &CgroupLayout, id: &str, rootfs: &Path, privileged: bool) -> Vec<Value> {
    let base = ["nosuid", "noexec", "nodev"];
    match layout {
        // libcontainer mounts the real hierarchies (v1) or cgroup2, rooted at the container's
        // cgroup namespace; writable only when privileged.
        _ if privileged => vec![json!({
            "destination": CGROUP_ROOT, "type": "cgroup", "source": "cgroup",
            "options": ["nosuid", "noexec", "nodev", "relatime", "rw"],
        })],
        CgroupLayout::V2 => vec![json!({
            "destination": CGROUP_ROOT, "type": "cgroup", "source": "cgroup",
            "options": ["nosuid", "noexec", "nodev", "relatime", "ro"],
        })],
        CgroupLayout::V1 { hierarchies } => {
            let own = cgroups_path(id);
            let own = own.trim_start_matches('/');
            let mut m = vec![json!({
                "destination": CGROUP_ROOT, "type": "tmpfs", "source": "tmpfs",
                "options": [base[0], base[1], base[2], "mode=755", "size=64k"],
            })];
            let mut seen: Vec<String> = Vec::new();
            for h in hierarchies {
                let Some(name) = h.file_name().map(|n| n.to_string_lossy().into_owned()) else {
                    continue;
                };
                // A comounted hierarchy (`cpu,cpuacct`) is also reachable under each
                // controller's name, as the host's symlinks make it.
                let mut names = vec![name.clone()];
                if name.contains(',') {
                    names.extend(name.split(',').map(str::to_string));
                }
                for n in names {
                    if seen.contains(&n) {
                        continue;
                    }
                    m.push(json!({
                        "destination": format!("{CGROUP_ROOT}/{n}"), "type": "bind",
                        "source": h.join(own),
                        "options": ["rbind", "ro", base[0], base[1], base[2]],
                    }));
                    seen.push(n);
                }
            }
            // The tmpfs itself read-only too, with the binds in it (one recursive bind).
            m.push(json!({
                "destination": CGROUP_ROOT, "type": "bind",
                "source": rootfs.join(CGROUP_ROOT.trim_start_matches('/')),
                "options": ["rbind", "ro", base[0], base[1], base[2]],
            }));
            m
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1_INFO: &str = "\
25 1 0:23 / /sys rw,nosuid - sysfs sysfs rw
30 25 0:26 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
32 30 0:28 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
33 30 0:29 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
34 30 0:30 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
35 30 0:31 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
";

    const V2_INFO: &str = "\
25 1 0:23 / /sys rw,nosuid - sysfs sysfs rw
30 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec - cgroup2 cgroup2 rw,nsdelegate
";

    #[test]
    fn layouts_are_read_from_mountinfo() {
        assert_eq!(CgroupLayout::from_mountinfo(V2_INFO), CgroupLayout::V2);
        assert_eq!(
            CgroupLayout::from_mountinfo(V1_INFO),
            CgroupLayout::V1 {
                hierarchies: vec![
                    PathBuf::from("/sys/fs/cgroup/cpu,cpuacct"),
                    PathBuf::from("/sys/fs/cgroup/memory"),
                    PathBuf::from("/sys/fs/cgroup/pids"),
                ]
            },
            "name=systemd and the hybrid cgroup2 mount are not joined, so not shown"
        );
    }

    #[test]
    fn unjoined_hierarchies_are_named_and_hybrid_cgroup2() {
        assert_eq!(
            unjoined_hierarchies(V1_INFO),
            [
                Unjoined {
                    mount_point: "/sys/fs/cgroup/systemd".into(),
                    key: "name=systemd".into()
                },
                Unjoined {
                    mount_point: "/sys/fs/cgroup/unified".into(),
                    key: String::new()
                },
            ]
        );
        assert!(unjoined_hierarchies(V2_INFO).is_empty());
    }

    #[test]
    fn v1_binds_only_the_containers_own_cgroups_read_only() {
        let layout = CgroupLayout::from_mountinfo(V1_INFO);
        let m = mounts(&layout, "c1", Path::new("/b/merged"), false);
        assert_eq!(m[0]["type"], "tmpfs");
        assert_eq!(m[0]["destination"], CGROUP_ROOT);
        let binds: Vec<(&str, &str)> = m[1..m.len() - 1]
            .iter()
            .map(|b| {
                assert_eq!(b["type"], "bind");
                let opts = b["options"].as_array().unwrap();
                assert!(opts.contains(&json!("ro")), "{b}");
                (
                    b["source"].as_str().unwrap(),
                    b["destination"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            binds,
            [
                (
                    "/sys/fs/cgroup/cpu,cpuacct/berth/c1",
                    "/sys/fs/cgroup/cpu,cpuacct"
                ),
                ("/sys/fs/cgroup/cpu,cpuacct/berth/c1", "/sys/fs/cgroup/cpu"),
                (
                    "/sys/fs/cgroup/cpu,cpuacct/berth/c1",
                    "/sys/fs/cgroup/cpuacct"
                ),
                ("/sys/fs/cgroup/memory/berth/c1", "/sys/fs/cgroup/memory"),
                ("/sys/fs/cgroup/pids/berth/c1", "/sys/fs/cgroup/pids"),
            ]
        );
        let seal = m.last().unwrap();
        assert_eq!(seal["source"], "/b/merged/sys/fs/cgroup");
        assert_eq!(seal["destination"], CGROUP_ROOT);
        assert_eq!(seal["options"][0], "rbind");
        assert_eq!(seal["options"][1], "ro");
    }

    #[test]
    fn v2_is_one_read_only_cgroup2_mount() {
        let m = mounts(&CgroupLayout::V2, "c1", Path::new("/b/merged"), false);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0]["type"], "cgroup");
        assert!(m[0]["options"].as_array().unwrap().contains(&json!("ro")));
    }

    #[test]
    fn privileged_gets_a_writable_cgroup_mount_on_both() {
        for layout in [CgroupLayout::from_mountinfo(V1_INFO), CgroupLayout::V2] {
            let m = mounts(&layout, "c1", Path::new("/b/merged"), true);
            assert_eq!(m.len(), 1);
            assert_eq!(m[0]["type"], "cgroup");
            assert!(m[0]["options"].as_array().unwrap().contains(&json!("rw")));
        }
    }
}
