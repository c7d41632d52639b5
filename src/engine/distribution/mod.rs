//! Distribution: everything that talks to registries. References, credentials, mirrors, the
//! registry client (protocol over oci-client, plain-HTTP probing, `login`'s check), manifests and
//! platforms, and `pull`, which downloads into the content store and hands the image to
//! [`crate::engine::image`].

pub mod credentials;
pub mod manifest;
pub mod mirrors;
pub mod pull;
pub mod reference;
pub mod registry;
pub mod registry_http;
