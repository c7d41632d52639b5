//! The containers pane's CPU and memory columns: once a second, a stats sample of the running
//! containers on screen (only when the pane is in front); CPU % from the change of each
//! container's CPU time since the sample before. Each sample also goes to the containers'
//! histories for the details pane's graphs (`tui::graphs`).

use super::app::{App, Pane};
use super::model::{ContainerState, StatSample};
use super::msg::Cmd;

/// On the one-second tick: the stats of the running containers shown, if any.
pub fn tick(app: &mut App) -> Vec<Cmd> {
    if app.pane != Pane::Containers {
        return Vec::new();
    }
    let height = app.list_height().max(1);
    let ids: Vec<String> = app
        .containers
        .shown()
        .skip(app.containers.offset)
        .take(height)
        .filter(|c| c.state == ContainerState::Running)
        .map(|c| c.id.clone())
        .collect();
    if ids.is_empty() {
        return Vec::new();
    }
    app.stats_job = app.job();
    vec![Cmd::LoadStats(app.stats_job, ids)]
}

/// A sample arrived: memory at once, CPU % from the second sample of a container on.
pub fn on_stats(app: &mut App, sample: Result<Vec<StatSample>, String>) {
    // A container that went meanwhile fails the whole sample: the next tick asks again.
    let Ok(sample) = sample else { return };
    super::graphs::record(&mut app.graphs, &sample);
    for s in sample {
        let cpu = app.cpu_seen.get(&s.id).and_then(|(ns, at)| {
            let wall = (s.at - *at).num_nanoseconds().filter(|w| *w > 0)?;
            let used = s.cpu_ns.checked_sub(*ns)?;
            Some((used as f64 * 10_000.0 / wall as f64).round() as u32)
        });
        app.cpu_seen.insert(s.id.clone(), (s.cpu_ns, s.at));
        if let Some(row) = app.containers.items.iter_mut().find(|c| c.id == s.id) {
            row.memory = Some(s.memory);
            if cpu.is_some() {
                row.cpu = cpu;
            }
        }
    }
    // The CPU and MEM columns appear with the first sample.
    app.containers.remeasure();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::app::App;
    use crate::tui::msg::Msg;
    use crate::tui::update::update;

    fn sample(id: &str, cpu_ns: u64, memory: u64, at: chrono::DateTime<chrono::Utc>) -> StatSample {
        StatSample {
            id: id.into(),
            cpu_ns,
            memory,
            net_rx: 0,
            net_tx: 0,
            block_read: 0,
            block_write: 0,
            at,
        }
    }

    #[test]
    fn cpu_from_the_second_sample_and_only_for_running_rows_on_screen() {
        let mut a = crate::tui::view_tests::loaded(120, 30);
        let running: Vec<String> = a
            .containers
            .items
            .iter()
            .filter(|c| c.state == ContainerState::Running)
            .map(|c| c.id.clone())
            .collect();
        assert!(!running.is_empty());
        let now = a.now;
        let cmds = update(&mut a, Msg::Tick(now));
        let Some(Cmd::LoadStats(job, ids)) = cmds.first() else {
            panic!("{cmds:?}")
        };
        assert_eq!(ids, &running);
        let job = *job;
        let id = running[0].clone();
        a.containers.items.iter_mut().for_each(|c| {
            c.cpu = None;
            c.memory = None
        });
        on_stats(&mut a, Ok(vec![sample(&id, 1_000_000_000, 7 << 20, now)]));
        let row = |a: &App| {
            a.containers
                .items
                .iter()
                .find(|c| c.id == id)
                .unwrap()
                .clone()
        };
        assert_eq!((row(&a).cpu, row(&a).memory), (None, Some(7 << 20)));
        // Half a CPU over the next second.
        let later = now + chrono::Duration::seconds(1);
        on_stats(&mut a, Ok(vec![sample(&id, 1_500_000_000, 8 << 20, later)]));
        assert_eq!((row(&a).cpu, row(&a).memory), (Some(5000), Some(8 << 20)));
        // The same samples feed the graphs: a point from the second on.
        let point = *a.graphs[&id].latest().unwrap();
        assert_eq!((point.cpu, point.memory), (5000, 8 << 20));
        // A stale answer is dropped by update; an error changes nothing.
        on_stats(&mut a, Err("gone".into()));
        assert_eq!(row(&a).cpu, Some(5000));
        assert!(job > 0);
        // Another pane in front: no stats.
        a.pane = Pane::Images;
        assert!(tick(&mut a).is_empty());
    }
}
