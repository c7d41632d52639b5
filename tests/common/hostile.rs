//! Single-layer images whose layer tries to break out of the extraction directory (the cases of
//! ANCHORS.md: containerd's TestBreakouts, umoci CVE-2021-29136, containerd CVE-2021-32760).
//!
//! Each layer starts with a harmless `safe/` dir and `safe/ok.txt`, then the hostile entries
//! (written with raw tar headers: the `tar` crate's builder refuses them). `..` chains are
//! [`UP`] (12 levels), enough to climb from any engine root to `/`. An extractor must refuse
//! every case with an error naming [`HostileCase::entry`], and must leave
//! [`HostileCase::outside_path`] untouched: absent for the write cases, present and unchanged
//! for the cases with a [`HostileCase::victim`] (the test creates it first, then checks it).

use flate2::Compression;

use super::images::{assemble, cached, host_arch, Flavor, Image, LayerBlob};
use super::tarball::TarBuilder;

/// Twelve `../`.
pub const UP: &str = "../../../../../../../../../../../../";
/// What every victim file holds before the pull; it must still hold it afterwards.
pub const VICTIM_CONTENT: &str = "berth hostile-layer victim: must stay unchanged\n";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HostileCase {
    /// A file named `../…/tmp/berth-escape-dotdot`.
    DotDot,
    /// A file named `/tmp/berth-escape-absolute`.
    Absolute,
    /// Symlink `evil -> /tmp`, then a file `evil/berth-escape-symlink-abs` written through it.
    SymlinkAbsolute,
    /// Symlink `evil -> ../…/tmp`, then a file `evil/berth-escape-symlink-rel` through it.
    SymlinkRelative,
    /// Hard link `stolen` to `../…/tmp/berth-hostile-hardlink-victim`, then a regular file
    /// `stolen` whose bytes would land in the victim through the link.
    HardlinkOutside,
    /// A whiteout `.wh...` at the top: it names `..`, the parent of the layer directory.
    WhiteoutDotDot,
    /// A whiteout `../…/tmp/.wh.berth-hostile-whiteout-victim`: deletes a file outside.
    WhiteoutOutside,
}

impl HostileCase {
    pub const ALL: [HostileCase; 7] = [
        HostileCase::DotDot,
        HostileCase::Absolute,
        HostileCase::SymlinkAbsolute,
        HostileCase::SymlinkRelative,
        HostileCase::HardlinkOutside,
        HostileCase::WhiteoutDotDot,
        HostileCase::WhiteoutOutside,
    ];

    /// A short name, also the image label suffix (`hostile-<name>`).
    pub fn name(self) -> &'static str {
        match self {
            HostileCase::DotDot => "dotdot",
            HostileCase::Absolute => "absolute",
            HostileCase::SymlinkAbsolute => "symlink-absolute",
            HostileCase::SymlinkRelative => "symlink-relative",
            HostileCase::HardlinkOutside => "hardlink-outside",
            HostileCase::WhiteoutDotDot => "whiteout-dotdot",
            HostileCase::WhiteoutOutside => "whiteout-outside",
        }
    }

    /// The tar entry name an error must mention.
    pub fn entry(self) -> String {
        match self {
            HostileCase::DotDot => format!("{UP}tmp/berth-escape-dotdot"),
            HostileCase::Absolute => "/tmp/berth-escape-absolute".into(),
            HostileCase::SymlinkAbsolute => "evil/berth-escape-symlink-abs".into(),
            HostileCase::SymlinkRelative => "evil/berth-escape-symlink-rel".into(),
            HostileCase::HardlinkOutside => "stolen".into(),
            HostileCase::WhiteoutDotDot => ".wh...".into(),
            HostileCase::WhiteoutOutside => format!("{UP}tmp/.wh.berth-hostile-whiteout-victim"),
        }
    }

    /// The host path the case aims at (None for `WhiteoutDotDot`, which aims at the parent of
    /// the layer dir: check that the engine root is intact instead).
    pub fn outside_path(self) -> Option<&'static str> {
        match self {
            HostileCase::DotDot => Some("/tmp/berth-escape-dotdot"),
            HostileCase::Absolute => Some("/tmp/berth-escape-absolute"),
            HostileCase::SymlinkAbsolute => Some("/tmp/berth-escape-symlink-abs"),
            HostileCase::SymlinkRelative => Some("/tmp/berth-escape-symlink-rel"),
            HostileCase::HardlinkOutside => Some("/tmp/berth-hostile-hardlink-victim"),
            HostileCase::WhiteoutDotDot => None,
            HostileCase::WhiteoutOutside => Some("/tmp/berth-hostile-whiteout-victim"),
        }
    }

    /// Whether the test must create `outside_path` (with [`VICTIM_CONTENT`]) before the pull
    /// and check it unchanged after; otherwise `outside_path` must not exist after the pull.
    pub fn victim(self) -> bool {
        matches!(
            self,
            HostileCase::HardlinkOutside | HostileCase::WhiteoutOutside
        )
    }

    fn tar(self) -> Vec<u8> {
        let mut t = TarBuilder::new();
        t.dir("safe", 0o755);
        t.file("safe/ok.txt", 0o644, b"harmless\n");
        let escaped = b"escaped from the layer\n";
        match self {
            HostileCase::DotDot | HostileCase::Absolute => {
                t.file(&self.entry(), 0o644, escaped);
            }
            HostileCase::SymlinkAbsolute => {
                t.symlink("evil", "/tmp");
                t.file(&self.entry(), 0o644, escaped);
            }
            HostileCase::SymlinkRelative => {
                t.symlink("evil", &format!("{UP}tmp"));
                t.file(&self.entry(), 0o644, escaped);
            }
            HostileCase::HardlinkOutside => {
                t.hardlink("stolen", &format!("{UP}tmp/berth-hostile-hardlink-victim"));
                t.file("stolen", 0o644, escaped);
            }
            HostileCase::WhiteoutDotDot | HostileCase::WhiteoutOutside => {
                t.file(&self.entry(), 0o644, b"");
            }
        }
        t.finish()
    }
}

/// The single-layer image for `case` (cached per process).
pub fn hostile(case: HostileCase) -> &'static Image {
    let name = format!("hostile-{}", case.name());
    cached(&name.clone(), || {
        let layer = LayerBlob::from_tar(&case.tar(), Compression::default());
        assemble(&name, Flavor::Oci, host_arch(), &[layer])
    })
}
