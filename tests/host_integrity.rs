//! The host's own device nodes stay as they were whatever containers do with `/dev`: images
//! whose `/dev` is a symlink (relative, absolute), `--privileged` (host devices inside),
//! `--device`, and a read-only bind of the host's `/dev`. A runtime that writes through a host path
//! (`chmod` of `ROOTFS/dev/null` following a symlink, a bind mount's node chmodded in place)
//! changes the machine's `/dev/null` for every user: this test compares the host's nodes before
//! and after.

mod common;

use std::os::unix::fs::MetadataExt;

use common::symlinked::{symlinked, Case};
use common::{Auth, Registry, TestRoot};

/// What a host device node looks like: mode (with type), owner, group, device number.
fn node(path: &str) -> (u32, u32, u32, u64) {
    let m = std::fs::symlink_metadata(path).expect("host device node");
    (m.mode(), m.uid(), m.gid(), m.rdev())
}

const NODES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
    "/dev/tty",
    "/dev/ptmx",
];

#[test]
fn containers_leave_the_hosts_device_nodes_as_they_were() {
    let before: Vec<_> = NODES.iter().map(|p| node(p)).collect();
    let reg = Registry::start(Auth::None);
    let t = TestRoot::new();
    let mut images = Vec::new();
    for case in [Case::Destinations, Case::AbsoluteDev, Case::Setuid] {
        let repo = format!("test/{case:?}:latest").to_lowercase();
        reg.push(symlinked(case), &repo);
        let image = reg.reference(&repo);
        t.berth_ok(["pull", "-q", "--tls-verify=false", &image]);
        images.push(image);
    }
    let touch = "ls -l /dev >/dev/null; chmod 600 /dev/null /dev/zero 2>/dev/null; \
                 chown 1:1 /dev/full 2>/dev/null; true";
    let runs: Vec<Vec<&str>> = vec![
        // A relative /dev symlink runs; an absolute one is refused; both must leave the host be.
        vec!["run", "--rm", &images[0], "sh", "-c", touch],
        vec!["run", "--rm", &images[1], "true"],
        vec!["run", "--rm", "--privileged", &images[2], "sh", "-c", touch],
        vec![
            "run",
            "--rm",
            "--device",
            "/dev/null:/dev/mynull",
            &images[2],
            "sh",
            "-c",
            "chmod 600 /dev/mynull; true",
        ],
        vec![
            "run",
            "--rm",
            "-v",
            "/dev:/hostdev:ro",
            &images[2],
            "sh",
            "-c",
            "chmod 600 /hostdev/null 2>/dev/null; true",
        ],
    ];
    for args in &runs {
        // Exit codes are the other tests' business; only the host's nodes matter here.
        let _ = t.berth(args);
        let now: Vec<_> = NODES.iter().map(|p| node(p)).collect();
        for ((path, b), n) in NODES.iter().zip(&before).zip(&now) {
            if b != n {
                // Put the machine back before failing.
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(b.0));
                let _ = std::os::unix::fs::chown(path, Some(b.1), Some(b.2));
            }
            assert_eq!(
                b, n,
                "{path} changed on the host (mode, uid, gid, rdev) after berth {args:?}"
            );
        }
    }
}
