//! The metadata calls the extractor leaves out when a new entry already has what the layer asks
//! for: each case where the kernel would give a new entry something else (a setgid directory,
//! a default ACL, the umask, special mode bits, another owner) must still end as the layer says.
//! Also the directory cache: a cached directory replaced by a symlink, paths deeper than the cache.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

use tar::{Builder, EntryType};

use super::tests::{dir, file, header, link, tar_of, Sandbox, TAR};

fn entry(b: &mut Builder<Vec<u8>>, name: &str, ty: EntryType, mode: u32, owner: (u64, u64)) {
    let mut h = header(name, ty, 0);
    h.set_mode(mode);
    h.set_uid(owner.0);
    h.set_gid(owner.1);
    h.set_cksum();
    b.append(&h, &[][..]).expect("append");
}

fn mode_of(p: &std::path::Path) -> u32 {
    fs::symlink_metadata(p).expect("lstat").permissions().mode() & 0o7777
}

fn owner_of(p: &std::path::Path) -> (u32, u32) {
    let md = fs::symlink_metadata(p).expect("lstat");
    (md.uid(), md.gid())
}

#[test]
fn setgid_directories_and_modes_the_umask_would_cut_end_as_the_layer_says() {
    let sb = Sandbox::new();
    let tar = tar_of(|b| {
        entry(b, "shared/", EntryType::Directory, 0o2775, (0, 50));
        entry(b, "shared/root-file", EntryType::Regular, 0o644, (0, 0));
        entry(b, "shared/sub/", EntryType::Directory, 0o755, (0, 0));
        entry(b, "shared/sub/f", EntryType::Regular, 0o600, (0, 0));
        // Parents the layer does not list, below a setgid directory: 0755 exactly.
        entry(
            b,
            "shared/implicit/deeper/f",
            EntryType::Regular,
            0o644,
            (0, 0),
        );
        link(b, "shared/link", EntryType::Symlink, "root-file");
        entry(b, "open/", EntryType::Directory, 0o777, (0, 0));
        entry(b, "open/all", EntryType::Regular, 0o666, (0, 0));
        entry(b, "open/sticky/", EntryType::Directory, 0o1777, (0, 0));
        entry(b, "bin/", EntryType::Directory, 0o755, (0, 0));
        entry(b, "bin/su", EntryType::Regular, 0o4755, (0, 0));
        entry(b, "bin/wall", EntryType::Regular, 0o2755, (0, 5));
        entry(b, "home/", EntryType::Directory, 0o755, (0, 0));
        entry(b, "home/app/", EntryType::Directory, 0o750, (1000, 1000));
        entry(b, "home/app/tool", EntryType::Regular, 0o4750, (1000, 1000));
        entry(b, "home/app/plain", EntryType::Regular, 0o640, (1000, 1000));
        // A directory listed again changes what the first listing set.
        entry(b, "home/app/", EntryType::Directory, 0o700, (1001, 1002));
    });
    sb.unpack(&tar, TAR).expect("unpack");
    let l = sb.layer();
    assert_eq!(mode_of(&l.join("shared")), 0o2775);
    assert_eq!(owner_of(&l.join("shared")), (0, 50));
    assert_eq!(
        owner_of(&l.join("shared/root-file")),
        (0, 0),
        "not the setgid dir's group"
    );
    assert_eq!(mode_of(&l.join("shared/root-file")), 0o644);
    assert_eq!(
        mode_of(&l.join("shared/sub")),
        0o755,
        "no inherited setgid bit"
    );
    assert_eq!(owner_of(&l.join("shared/sub")), (0, 0));
    assert_eq!(owner_of(&l.join("shared/sub/f")), (0, 0));
    assert_eq!(mode_of(&l.join("shared/sub/f")), 0o600);
    assert_eq!(mode_of(&l.join("shared/implicit")), 0o755);
    assert_eq!(mode_of(&l.join("shared/implicit/deeper")), 0o755);
    assert_eq!(owner_of(&l.join("shared/link")), (0, 0));
    assert_eq!(mode_of(&l.join("open")), 0o777);
    assert_eq!(mode_of(&l.join("open/all")), 0o666);
    assert_eq!(mode_of(&l.join("open/sticky")), 0o1777);
    assert_eq!(mode_of(&l.join("bin/su")), 0o4755);
    assert_eq!(mode_of(&l.join("bin/wall")), 0o2755);
    assert_eq!(owner_of(&l.join("bin/wall")), (0, 5));
    assert_eq!(mode_of(&l.join("home/app")), 0o700);
    assert_eq!(owner_of(&l.join("home/app")), (1001, 1002));
    assert_eq!(
        mode_of(&l.join("home/app/tool")),
        0o4750,
        "setuid kept after chown"
    );
    assert_eq!(owner_of(&l.join("home/app/tool")), (1000, 1000));
    assert_eq!(owner_of(&l.join("home/app/plain")), (1000, 1000));
    assert_eq!(mode_of(&l.join("home/app/plain")), 0o640);
}

/// A default ACL that allows the owner only reading would make a new 0644 file 0400.
#[test]
fn a_default_acl_on_a_layer_directory_does_not_change_its_files_modes() {
    // posix_acl_xattr: version 2, then (tag u16, perm u16, id u32) for USER_OBJ r--,
    // GROUP_OBJ ---, OTHER ---.
    let mut acl = 2u32.to_le_bytes().to_vec();
    for (tag, perm) in [(0x01u16, 4u16), (0x04, 0), (0x20, 0)] {
        acl.extend_from_slice(&tag.to_le_bytes());
        acl.extend_from_slice(&perm.to_le_bytes());
        acl.extend_from_slice(&u32::MAX.to_le_bytes());
    }
    let sb = Sandbox::new();
    let tar = tar_of(|b| {
        b.append_pax_extensions([("SCHILY.xattr.system.posix_acl_default", &acl[..])])
            .expect("pax");
        dir(b, "acl/");
        entry(b, "acl/f", EntryType::Regular, 0o644, (0, 0));
        entry(b, "acl/d/", EntryType::Directory, 0o755, (0, 0));
        entry(b, "acl/implicit/f", EntryType::Regular, 0o664, (0, 0));
    });
    sb.unpack(&tar, TAR).expect("unpack");
    let l = sb.layer();
    let has_acl = xattr::get(l.join("acl"), "system.posix_acl_default")
        .ok()
        .flatten()
        .is_some();
    if !has_acl {
        eprintln!("the temp dir's filesystem has no ACLs: nothing to check");
        return;
    }
    assert_eq!(mode_of(&l.join("acl/f")), 0o644);
    assert_eq!(mode_of(&l.join("acl/d")), 0o755);
    assert_eq!(mode_of(&l.join("acl/implicit")), 0o755);
    assert_eq!(mode_of(&l.join("acl/implicit/f")), 0o664);
}

#[test]
fn a_cached_directory_replaced_by_a_symlink_is_not_written_through() {
    let sb = Sandbox::new();
    let tar = tar_of(|b| {
        dir(b, "x/");
        file(b, "x/one", b"1");
        link(b, "x", EntryType::Symlink, "../outside");
        file(b, "x/two", b"2");
    });
    let before = sb.outside_listing();
    let err = sb
        .unpack(&tar, TAR)
        .expect_err("write through the new symlink");
    assert!(err.to_string().contains("x/two"), "{err}");
    assert!(err.to_string().contains("symlink"), "{err}");
    assert_eq!(sb.outside_listing(), before);
    assert!(!sb.path().join("outside/two").exists());
}

#[test]
fn paths_deeper_than_the_cache_unpack_and_come_back() {
    let sb = Sandbox::new();
    let deep: Vec<String> = (0..100).map(|i| format!("d{i}")).collect();
    let path = deep.join("/");
    let tar = tar_of(|b| {
        let mut pax: Vec<(&str, &[u8])> = Vec::new();
        let name = format!("{path}/leaf");
        pax.push(("path", name.as_bytes()));
        b.append_pax_extensions(pax).expect("pax");
        file(b, "placeholder-leaf", b"deep");
        let name2 = format!("{path}/leaf2");
        b.append_pax_extensions([("path", name2.as_bytes())])
            .expect("pax");
        file(b, "placeholder-leaf2", b"deeper");
        file(b, "d0/top", b"top");
        let name3 = format!("{}/mid", deep[..70].join("/"));
        b.append_pax_extensions([("path", name3.as_bytes())])
            .expect("pax");
        file(b, "placeholder-mid", b"mid");
    });
    sb.unpack(&tar, TAR).expect("unpack");
    let l = sb.layer();
    assert_eq!(fs::read(l.join(&path).join("leaf")).expect("leaf"), b"deep");
    assert_eq!(
        fs::read(l.join(&path).join("leaf2")).expect("leaf2"),
        b"deeper"
    );
    assert_eq!(fs::read(l.join("d0/top")).expect("top"), b"top");
    let mid = l.join(deep[..70].join("/")).join("mid");
    assert_eq!(fs::read(mid).expect("mid"), b"mid");
}
