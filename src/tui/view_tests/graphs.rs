//! The details pane's Graphs tab: the selected container's CPU, memory, network and block I/O
//! from fixed samples; collecting, not running, and a short pane.

use insta::assert_snapshot;

use super::*;
use crate::tui::details::Tab;
use crate::tui::model::StatSample;

/// `n` samples a second apart of container `c`: CPU climbing in steps to one CPU and back,
/// memory growing, bursts of network and disk traffic.
fn samples(c: u8, n: i64) -> Vec<StatSample> {
    let (mut cpu, mut rx, mut tx, mut rd, mut wr) = (0u64, 0u64, 0u64, 0u64, 0u64);
    (0..n)
        .map(|i| {
            let step = (i % 20) as u64;
            cpu += if step < 10 { step } else { 20 - step } * 100_000_000;
            rx += if i % 7 < 3 { 50_000 } else { 2_000 };
            tx += if i % 7 < 3 { 10_000 } else { 500 };
            rd += if i % 15 == 0 { 4_000_000 } else { 0 };
            wr += (i as u64 % 5) * 100_000;
            StatSample {
                id: id(c),
                cpu_ns: cpu,
                memory: (20 << 20) + (i as u64) * (256 << 10),
                net_rx: rx,
                net_tx: tx,
                block_read: rd,
                block_write: wr,
                at: now() - Duration::seconds(n - i),
            }
        })
        .collect()
}

/// Selects the row named `name`.
fn select(a: &mut App, name: &str) {
    let at = a.containers.shown().position(|c| c.name == name).unwrap();
    a.containers.selected = at;
}

fn with_graphs(w: u16, h: u16, n: i64) -> App {
    let mut a = loaded(w, h);
    select(&mut a, "web");
    a.details.tab = Tab::Graphs;
    crate::tui::graphs::record(&mut a.graphs, &samples(1, n));
    a
}

#[test]
fn graphs_of_the_selected_container() {
    let a = with_graphs(140, 30, 120);
    let s = screen(&a);
    assert!(
        s.contains("CPU") && s.contains("MEM") && s.contains("NET in") && s.contains("BLOCK read"),
        "{s}"
    );
    // The newest point: the last step of the climb down (one tenth of a CPU).
    assert!(s.contains("CPU 10.00 %"), "{s}");
    assert!(s.contains("max 100.00 %"), "{s}");
    assert_snapshot!(s);
}

#[test]
fn graphs_while_collecting_and_for_a_stopped_container() {
    let mut a = loaded(140, 14);
    select(&mut a, "web");
    a.details.tab = Tab::Graphs;
    assert_snapshot!("graphs_collecting", screen(&a));
    select(&mut a, "db");
    assert_snapshot!("graphs_not_running", screen(&a));
}

#[test]
fn graphs_in_a_short_pane() {
    let a = with_graphs(120, 12, 400);
    let s = screen(&a);
    // As many points as columns: the newest 47 seconds.
    assert!(s.contains("max 100.00 % over 46s"), "{s}");
    assert_snapshot!(s);
}
