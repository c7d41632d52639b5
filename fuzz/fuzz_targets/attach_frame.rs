//! The attach protocol decoder, fed whatever a peer on the attach socket might send: the three
//! ways of reading frames (`Frame::decode`, `FrameBuffer` fed in pieces, `Frame::read_from` on a
//! stream) never panic, agree with each other, and every decoded frame re-encodes to its bytes.
#![no_main]

use berth::engine::attach::frame::{Frame, FrameBuffer, HEADER, MAX_PAYLOAD};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, data)) = data.split_first() else {
        return;
    };
    // Frame::decode over the whole buffer.
    let mut by_decode = Vec::new();
    let mut rest = data;
    while let Ok(Some((frame, used))) = Frame::decode(rest) {
        assert!(used >= HEADER && used <= rest.len() && used <= HEADER + MAX_PAYLOAD);
        let bytes = frame.encode();
        match &frame {
            // An error message is decoded lossily (invalid UTF-8 becomes U+FFFD).
            Frame::Error(_) => assert_eq!(
                Frame::decode(&bytes).ok().flatten(),
                Some((frame.clone(), bytes.len()))
            ),
            _ => assert_eq!(
                bytes,
                rest[..used],
                "{frame:?} does not re-encode to its bytes"
            ),
        }
        by_decode.push(frame);
        rest = &rest[used..];
    }
    // FrameBuffer, fed in pieces of `chunk` bytes.
    let mut by_buffer = Vec::new();
    let mut fb = FrameBuffer::default();
    'feed: for piece in data.chunks(usize::from(chunk).max(1)) {
        fb.push(piece);
        loop {
            match fb.next_frame() {
                Ok(Some(f)) => by_buffer.push(f),
                Ok(None) => break,
                Err(_) => break 'feed,
            }
        }
    }
    assert_eq!(
        by_buffer, by_decode,
        "FrameBuffer disagrees with Frame::decode"
    );
    // Frame::read_from on a stream.
    let mut by_stream = Vec::new();
    let mut r = data;
    while let Ok(Some(f)) = Frame::read_from(&mut r) {
        by_stream.push(f);
    }
    assert_eq!(
        by_stream, by_decode,
        "Frame::read_from disagrees with Frame::decode"
    );
});
