//! Content: the blob store, verified blobs by digest under `blobs/sha256/<hex>`, knowing nothing
//! of where the bytes come from. A stream enters through an [`Ingest`] (expected digest and
//! size, hashed while written to `ingest/`, verified, then committed); bytes already in memory
//! through [`ContentStore::put`]; a stream whose digest is known only at its end (a layer
//! being written) through a [`BlobWriter`].

mod ingest;
mod store;
mod writer;

pub use ingest::{Ingest, OVERRUN_LIMIT};
pub use store::{sha256_digest, sync_dir, ContentStore};
pub use writer::{BlobWriter, StoredBlob};
