//! Unpacking while downloading: the bytes of a layer blob go to the content store's ingest and,
//! at the same time, over a bounded channel to the unpacker, so a layer is unpacked as it
//! arrives instead of after its last byte.
//!
//! The stream is only trusted once the download is committed: [`Tee::complete`] says every byte
//! of the blob went through in order (no restart of the download, no consumer gone), and the
//! caller keeps what the unpacker made only when that is true *and* the ingest verified the
//! blob's digest. Otherwise the unpacked directory is dropped (which removes it) and the layer is
//! unpacked again from the verified blob, or the pull fails. A download that breaks and resumes
//! with a range request continues the stream where it stopped; a registry that ignores the range
//! and starts over breaks it (the unpacker gets an error and the blob is unpacked from the store
//! afterwards).

use std::io::{self, Read};

use bytes::Bytes;
use tokio::sync::mpsc;

/// Chunks in flight between the download and the unpacker (HTTP chunks are 8–64 KiB).
const DEPTH: usize = 256;

/// The download's end: sends the blob's bytes in order to [`BlobStream`].
pub struct Tee {
    tx: Option<mpsc::Sender<io::Result<Bytes>>>,
    /// Bytes sent: the offset of the next byte the consumer expects.
    sent: u64,
    size: u64,
}

/// The unpacker's end: a blocking [`Read`] over what [`Tee`] sends. Never read it from async
/// code (it blocks the thread).
pub struct BlobStream {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    cur: Bytes,
    done: bool,
}

/// A tee for a blob of `size` bytes and the stream it feeds.
pub fn tee(size: u64) -> (Tee, BlobStream) {
    let (tx, rx) = mpsc::channel(DEPTH);
    (
        Tee {
            tx: Some(tx),
            sent: 0,
            size,
        },
        BlobStream {
            rx,
            cur: Bytes::new(),
            done: false,
        },
    )
}

impl Tee {
    /// Sends `bytes`, which the ingest stored at `offset`. Bytes that do not continue the
    /// stream (a download started over) break it: the consumer gets an error.
    pub async fn send(&mut self, offset: u64, bytes: Bytes) {
        if bytes.is_empty() {
            return;
        }
        if offset != self.sent {
            self.abort("the download started over").await;
            return;
        }
        let Some(tx) = &self.tx else { return };
        let n = bytes.len() as u64;
        if tx.send(Ok(bytes)).await.is_err() {
            // The unpacker stopped (an error it reports itself).
            self.tx = None;
            return;
        }
        self.sent += n;
    }

    /// Breaks the stream: the consumer's next read fails with `why`.
    pub async fn abort(&mut self, why: &str) {
        if let Some(tx) = self.tx.take() {
            let _ = tx.send(Err(io::Error::other(why.to_string()))).await;
        }
    }

    /// True when every byte of the blob was sent, in order, to a consumer still reading.
    pub fn complete(&self) -> bool {
        self.tx.is_some() && self.sent == self.size
    }

    /// Ends the stream: a complete one reaches its end normally, any other ends with an error,
    /// so an unpacker never takes a cut-off stream for a whole layer.
    pub async fn finish(mut self) {
        if self.complete() {
            self.tx = None;
        } else {
            self.abort("the download did not complete").await;
        }
    }
}

/// The same from blocking code (an archive being read on a blocking thread).
impl Tee {
    /// [`Tee::send`], blocking while the consumer is behind. Never call it from async code.
    pub fn send_blocking(&mut self, offset: u64, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if offset != self.sent {
            self.abort_blocking("the blob's bytes came out of order");
            return;
        }
        let Some(tx) = &self.tx else { return };
        if tx.blocking_send(Ok(Bytes::copy_from_slice(bytes))).is_err() {
            self.tx = None;
            return;
        }
        self.sent += bytes.len() as u64;
    }

    fn abort_blocking(&mut self, why: &str) {
        if let Some(tx) = self.tx.take() {
            let _ = tx.blocking_send(Err(io::Error::other(why.to_string())));
        }
    }

    /// [`Tee::finish`], blocking.
    pub fn finish_blocking(mut self) {
        if self.complete() {
            self.tx = None;
        } else {
            self.abort_blocking("the blob did not come whole");
        }
    }
}

impl Drop for Tee {
    /// A tee dropped unfinished (an error on the way) breaks the stream if it still can.
    fn drop(&mut self) {
        if let Some(tx) = self.tx.take() {
            let _ = tx.try_send(Err(io::Error::other("the download stopped")));
        }
    }
}

impl Read for BlobStream {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.cur.is_empty() {
            if self.done {
                return Ok(0);
            }
            match self.rx.blocking_recv() {
                Some(Ok(b)) => self.cur = b,
                Some(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                None => {
                    self.done = true;
                    return Ok(0);
                }
            }
        }
        let n = out.len().min(self.cur.len());
        out[..n].copy_from_slice(&self.cur.split_to(n));
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(mut s: BlobStream) -> io::Result<Vec<u8>> {
        let mut v = Vec::new();
        s.read_to_end(&mut v).map(|_| v)
    }

    #[tokio::test]
    async fn a_complete_stream_reads_to_its_end() {
        let (mut tee, stream) = super::tee(6);
        let reader = tokio::task::spawn_blocking(move || drain(stream));
        tee.send(0, Bytes::from_static(b"abc")).await;
        tee.send(3, Bytes::from_static(b"def")).await;
        assert!(tee.complete());
        tee.finish().await;
        assert_eq!(reader.await.unwrap().unwrap(), b"abcdef");
    }

    #[tokio::test]
    async fn a_restarted_or_short_stream_ends_in_an_error() {
        let (mut tee, stream) = super::tee(6);
        let reader = tokio::task::spawn_blocking(move || drain(stream));
        tee.send(0, Bytes::from_static(b"abc")).await;
        // The download started over at 0: the stream cannot continue.
        tee.send(0, Bytes::from_static(b"abc")).await;
        assert!(!tee.complete());
        tee.finish().await;
        assert!(reader.await.unwrap().is_err());

        let (mut tee, stream) = super::tee(6);
        let reader = tokio::task::spawn_blocking(move || drain(stream));
        tee.send(0, Bytes::from_static(b"abc")).await;
        assert!(!tee.complete());
        tee.finish().await;
        let err = reader.await.unwrap().unwrap_err();
        assert!(err.to_string().contains("did not complete"), "{err}");
    }
}
