//! Content: the blob store, verified blobs by digest under `blobs/sha256/<hex>`, knowing nothing
//! of where the bytes come from.

mod store;

pub use store::{sha256_digest, sync_dir, ContentStore};
