//! `-v`, `--mount`, `--tmpfs` and `--volumes-from` parsing: never panics, and what it accepts is
//! safe to hand on: destinations and host paths absolute and lexically clean, volume names valid,
//! tmpfs options each one the kernel's tmpfs knows (no comma can smuggle in another option).
#![no_main]

use berth::engine::mounts::mount_flag::check_tmpfs_option;
use berth::engine::mounts::parse::{
    clean_destination, parse_mount_flag, parse_tmpfs_flag, parse_volume_flag, parse_volumes_from,
};
use berth::engine::mounts::{MountRequest, MountSource};
use berth::engine::volume::name;
use libfuzzer_sys::fuzz_target;

fn clean(path: &str) -> bool {
    path.starts_with('/')
        && path != "/"
        && !path.ends_with('/')
        && path[1..]
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
}

fn check(spec: &str, req: &MountRequest) {
    let dest = &req.destination;
    assert!(clean(dest), "{spec:?}: destination {dest:?} is not clean");
    assert_eq!(
        clean_destination("x", dest).ok().as_ref(),
        Some(dest),
        "{spec:?}"
    );
    match &req.source {
        MountSource::Volume { name: Some(n), .. } => {
            assert!(
                name::validate(n).is_ok(),
                "{spec:?}: volume name {n:?} accepted"
            )
        }
        MountSource::Volume { name: None, .. } => {}
        MountSource::Bind { path, .. } => {
            let p = path.to_str().expect("host path came from a str");
            assert!(
                p == "/" || clean(p),
                "{spec:?}: host path {p:?} is not clean"
            );
            assert!(
                !req.propagation.is_empty(),
                "{spec:?}: bind without propagation"
            );
        }
        MountSource::Tmpfs { options } => {
            for o in options {
                assert!(
                    !o.contains(','),
                    "{spec:?}: tmpfs option {o:?} holds a comma"
                );
                assert!(
                    check_tmpfs_option("x", o).is_ok(),
                    "{spec:?}: tmpfs option {o:?}"
                );
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Ok(spec) = std::str::from_utf8(rest) else {
        return;
    };
    let parsed = match which % 4 {
        0 => parse_volume_flag(spec),
        1 => parse_mount_flag(spec),
        2 => parse_tmpfs_flag(spec),
        _ => {
            if let Ok(v) = parse_volumes_from(spec) {
                assert!(!v.container.is_empty(), "{spec:?}");
            }
            return;
        }
    };
    match parsed {
        Ok(req) => check(spec, &req),
        Err(e) => assert!(e.to_string().starts_with("invalid "), "{spec:?}: {e}"),
    }
});
