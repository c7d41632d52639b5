//! Content: the blob store, verified blobs by digest under `blobs/sha256/<hex>`, knowing nothing
//! of where the bytes come from. A stream enters through an [`Ingest`] (expected digest and
//! size, hashed while written to `ingest/`, verified, then committed); bytes already in memory
//! through [`ContentStore::put`].

mod ingest;
mod store;

pub use ingest::{Ingest, OVERRUN_LIMIT};
pub use store::{sha256_digest, sync_dir, ContentStore};
