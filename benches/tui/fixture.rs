//! The benchmark's engine root: containers made by the engine itself (`container::create` on a
//! busybox root filesystem, the same call `berth create --rootfs` makes), most of them idle
//! (created, never started) and a few chatty ones that print marked lines at a steady rate.
//!
//! Dropping it removes the chatty containers first (`berth rm -f`, which kills them), then the
//! harness's `TestRoot` removes every other container, unmounts what is left and deletes the
//! temp dir, also when the benchmark panics.

use std::path::PathBuf;
use std::process::Output;
use std::time::{Duration, Instant};

use berth::engine::container::{self, CreateOptions};
use berth::engine::Engine;

use crate::common::testroot::run_bounded;
use crate::common::{rootfs, TestRoot};

/// A container that prints `@@<tag>:<seq>; …` lines.
pub struct Chatty {
    pub tag: String,
    pub name: String,
    pub id: String,
}

pub struct Fixture {
    pub root: TestRoot,
    /// Every container id (chatty ones included).
    pub ids: Vec<String>,
    pub chatty: Vec<Chatty>,
    /// Wall time of creating all the containers.
    pub created_in: Duration,
}

/// A busybox `sh` loop printing `rate` lines a second, paced by /proc/uptime (centiseconds):
/// every 10 ms it catches up with the lines due so far, numbered from 1.
pub fn chatty_script(tag: &str, rate: u32) -> String {
    format!(
        "read up _ < /proc/uptime; s=${{up%.*}}${{up#*.}}; i=0\n\
         while :; do\n\
           read up _ < /proc/uptime; n=$(( (${{up%.*}}${{up#*.}} - s) * {rate} / 100 ))\n\
           while [ $i -lt $n ]; do i=$((i+1)); \
             echo \"@@{tag}:$i; lorem ipsum dolor sit amet, consectetur adipiscing elit\"; done\n\
           usleep 10000\n\
         done\n"
    )
}

impl Fixture {
    /// Creates `total` containers, of which `chatty` print `rate` lines a second once started.
    pub fn build(total: usize, chatty: usize, rate: u32) -> Fixture {
        let mut fx = Fixture {
            root: TestRoot::new(),
            ids: Vec::with_capacity(total),
            chatty: Vec::new(),
            created_in: Duration::ZERO,
        };
        let rootfs = fx.root.base().join("rootfs");
        std::fs::create_dir(&rootfs).expect("create the rootfs dir");
        tar::Archive::new(rootfs::base_tar())
            .unpack(&rootfs)
            .expect("unpack the busybox rootfs");
        let engine = Engine::open(&fx.root.path()).expect("open the engine root");
        let started = Instant::now();
        for i in 0..total {
            let (name, cmd) = if i < chatty {
                let tag = format!("c{i:02}");
                let script = chatty_script(&tag, rate);
                (
                    format!("chatty-{i:02}"),
                    vec!["/bin/sh".into(), "-c".into(), script],
                )
            } else {
                (format!("idle-{i:04}"), vec!["sleep".into(), "3600".into()])
            };
            let opts = CreateOptions {
                name: Some(name.clone()),
                image: rootfs.to_string_lossy().into_owned(),
                rootfs: true,
                cmd,
                env: vec![rootfs::PATH_ENV.into()],
                // Never the default bridge: this process runs outside cargo's environment
                // (BERTH_DEFAULT_NETWORK) and must not touch the machine's network.
                network: Some("none".into()),
                ..CreateOptions::default()
            };
            let rec = container::create(&engine, &opts)
                .unwrap_or_else(|e| panic!("create container {name}: {e}"));
            fx.ids.push(rec.id.clone());
            if i < chatty {
                fx.chatty.push(Chatty {
                    tag: format!("c{i:02}"),
                    name,
                    id: rec.id,
                });
            }
        }
        fx.created_in = started.elapsed();
        fx
    }

    /// Runs `berth --root R ARGS…` (bounded to a minute) and panics unless it succeeds.
    pub fn berth_ok(&self, args: &[&str]) -> Output {
        let mut cmd = self.root.cmd();
        cmd.args(args);
        let out = run_bounded(cmd, Duration::from_secs(60))
            .unwrap_or_else(|| panic!("berth {args:?} did not finish within a minute"));
        assert!(
            out.status.success(),
            "berth {args:?} failed: {}",
            out.status
        );
        out
    }

    fn chatty_names(&self) -> Vec<&str> {
        self.chatty.iter().map(|c| c.name.as_str()).collect()
    }

    /// Starts the chatty containers (`berth start`).
    pub fn start_chatty(&self) {
        let mut args = vec!["start"];
        args.extend(self.chatty_names());
        self.berth_ok(&args);
    }

    /// Stops the chatty containers at once (`berth kill`).
    pub fn kill_chatty(&self) {
        let mut args = vec!["kill"];
        args.extend(self.chatty_names());
        self.berth_ok(&args);
    }

    /// The log file of a container.
    pub fn log_path(&self, id: &str) -> PathBuf {
        self.root
            .path()
            .join("containers")
            .join(id)
            .join("log.json")
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if self.chatty.is_empty() {
            return;
        }
        let mut rm = self.root.cmd();
        rm.args(["rm", "-f"])
            .args(self.chatty.iter().map(|c| &c.id));
        if run_bounded(rm, Duration::from_secs(60)).is_none_or(|o| !o.status.success()) {
            eprintln!("cleanup: `berth rm -f` of the chatty containers failed");
        }
    }
}
