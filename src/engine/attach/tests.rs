//! The monitor's I/O loop over a real child process (no container needed): input from one
//! client, output to every client, streams kept apart, a malformed client dropped, exit code.

use std::fs::File;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::frame::Frame;
use super::server::Server;
use super::stdio::ContainerIo;
use crate::engine::monitor::relay::pidfd_open;

fn frames(mut s: UnixStream) -> Vec<Frame> {
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut out = Vec::new();
    while let Ok(Some(f)) = Frame::read_from(&mut s) {
        out.push(f);
    }
    out
}

#[test]
fn server_relays_input_and_output_to_every_client() {
    let mut child = Command::new("/bin/sh")
        .args(["-c", "read x; echo got $x; echo warn >&2; exit 4"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let io = ContainerIo::Pipes {
        stdout: File::from(OwnedFd::from(child.stdout.take().unwrap())),
        stderr: File::from(OwnedFd::from(child.stderr.take().unwrap())),
        stdin: Some(File::from(OwnedFd::from(child.stdin.take().unwrap()))),
    };
    let pidfd = pidfd_open(child.id() as i32).unwrap();
    let mut server = Server::new(io, None, true).unwrap();
    let (mut writer, w_end) = UnixStream::pair().unwrap();
    let (watcher, r_end) = UnixStream::pair().unwrap();
    let (mut bad, b_end) = UnixStream::pair().unwrap();
    server.add_client(w_end);
    server.add_client(r_end);
    server.add_client(b_end);
    writer
        .write_all(&Frame::Resize { rows: 3, cols: 4 }.encode())
        .unwrap();
    Frame::Stdin(b"hello\n".to_vec())
        .write_to(&mut writer)
        .unwrap();
    Frame::StdinClose.write_to(&mut writer).unwrap();
    bad.write_all(&[99, 0, 0, 0, 0]).unwrap();
    server.run(&pidfd, Duration::from_secs(2)).unwrap();
    let code = child.wait().unwrap().code().unwrap();
    server.finish(code);
    let expected = vec![
        Frame::Stdout(b"got hello\n".to_vec()),
        Frame::Stderr(b"warn\n".to_vec()),
        Frame::Exit(4),
    ];
    assert_eq!(frames(writer), expected);
    assert_eq!(frames(watcher), expected);
    let got = frames(bad);
    assert!(
        matches!(got.as_slice(), [Frame::Error(m)] if m.contains("unknown attach frame type")),
        "{got:?}"
    );
}
