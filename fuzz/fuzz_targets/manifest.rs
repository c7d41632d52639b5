//! Manifests and indexes as a registry (or an OCI layout) serves them: `manifest::parse` never
//! panics, keeps only well-formed digests, and platform selection only returns a matching entry.
#![no_main]

use berth::engine::manifest::{self, Fetched, Platform};
use berth::engine::reference::validate_digest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(p) = Platform::parse(s) {
            assert_eq!(Platform::parse(&p.to_string()).ok(), Some(p), "{s:?}");
        }
    }
    match manifest::parse(data, "fuzz") {
        Err(e) => assert!(!e.to_string().is_empty()),
        Ok(Fetched::Manifest(m)) => {
            assert!(!m.layers.is_empty());
            validate_digest(&m.config.digest).expect("config digest was validated");
            for l in &m.layers {
                validate_digest(&l.digest).expect("layer digest was validated");
            }
        }
        Ok(Fetched::Index(index)) => {
            for m in &index.manifests {
                validate_digest(&m.digest).expect("index digest was validated");
            }
            let mut wants = vec![Platform::host()];
            wants.extend(index.manifests.iter().filter_map(|m| m.platform.clone()));
            for want in &wants {
                match manifest::select(&index, want, "fuzz") {
                    Ok(d) => {
                        let p = d.platform.as_ref().expect("selected entry has a platform");
                        assert!(want.matches(p), "{want} picked {p}");
                    }
                    Err(e) => assert!(!e.to_string().is_empty()),
                }
            }
        }
    }
});
