//! Big images of seeded random bytes, for the kill-mid-pull test and the benchmark.
//!
//! `big(5, 20 << 20)` gives ~100 MB over 5 layers. Layer `i` is a tar of files
//! `big/layer-<i>/chunk-<j>.bin` (at most [`CHUNK`] bytes each) whose bytes come from a
//! xorshift64* generator seeded with [`SEED`], the layer index and the sizes, so the same call
//! gives the same digests in every process. Layers are gzip with stored blocks (random bytes do
//! not compress; a real gzip would store them too, only slower to build).

use flate2::Compression;

use super::images::{assemble, cached, host_arch, Flavor, Image, LayerBlob};
use super::tarball::TarBuilder;

pub const SEED: u64 = 0x6265_7274_685f_7465; // "berth_te"
/// Largest file in a big layer.
pub const CHUNK: usize = 8 << 20;

/// `layers` layers of `bytes_per_layer` random bytes each (plus tar headers), cached per process.
pub fn big(layers: usize, bytes_per_layer: usize) -> &'static Image {
    let name = format!("big-{layers}x{bytes_per_layer}");
    cached(&name.clone(), || {
        let blobs: Vec<LayerBlob> = (0..layers)
            .map(|i| LayerBlob::from_tar(&big_tar(i, bytes_per_layer, layers), Compression::none()))
            .collect();
        assemble(&name, Flavor::Oci, host_arch(), &blobs)
    })
}

fn big_tar(layer: usize, bytes: usize, layers: usize) -> Vec<u8> {
    let mut rng = SEED ^ ((layer as u64 + 1) << 48) ^ (bytes as u64) ^ ((layers as u64) << 32);
    let mut t = TarBuilder::new();
    t.dir("big", 0o755);
    t.dir(&format!("big/layer-{layer}"), 0o755);
    let mut left = bytes;
    let mut j = 0;
    while left > 0 {
        let n = left.min(CHUNK);
        let data = random_bytes(&mut rng, n);
        t.file(&format!("big/layer-{layer}/chunk-{j}.bin"), 0o644, &data);
        left -= n;
        j += 1;
    }
    t.finish()
}

/// `n` bytes from xorshift64* with state `state` (never zero).
pub fn random_bytes(state: &mut u64, n: usize) -> Vec<u8> {
    if *state == 0 {
        *state = SEED;
    }
    let mut out = Vec::with_capacity(n + 8);
    while out.len() < n {
        let mut x = *state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        *state = x;
        out.extend_from_slice(&x.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(n);
    out
}
