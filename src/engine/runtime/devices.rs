//! Device nodes and the device cgroup. A default container gets libcontainer's standard nodes
//! (null, zero, full, tty, random, urandom, ptmx, pts) and may create nodes (`mknod`, with
//! CAP_MKNOD) but open none beyond those; `--privileged`, as Docker, gets every device node of
//! the host's `/dev` and a device cgroup that allows everything.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use serde_json::{json, Value};

/// Entries of the host's `/dev` that are never copied: other filesystems mounted there,
/// libcontainer's own `/dev/ptmx` symlink and the console (a container's console is its pty).
const SKIPPED: [&str; 9] = [
    "/dev/pts",
    "/dev/shm",
    "/dev/mqueue",
    "/dev/fd",
    "/dev/console",
    "/dev/ptmx",
    "/dev/.lxc",
    "/dev/.lxd-mounts",
    "/dev/.udev",
];

/// How deep under `/dev` to look (`/dev/dri/by-path/…` is deep enough).
const MAX_DEPTH: usize = 4;

/// `linux.resources.devices`: deny everything (libcontainer then allows its standard nodes and
/// `mknod`), or allow everything when privileged.
pub fn cgroup_rules(privileged: bool) -> Value {
    json!([{"allow": privileged, "access": "rwm"}])
}

/// `linux.devices`: every character and block device under the host's `/dev` (for
/// `--privileged`).
pub fn host_devices() -> Vec<Value> {
    let mut out = Vec::new();
    walk(Path::new("/dev"), 0, &mut out);
    out
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<Value>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if SKIPPED.iter().any(|s| path == Path::new(s)) {
            continue;
        }
        // Never follows a link: a symlink in /dev is not a device node.
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let ft = meta.file_type();
        let typ = if ft.is_char_device() {
            "c"
        } else if ft.is_block_device() {
            "b"
        } else {
            if ft.is_dir() && depth < MAX_DEPTH {
                walk(&path, depth + 1, out);
            }
            continue;
        };
        let rdev = meta.rdev();
        out.push(json!({
            "path": path,
            "type": typ,
            "major": nix::sys::stat::major(rdev),
            "minor": nix::sys::stat::minor(rdev),
            "fileMode": meta.mode() & 0o7777,
            "uid": meta.uid(),
            "gid": meta.gid(),
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_devices_are_the_nodes_of_dev_and_nothing_else() {
        let devs = host_devices();
        let null = devs
            .iter()
            .find(|d| d["path"] == "/dev/null")
            .expect("/dev/null is listed");
        assert_eq!(
            (null["type"].clone(), null["major"].clone()),
            ("c".into(), 1.into())
        );
        assert_eq!(null["minor"], 3);
        for d in &devs {
            let p = d["path"].as_str().unwrap();
            assert!(!p.starts_with("/dev/pts/") && p != "/dev/ptmx" && p != "/dev/console");
            assert!(d["type"] == "c" || d["type"] == "b", "{d}");
        }
        assert_eq!(cgroup_rules(true)[0]["allow"], true);
        assert_eq!(cgroup_rules(false)[0]["allow"], false);
    }
}
