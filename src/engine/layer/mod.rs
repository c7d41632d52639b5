//! Layers: unpacking a verified layer blob into its directory under `layers/` (`unpack`);
//! walking a directory in overlay form (`tree`); writing one as a layer blob (`writer`); and
//! what a container's upper directory changes over its image (`diff`); what a path is in the
//! merged view of a layer stack (`merged`); an image's init layer, the runtime's mount points it
//! lacks (`init_layer`).

pub mod diff;
pub mod init_layer;
pub mod merged;
pub mod tree;
pub mod unpack;
pub mod writer;
#[cfg(test)]
mod writer_tests;
