//! Image references: `ImageRef::parse` never panics, and what it accepts is normalised for good:
//! the full form and the familiar (short) form both parse back to the same reference.
#![no_main]

use berth::engine::reference::{validate_digest, ImageRef};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let r = match ImageRef::parse(input) {
        Ok(r) => r,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    assert!(
        r.tag.is_some() || r.digest.is_some(),
        "{input:?}: neither tag nor digest"
    );
    if let Some(d) = &r.digest {
        assert!(validate_digest(d).is_ok(), "{input:?}: digest {d} kept");
    }
    let full = r.to_string();
    let again = ImageRef::parse(&full)
        .unwrap_or_else(|e| panic!("{input:?}: normalised form {full:?} is refused: {e}"));
    assert_eq!(
        again, r,
        "{input:?}: normalised form {full:?} means something else"
    );
    let familiar = r.familiar();
    let again = ImageRef::parse(&familiar)
        .unwrap_or_else(|e| panic!("{input:?}: familiar form {familiar:?} is refused: {e}"));
    assert_eq!(
        again, r,
        "{input:?}: familiar form {familiar:?} means something else"
    );
    let repo = r.familiar_repository();
    let again = ImageRef::parse(&repo)
        .unwrap_or_else(|e| panic!("{input:?}: familiar repository {repo:?} is refused: {e}"));
    assert_eq!(again.repository(), r.repository(), "{input:?}: {repo:?}");
    let _ = (r.reference(), r.tagged(), r.is_loopback());
});
