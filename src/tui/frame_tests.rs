//! What keeps a frame cheap: the containers load first at start, the column widths kept with
//! the rows instead of measured at every draw.

use crate::tui::app::App;
use crate::tui::config::Config;
use crate::tui::keymap::Keymap;
use crate::tui::model::StatSample;
use crate::tui::msg::{Cmd, Msg, Output};
use crate::tui::theme::Theme;
use crate::tui::update::update;
use crate::tui::view_tests::{containers, id, loaded, now};

fn kinds(cmds: &[Cmd]) -> Vec<&'static str> {
    cmds.iter()
        .filter_map(|c| match c {
            Cmd::LoadContainers(_) => Some("containers"),
            Cmd::LoadImages(_) => Some("images"),
            Cmd::LoadVolumes(_) => Some("volumes"),
            Cmd::LoadNetworks(_) => Some("networks"),
            _ => None,
        })
        .collect()
}

#[test]
fn the_containers_load_first_and_the_other_lists_after_its_answer() {
    let config = Config {
        keymap: Keymap::default(),
        theme: Theme::default(),
        mouse: true,
    };
    let mut a = App::new(config, "/var/lib/berth".into(), now());
    let cmds = a.start();
    assert_eq!(kinds(&cmds), ["containers"]);
    let Cmd::LoadContainers(job) = cmds[0] else {
        unreachable!()
    };
    let then = update(&mut a, Msg::Job(job, Output::Containers(Ok(containers()))));
    assert_eq!(kinds(&then), ["images", "volumes", "networks"]);
    // Only once: the next containers load brings nothing else.
    let again = a.reload_containers();
    let Cmd::LoadContainers(job) = again else {
        unreachable!()
    };
    let then = update(&mut a, Msg::Job(job, Output::Containers(Ok(containers()))));
    assert_eq!(kinds(&then), Vec::<&str>::new());
    // A change reported during the first load: the containers again, the volumes once.
    let mut a = App::new(
        Config {
            keymap: Keymap::default(),
            theme: Theme::default(),
            mouse: true,
        },
        "/".into(),
        now(),
    );
    let Cmd::LoadContainers(job) = a.start()[0] else {
        unreachable!()
    };
    a.containers_again = true;
    let then = update(&mut a, Msg::Job(job, Output::Containers(Ok(containers()))));
    assert_eq!(
        kinds(&then),
        ["images", "volumes", "networks", "containers"]
    );
}

#[test]
fn column_widths_follow_the_rows_the_filter_and_the_stats() {
    let mut a = loaded(160, 30);
    let l = &a.containers;
    // NAME, IMAGE, …, PORTS: the widest shown cells.
    assert_eq!(l.width(0), "worker".len());
    assert_eq!(l.width(1), "busybox".len());
    assert_eq!(l.width(9), "8080->80/tcp".len());
    assert_eq!(l.width(3), 0, "no health check: no HEALTH cells");
    assert_eq!(l.width(7), 0, "no stats yet: no MEM cells");
    a.containers.set_filter("db");
    assert_eq!(a.containers.width(0), 2);
    assert_eq!(a.containers.width(9), 0);
    a.containers.set_filter("");
    // A stats sample changes rows in place: the MEM column appears.
    let job = a.job();
    a.stats_job = job;
    let sample = StatSample {
        id: id(1),
        cpu_ns: 1,
        memory: 1 << 20,
        net_rx: 0,
        net_tx: 0,
        block_read: 0,
        block_write: 0,
        at: now(),
    };
    update(&mut a, Msg::Job(job, Output::Stats(Ok(vec![sample]))));
    assert_eq!(a.containers.width(7), 9);
}
