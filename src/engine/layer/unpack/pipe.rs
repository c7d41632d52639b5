//! Decompression on a thread of its own, so it runs while the extractor makes files: a layer's
//! time is then the longer of the two, not their sum.
//!
//! The producer reads the decompressed stream in chunks and hands them over a bounded channel;
//! the consumer is a `Read` over the chunks that hashes each as it arrives (the diff id) and gives
//! emptied buffers back. Decompression is the longest single chain of a big layer's unpack, so the
//! hashing is on the consumer's side, whose file creation is spread over workers. When the
//! consumer stops early (an error), the channel closes and the producer ends at its next chunk.

use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use sha2::{Digest, Sha256};

/// Size of one chunk of decompressed data.
const CHUNK: usize = 256 * 1024;
/// Chunks in flight between the threads.
const DEPTH: usize = 4;

/// The producer side: reads `input` to its end. Stops early when the consumer is gone.
pub(super) fn produce(
    mut input: impl Read,
    tx: SyncSender<io::Result<Vec<u8>>>,
    spare: Receiver<Vec<u8>>,
) {
    loop {
        let mut buf = spare
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(CHUNK));
        buf.resize(CHUNK, 0);
        let mut filled = 0;
        let result = loop {
            match input.read(&mut buf[filled..]) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    filled += n;
                    if filled == CHUNK {
                        break Ok(());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        buf.truncate(filled);
        let end = filled < CHUNK;
        let sent = match result {
            Ok(()) if filled > 0 => tx.send(Ok(buf)),
            Ok(()) => Ok(()),
            Err(e) => {
                // What was read before the error goes first, then the error.
                if filled > 0 {
                    let _ = tx.send(Ok(buf));
                }
                let _ = tx.send(Err(e));
                break;
            }
        };
        if sent.is_err() || end {
            break;
        }
    }
}

/// What [`produce`] takes: where chunks go, and where emptied buffers come back from.
pub(super) type Producer = (SyncSender<io::Result<Vec<u8>>>, Receiver<Vec<u8>>);

/// The channel pair for [`produce`] and [`Chunks`].
pub(super) fn channel() -> (Producer, Chunks) {
    let (tx, rx) = sync_channel(DEPTH);
    let (spare_tx, spare_rx) = sync_channel(DEPTH + 2);
    (
        (tx, spare_rx),
        Chunks {
            rx,
            spare: spare_tx,
            cur: Vec::new(),
            pos: 0,
            done: false,
            hasher: Sha256::new(),
        },
    )
}

/// The consumer side: a reader over the producer's chunks.
pub(super) struct Chunks {
    rx: Receiver<io::Result<Vec<u8>>>,
    spare: SyncSender<Vec<u8>>,
    cur: Vec<u8>,
    pos: usize,
    done: bool,
    hasher: Sha256,
}

impl Chunks {
    /// `sha256:<hex>` of every byte received so far (all of them once a read returned 0).
    pub(super) fn digest(&self) -> String {
        format!("sha256:{}", hex::encode(self.hasher.clone().finalize()))
    }
}

impl Read for Chunks {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.cur.len() {
            if self.done {
                return Ok(0);
            }
            match self.rx.recv() {
                Ok(Ok(next)) => {
                    self.hasher.update(&next);
                    let old = std::mem::replace(&mut self.cur, next);
                    let _ = self.spare.try_send(old);
                    self.pos = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                // The producer ended: everything was received.
                Err(_) => {
                    self.done = true;
                    return Ok(0);
                }
            }
        }
        let n = out.len().min(self.cur.len() - self.pos);
        out[..n].copy_from_slice(&self.cur[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
