//! Archives as users hand them to berth (`import`, `load`, a build context on stdin, an ADD
//! source): plain, gzip, zstd, xz or bzip2, told apart by their first bytes. Layers of images
//! are not read here: OCI allows only plain, gzip and zstd there (see `layer::unpack`).

use std::io::{BufRead, BufReader, Read};

use crate::engine::error::{EngineError, Result};

/// The compression of a stream, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// No known compression magic (a plain tar, or not an archive at all).
    None,
    Gzip,
    Zstd,
    Xz,
    Bzip2,
}

impl Compression {
    /// Recognises the magic bytes at the start of `head`.
    pub fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
            Compression::Xz
        } else if head.starts_with(b"BZh") {
            Compression::Bzip2
        } else {
            Compression::None
        }
    }
}

/// Whether `head` starts like an archive berth can unpack: compressed by one of the
/// [`Compression`]s or a tar (`ustar` at offset 257).
pub fn looks_like_archive(head: &[u8]) -> bool {
    Compression::sniff(head) != Compression::None
        || (head.len() >= 262 && &head[257..262] == b"ustar")
}

/// `input` decompressed, whatever of the [`Compression`]s it uses. An empty input is refused,
/// `what` naming it in the message ("the input", "the archive").
pub fn decompressed<'a>(input: impl Read + 'a, what: &str) -> Result<Box<dyn Read + 'a>> {
    let mut buffered = BufReader::with_capacity(1 << 20, input);
    let head = buffered
        .fill_buf()
        .map_err(|e| EngineError::io(format!("cannot read {what}"), e))?;
    if head.is_empty() {
        return Err(EngineError::InvalidInput(format!(
            "{what} is empty: give a tar archive"
        )));
    }
    Ok(match Compression::sniff(head) {
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(buffered)),
        Compression::Zstd => Box::new(
            zstd::stream::read::Decoder::with_buffer(buffered)
                .map_err(|e| EngineError::io("cannot start the zstd decoder", e))?,
        ),
        Compression::Xz => Box::new(xz2::bufread::XzDecoder::new_multi_decoder(buffered)),
        Compression::Bzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(buffered)),
        Compression::None => Box::new(buffered),
    })
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn roundtrip(compressed: Vec<u8>, kind: Compression) {
        assert_eq!(Compression::sniff(&compressed), kind);
        let mut out = Vec::new();
        decompressed(&compressed[..], "the input")
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, b"hello archive");
    }

    #[test]
    fn every_compression_reads_back() {
        let data = b"hello archive";
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(data).unwrap();
        roundtrip(gz.finish().unwrap(), Compression::Gzip);
        roundtrip(zstd::encode_all(&data[..], 1).unwrap(), Compression::Zstd);
        let mut xz = xz2::write::XzEncoder::new(Vec::new(), 1);
        xz.write_all(data).unwrap();
        roundtrip(xz.finish().unwrap(), Compression::Xz);
        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        bz.write_all(data).unwrap();
        roundtrip(bz.finish().unwrap(), Compression::Bzip2);
        roundtrip(data.to_vec(), Compression::None);
        assert!(decompressed(&b""[..], "the input").is_err());
    }
}
