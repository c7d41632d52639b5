//! The engine's async session API (what the TUI's shell pane uses), as root: a login shell
//! through exec with a sized pty, and an attach session that detaches.

mod common;
mod interactive_support;

use std::time::Duration;

use berth::engine::attach::session::{self, SessionEvent, SessionOutput};
use berth::engine::{container, Engine};
use interactive_support::Env;

/// Reads output until `pred` holds for the accumulated text or the exit; returns (text, exit).
async fn read_until(out: &mut SessionOutput, pred: impl Fn(&str) -> bool) -> (String, Option<i32>) {
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let next = tokio::time::timeout_at(deadline, out.next())
            .await
            .unwrap_or_else(|_| panic!("timed out; output so far: {text:?}"))
            .expect("session read");
        match next {
            Some(SessionEvent::Output { data, .. }) => {
                text.push_str(&String::from_utf8_lossy(&data));
                if pred(&text) {
                    return (text, None);
                }
            }
            Some(SessionEvent::Exit(code)) => return (text, Some(code)),
            Some(SessionEvent::Error(m)) => panic!("session error: {m}"),
            None => return (text, None),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shell_and_attach_sessions_for_the_tui() {
    // Monitors are the berth binary, not this test binary.
    std::env::set_var("BERTH_EXE", common::testroot::BERTH);
    let env = Env::new();
    let id = env.run_detached("pane", &["-i", "-t"], &["sh"]);
    let engine = Engine::open(&env.t.path()).expect("open engine");
    assert_eq!(container::resolve(&engine, "pane").expect("resolve"), id);

    let (mut out, mut input) = session::open_shell(&engine, &id, 30, 100)
        .await
        .expect("open shell")
        .split();
    input
        .send(b"echo $0; stty size; exit 3\r")
        .await
        .expect("send");
    let (text, code) = read_until(&mut out, |_| false).await;
    assert_eq!(code, Some(3), "{text:?}");
    assert!(text.contains("/bin/sh\r\n30 100\r\n"), "{text:?}");

    let (mut out, mut input) = session::open_attach(&engine, &id, 24, 80)
        .await
        .expect("open attach")
        .split();
    input.send(b"echo hi-$((2+3))\r").await.expect("send");
    let (text, _) = read_until(&mut out, |t| t.contains("hi-5")).await;
    assert!(text.contains("hi-5"));
    input.detach().await.expect("detach");
    let rec = container::get(&engine, &id).expect("get");
    assert_eq!(rec.state.status, container::Status::Running);
    env.ok(&["rm", "-f", "pane"]);
}
