//! `--tmpfs` over a directory of the image keeps that directory's mode, as docker's does
//! (parity item 8); an explicit `mode=` wins, and a new directory gets tmpfs's 1777.

mod common;
mod interactive_support;

use std::os::unix::fs::PermissionsExt;

use interactive_support::{stderr, stdout, Env};

#[test]
fn tmpfs_keeps_the_image_directorys_mode() {
    let env = Env::new();
    let private = env.rootfs.join("private");
    std::fs::create_dir(&private).expect("mkdir");
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o750)).expect("chmod");
    let root = env.rootfs.to_string_lossy().into_owned();
    let out = env.berth(&[
        "run",
        "--rm",
        "--tmpfs",
        "/private",
        "--tmpfs",
        "/fresh",
        "--mount",
        "type=tmpfs,destination=/explicit,tmpfs-mode=0700",
        "--rootfs",
        &root,
        "sh",
        "-c",
        "stat -c '%n %a' /private /fresh /explicit; touch /private/x && echo writable",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("/private 750"), "{text}");
    assert!(text.contains("/fresh 1777"), "{text}");
    assert!(text.contains("/explicit 700"), "{text}");
    assert!(text.contains("writable"), "{text}");
}
