//! Layers: unpacking a verified layer blob into its directory under `layers/`.

pub mod unpack;
