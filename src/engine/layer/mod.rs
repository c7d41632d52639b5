//! Layers: unpacking a verified layer blob into its directory under `layers/` (`unpack`);
//! walking a directory in overlay form (`tree`); writing one as a layer blob (`writer`); and
//! what a container's upper directory changes over its image (`diff`).

pub mod diff;
pub mod tree;
pub mod unpack;
pub mod writer;
#[cfg(test)]
mod writer_tests;
