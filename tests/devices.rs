//! `--device` (parity item 8): a host device node appears in the container at the path asked
//! for and works with the permissions given; bad values are refused with 125.

mod common;
mod interactive_support;

// /dev/loop-control: a node outside the runtime's default device allowances, harmless to open.

// /dev/loop-control: a node outside the runtime's default device allowances, harmless to open.

use interactive_support::{stderr, stdout, Env};

#[test]
fn devices_are_made_and_allowed() {
    let env = Env::new();
    let root = env.rootfs.to_string_lossy().into_owned();
    let out = env.berth(&[
        "run",
        "--name",
        "dev",
        "--device",
        "/dev/zero:/dev/myzero",
        "--device",
        "/dev/loop-control:/dev/lc:r",
        "--rootfs",
        &root,
        "sh",
        "-c",
        "echo zeros=$(head -c 4 /dev/myzero | wc -c); (exec 3</dev/lc) && echo opened-r; \
         (exec 4>/dev/lc) 2>/dev/null && echo opened-w; true",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("zeros=4"), "{text}");
    // The cgroup lets the second one be opened for reading only.
    assert!(text.contains("opened-r"), "{text}");
    assert!(!text.contains("opened-w"), "{text}");
    let devs = env.inspect("dev")["HostConfig"]["Devices"].clone();
    assert_eq!(devs[0]["PathOnHost"], "/dev/zero");
    assert_eq!(devs[0]["PathInContainer"], "/dev/myzero");
    assert_eq!(devs[1]["CgroupPermissions"], "r");
    env.ok(&["rm", "dev"]);

    // Without --device there is no such node.
    let out = env.berth(&[
        "run",
        "--rm",
        "--rootfs",
        &root,
        "test",
        "-e",
        "/dev/myzero",
    ]);
    assert_eq!(out.status.code(), Some(1));

    for (value, word) in [
        ("/nonexistent", "/nonexistent"),
        ("/etc/passwd", "not a device"),
        ("/dev/zero:rel", "absolute"),
        ("/dev/zero:/dev/z:rwx", "r, w and m"),
    ] {
        let out = env.berth(&["run", "--rm", "--device", value, "--rootfs", &root, "true"]);
        assert_eq!(out.status.code(), Some(125), "{value}");
        assert!(stderr(&out).contains(word), "{value}: {}", stderr(&out));
    }
    assert_eq!(env.ok(&["ps", "-aq"]).trim(), "");
}
