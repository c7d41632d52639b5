//! Containers from real images pulled from the harness registry: `run` pulls a missing image
//! first, the image config (Cmd, Env, WorkingDir) applies, and a layered image with whiteouts
//! and an opaque directory is seen flattened inside the container.

mod common;

use common::images::{multi, multi_layer, single_layer};
use common::{Auth, Registry, TestRoot};

fn out(o: &std::process::Output) -> (i32, String, String) {
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn run_pulls_a_missing_image_and_uses_its_config() {
    let reg = Registry::start(Auth::None);
    reg.push(single_layer(), "test/busybox:latest");
    let image = reg.reference("test/busybox:latest");
    let t = TestRoot::new();
    let (code, stdout, stderr) = out(&t.berth([
        "run",
        "--rm",
        "--tls-verify=false",
        &image,
        "sh",
        "-c",
        "echo $PATH; pwd; cat /etc/passwd | head -1",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("Unable to find image"), "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].contains("/bin"), "image Env applies: {stdout}");
    assert_eq!(lines[1], "/");
    assert!(lines[2].starts_with("root:"));
    // Pulled once: the second run does not pull again, and the image's Cmd (sh) runs.
    let (code, _, stderr) = out(&t.berth(["run", "--rm", &image]));
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("Unable to find image"), "{stderr}");
    let id = t.berth_ok(["create", "--name", "c1", &image, "true"]);
    let v: serde_json::Value = serde_json::from_str(&t.berth_ok(["inspect", "c1"])).unwrap();
    assert_eq!(v[0]["Id"], id.trim());
    assert!(v[0]["Image"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(v[0]["Config"]["Image"], image);
    // The image cannot be removed while a container uses it.
    let rmi = t.berth(["rmi", &image]);
    assert_ne!(rmi.status.code(), Some(0));
    t.berth_ok(["rm", "c1"]);
    // An unknown image in an unreachable registry is a clear error with Docker's code.
    let (code, _, stderr) = out(&t.berth(["run", "--rm", "127.0.0.1:1/nope:latest", "true"]));
    assert_eq!(code, 125, "{stderr}");
}

#[test]
fn layered_image_is_seen_flattened() {
    let reg = Registry::start(Auth::None);
    reg.push(multi_layer(), "test/multi:latest");
    let image = reg.reference("test/multi:latest");
    let t = TestRoot::new();
    t.berth_ok(["pull", "-q", "--tls-verify=false", &image]);
    let mut script = String::new();
    for p in multi::ABSENT {
        script.push_str(&format!("test -e {p} && echo present:{p}; "));
    }
    for (p, _) in multi::PRESENT {
        script.push_str(&format!("cat {p}; "));
    }
    script.push_str("ls /srv/www");
    let (code, stdout, stderr) = out(&t.berth(["run", "--rm", &image, "sh", "-c", &script]));
    assert_eq!(code, 0, "{stderr}");
    assert!(!stdout.contains("present:"), "{stdout}");
    let mut expected: String = multi::PRESENT
        .iter()
        .map(|(p, content)| {
            if *p == "/etc/hostname" {
                // /etc/hostname is the container's own (bind-mounted), not the image's.
                String::new()
            } else {
                content.to_string()
            }
        })
        .collect();
    expected.push_str("fresh\nnew.html\n");
    let got: String = stdout
        .lines()
        .filter(|l| l.len() != 12 || !l.chars().all(|c| c.is_ascii_hexdigit()))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(got, expected);
}
