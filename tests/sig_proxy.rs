//! `run --sig-proxy` (parity item 8): by default SIGINT to a foreground `run` reaches the
//! container; with `--sig-proxy=false` it ends only the client and the container runs on.

mod common;
mod interactive_support;

use std::process::{Child, Stdio};
use std::time::Duration;

use interactive_support::{wait_for, Env};

const TRAPPED: &str = "trap 'echo got-int' INT; echo ready; while :; do sleep 0.1; done";

fn foreground(env: &Env, name: &str, extra: &[&str]) -> Child {
    let root = env.rootfs.to_string_lossy().into_owned();
    let mut cmd = env.t.cmd();
    cmd.args(["run", "--name", name]).args(extra);
    cmd.args(["--rootfs", &root, "sh", "-c", TRAPPED]);
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn berth run");
    wait_for("the container to run", Duration::from_secs(15), || {
        let out = env.berth(&["logs", name]);
        (out.status.success() && String::from_utf8_lossy(&out.stdout).contains("ready"))
            .then_some(())
    });
    child
}

fn interrupt(child: &Child) {
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::SIGINT).expect("SIGINT");
}

#[test]
fn sig_proxy_decides_who_gets_sigint() {
    let env = Env::new();

    let mut proxied = foreground(&env, "proxied", &[]);
    interrupt(&proxied);
    wait_for("the container's trap", Duration::from_secs(10), || {
        env.ok(&["logs", "proxied"])
            .contains("got-int")
            .then_some(())
    });
    assert!(
        proxied.try_wait().expect("try_wait").is_none(),
        "the client ended"
    );

    let mut direct = foreground(&env, "direct", &["--sig-proxy=false"]);
    interrupt(&direct);
    let status = wait_for("the client to end", Duration::from_secs(10), || {
        direct.try_wait().expect("try_wait")
    });
    assert!(!status.success());
    std::thread::sleep(Duration::from_millis(300));
    assert!(!env.ok(&["logs", "direct"]).contains("got-int"));
    assert_eq!(env.inspect("direct")["State"]["Status"], "running");

    env.ok(&["rm", "-f", "proxied", "direct"]);
    let _ = proxied.kill();
    let _ = proxied.wait();
}
