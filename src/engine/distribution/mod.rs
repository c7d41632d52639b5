//! Distribution: everything that talks to registries. References, credentials, mirrors, the
//! registry client (protocol over oci-client, plain-HTTP probing, `login`'s check), the retry
//! policy, manifests and platforms, `fetch` (one blob, written through the content store's
//! ingest) and `pull`, which records the image through [`crate::engine::image`].
//!
//! Dependencies point one way: `registry` uses `registry_http`, both use `backoff`; nothing in
//! [`crate::engine::content`] knows this module.

pub mod backoff;
pub mod credentials;
pub mod fetch;
pub mod login;
pub mod manifest;
pub mod mirrors;
pub mod pull;
pub mod push;
pub mod reference;
pub mod registry;
pub mod registry_http;
pub mod remote_file;
pub mod search;
pub mod upload;
