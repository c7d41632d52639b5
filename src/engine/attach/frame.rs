//! The attach protocol: frames of one type byte, a 4-byte big-endian payload length and the
//! payload. Clients send stdin data, stdin close, window sizes and detach; the monitor sends
//! stdout and stderr data (one stream with a tty), an error message and the exit code.

use std::io::{self, Read, Write};

/// Largest payload accepted; bigger frames mean a confused or hostile peer.
pub const MAX_PAYLOAD: usize = 1 << 20;
/// Size of a frame header.
pub const HEADER: usize = 5;

const STDIN: u8 = 1;
const STDOUT: u8 = 2;
const STDERR: u8 = 3;
const RESIZE: u8 = 4;
const DETACH: u8 = 5;
const EXIT: u8 = 6;
const STDIN_CLOSE: u8 = 7;
const ERROR: u8 = 8;

/// One message of the attach protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// Client → monitor: bytes for the container's stdin (or the pty).
    Stdin(Vec<u8>),
    /// Client → monitor: the client's stdin ended.
    StdinClose,
    /// Client → monitor: the client's terminal size.
    Resize { rows: u16, cols: u16 },
    /// Client → monitor: the client leaves; the container keeps running.
    Detach,
    /// Monitor → client: output on stdout (all output with a tty).
    Stdout(Vec<u8>),
    /// Monitor → client: output on stderr.
    Stderr(Vec<u8>),
    /// Monitor → client: the process could not be started or the session failed.
    Error(String),
    /// Monitor → client: the process exited with this code; the last frame.
    Exit(i32),
}

impl Frame {
    /// The encoded frame.
    pub fn encode(&self) -> Vec<u8> {
        let (kind, payload): (u8, Vec<u8>) = match self {
            Frame::Stdin(d) => (STDIN, d.clone()),
            Frame::StdinClose => (STDIN_CLOSE, Vec::new()),
            Frame::Resize { rows, cols } => {
                let mut p = rows.to_be_bytes().to_vec();
                p.extend_from_slice(&cols.to_be_bytes());
                (RESIZE, p)
            }
            Frame::Detach => (DETACH, Vec::new()),
            Frame::Stdout(d) => (STDOUT, d.clone()),
            Frame::Stderr(d) => (STDERR, d.clone()),
            Frame::Error(m) => (ERROR, m.as_bytes().to_vec()),
            Frame::Exit(code) => (EXIT, code.to_be_bytes().to_vec()),
        };
        encode_raw(kind, &payload)
    }

    /// Decodes the first frame of `buf`: `Ok(Some((frame, used)))`, `Ok(None)` when more bytes
    /// are needed, or an error for a malformed frame.
    pub fn decode(buf: &[u8]) -> io::Result<Option<(Frame, usize)>> {
        if buf.len() < HEADER {
            return Ok(None);
        }
        let kind = buf[0];
        let len = u32::from_be_bytes([buf[1], buf[2], buf[3], buf[4]]) as usize;
        if len > MAX_PAYLOAD {
            return Err(bad(format!("attach frame of {len} bytes is too large")));
        }
        if buf.len() < HEADER + len {
            return Ok(None);
        }
        let p = &buf[HEADER..HEADER + len];
        let exact = |n: usize| {
            if p.len() == n {
                Ok(())
            } else {
                Err(bad(format!(
                    "attach frame of type {kind} has {} bytes, expected {n}",
                    p.len()
                )))
            }
        };
        let frame = match kind {
            STDIN => Frame::Stdin(p.to_vec()),
            STDOUT => Frame::Stdout(p.to_vec()),
            STDERR => Frame::Stderr(p.to_vec()),
            STDIN_CLOSE => {
                exact(0)?;
                Frame::StdinClose
            }
            DETACH => {
                exact(0)?;
                Frame::Detach
            }
            RESIZE => {
                exact(4)?;
                Frame::Resize {
                    rows: u16::from_be_bytes([p[0], p[1]]),
                    cols: u16::from_be_bytes([p[2], p[3]]),
                }
            }
            EXIT => {
                exact(4)?;
                Frame::Exit(i32::from_be_bytes([p[0], p[1], p[2], p[3]]))
            }
            ERROR => Frame::Error(String::from_utf8_lossy(p).into_owned()),
            other => return Err(bad(format!("unknown attach frame type {other}"))),
        };
        Ok(Some((frame, HEADER + len)))
    }

    /// Writes the frame to a blocking writer.
    pub fn write_to(&self, w: &mut impl Write) -> io::Result<()> {
        w.write_all(&self.encode())?;
        w.flush()
    }

    /// Reads one frame from a blocking reader; `Ok(None)` at a clean end of stream.
    pub fn read_from(r: &mut impl Read) -> io::Result<Option<Frame>> {
        let mut header = [0u8; HEADER];
        match r.read_exact(&mut header[..1]) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        }
        r.read_exact(&mut header[1..])?;
        let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
        if len > MAX_PAYLOAD {
            return Err(bad(format!("attach frame of {len} bytes is too large")));
        }
        let mut buf = header.to_vec();
        buf.resize(HEADER + len, 0);
        r.read_exact(&mut buf[HEADER..])?;
        Ok(Frame::decode(&buf)?.map(|(f, _)| f))
    }
}

/// Encodes a frame from its parts (used for output, to avoid copying the data twice).
pub fn encode_raw(kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + payload.len());
    out.push(kind);
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// The frame type byte of output on stdout (`true`) or stderr.
pub fn output_kind(stdout: bool) -> u8 {
    if stdout {
        STDOUT
    } else {
        STDERR
    }
}

fn bad(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// Accumulates bytes from a stream socket and yields complete frames.
#[derive(Default)]
pub struct FrameBuffer {
    buf: Vec<u8>,
}

impl FrameBuffer {
    /// The bytes received and not yet taken as frames.
    pub fn pending(&self) -> &[u8] {
        &self.buf
    }

    /// Appends received bytes.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The next complete frame, if any.
    pub fn next_frame(&mut self) -> io::Result<Option<Frame>> {
        match Frame::decode(&self.buf)? {
            Some((frame, used)) => {
                self.buf.drain(..used);
                Ok(Some(frame))
            }
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<Frame> {
        vec![
            Frame::Stdin(b"ls\r".to_vec()),
            Frame::StdinClose,
            Frame::Resize {
                rows: 30,
                cols: 100,
            },
            Frame::Detach,
            Frame::Stdout(vec![0, 255, 10]),
            Frame::Stderr(Vec::new()),
            Frame::Error("no such container".into()),
            Frame::Exit(-1),
            Frame::Exit(137),
        ]
    }

    #[test]
    fn frames_round_trip_through_a_stream_in_pieces() {
        let mut bytes = Vec::new();
        for f in all() {
            bytes.extend(f.encode());
        }
        let mut fb = FrameBuffer::default();
        let mut got = Vec::new();
        for chunk in bytes.chunks(3) {
            fb.push(chunk);
            while let Some(f) = fb.next_frame().unwrap() {
                got.push(f);
            }
        }
        assert_eq!(got, all());
        let mut r = &bytes[..];
        let mut got = Vec::new();
        while let Some(f) = Frame::read_from(&mut r).unwrap() {
            got.push(f);
        }
        assert_eq!(got, all());
    }

    #[test]
    fn malformed_frames_are_refused() {
        assert!(Frame::decode(&[99, 0, 0, 0, 0]).is_err());
        assert!(Frame::decode(&encode_raw(RESIZE, &[1, 2, 3])).is_err());
        assert!(Frame::decode(&encode_raw(EXIT, &[])).is_err());
        let huge = [STDIN, 0xff, 0xff, 0xff, 0xff];
        let e = Frame::decode(&huge).unwrap_err().to_string();
        assert!(e.contains("too large"), "{e}");
        assert_eq!(Frame::decode(&[STDIN, 0, 0]).unwrap(), None);
        assert_eq!(
            Frame::decode(&encode_raw(STDIN, b"abc")[..6]).unwrap(),
            None
        );
        let mut truncated = &encode_raw(STDOUT, b"abc")[..6];
        assert!(Frame::read_from(&mut truncated).is_err());
    }
}
