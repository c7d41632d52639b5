//! The container lifecycle against the recording fake of the kernel
//! ([`crate::engine::syscall::fake`]): `stop`'s escalation, `rm -f`, the lost-monitor
//! reconciliation and the `--rm` policy of a failed start, without root, processes or waiting.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use nix::sys::signal::Signal;

use super::record::{ContainerRecord, Status};
use super::store::{self, ContainerStore};
use super::{reconcile, remove, start, stop};
use crate::engine::error::ErrorKind;
use crate::engine::journal::{follow::EventsQuery, Event};
use crate::engine::state::StateStore;
use crate::engine::syscall::fake::{Call, RecordingSyscall};
use crate::engine::Engine;

const ID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
/// The container's process and its monitor (started at tick 7), in the fake's process table.
const PID: i32 = 100;
const MONITOR: i32 = 50;

struct Setup {
    _dir: tempfile::TempDir,
    engine: Engine,
    sys: Arc<RecordingSyscall>,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let sys = Arc::new(RecordingSyscall::default());
    let engine = Engine::open_with(dir.path(), sys.clone()).unwrap();
    Setup {
        _dir: dir,
        engine,
        sys,
    }
}

fn record(status: Status) -> ContainerRecord {
    let running = matches!(status, Status::Running | Status::Paused);
    let mut rec = ContainerRecord::for_tests(ID, "web", status);
    if running {
        rec.state.pid = PID;
        rec.state.started_at = Some(Utc::now());
        rec.state.monitor_pid = MONITOR;
        rec.state.monitor_start = 7;
    }
    rec
}

fn insert(engine: &Engine, rec: &ContainerRecord) {
    engine
        .state()
        .write(|tx| ContainerStore::of(tx).insert(rec))
        .unwrap();
}

fn load(engine: &Engine) -> Option<ContainerRecord> {
    engine
        .state()
        .read(|tx| ContainerStore::of(tx).get(ID))
        .unwrap()
}

/// A running container under its live monitor, dying of the signals in `fatal` (and SIGKILL).
/// When it dies, its "monitor" records the exit as the real one does: from its own connection
/// to the database, with docker's 128 + signal.
fn running(s: &Setup, fatal: &[Signal]) {
    s.sys.process(MONITOR, 7);
    s.sys.container(PID, MONITOR, fatal);
    let monitor_db = StateStore::open(s.engine.state().path()).unwrap();
    s.sys.on_exit(move |pid, sig| {
        if pid != PID {
            return;
        }
        monitor_db
            .write(|tx| {
                let store = ContainerStore::of(tx);
                let mut rec = store.get(ID)?.expect("the record");
                rec.state.status = Status::Exited;
                rec.state.exit_code = 128 + sig as i32;
                rec.state.finished_at = Some(Utc::now());
                rec.state.pid = 0;
                rec.state.monitor_pid = 0;
                rec.state.monitor_start = 0;
                store.save(&rec)
            })
            .unwrap();
    });
    insert(&s.engine, &record(Status::Running));
}

fn actions(engine: &Engine) -> Vec<String> {
    let events: Vec<Event> = engine.events(&EventsQuery::default()).unwrap();
    events.into_iter().map(|e| e.action).collect()
}

#[test]
fn stop_sends_the_stop_signal_then_sigkill_after_the_timeout() {
    let s = setup();
    running(&s, &[]);
    stop::stop(&s.engine, ID, Some(3)).unwrap();
    assert_eq!(
        s.sys.signals(),
        [(PID, Signal::SIGTERM), (PID, Signal::SIGKILL)]
    );
    let waited = s.sys.slept();
    assert!(
        waited >= Duration::from_secs(3) && waited < Duration::from_millis(3500),
        "{waited:?}"
    );
    let rec = load(&s.engine).unwrap();
    assert_eq!(
        (rec.state.status, rec.state.exit_code),
        (Status::Exited, 137)
    );
    assert_eq!(actions(&s.engine), ["kill", "kill", "stop"]);
}

#[test]
fn stop_ends_with_the_stop_signal_when_the_container_obeys() {
    let s = setup();
    running(&s, &[Signal::SIGTERM]);
    stop::stop(&s.engine, ID, Some(10)).unwrap();
    assert_eq!(s.sys.signals(), [(PID, Signal::SIGTERM)]);
    assert!(s.sys.slept() < Duration::from_secs(1));
    assert_eq!(load(&s.engine).unwrap().state.exit_code, 143);
}

#[test]
fn stop_takes_the_containers_own_signal_and_timeout_unless_t_is_given() {
    let s = setup();
    running(&s, &[]);
    s.engine
        .state()
        .write(|tx| {
            let store = ContainerStore::of(tx);
            let mut rec = store.get(ID)?.unwrap();
            rec.config.stop_signal = Some("SIGUSR1".into());
            rec.config.stop_timeout = Some(1);
            store.save(&rec)
        })
        .unwrap();
    stop::stop(&s.engine, ID, None).unwrap();
    assert_eq!(
        s.sys.signals(),
        [(PID, Signal::SIGUSR1), (PID, Signal::SIGKILL)]
    );
    let waited = s.sys.slept();
    assert!(
        waited >= Duration::from_secs(1) && waited < Duration::from_secs(2),
        "{waited:?}"
    );
}

#[test]
fn a_monitor_that_does_not_reap_its_killed_container_is_killed_itself() {
    let s = setup();
    running(&s, &[]);
    s.sys.stuck_monitor(PID);
    stop::stop(&s.engine, ID, Some(0)).unwrap();
    assert_eq!(
        s.sys.signals(),
        [
            (PID, Signal::SIGTERM),
            (PID, Signal::SIGKILL),
            (MONITOR, Signal::SIGKILL)
        ]
    );
    // The grace the monitor had to reap it.
    assert!(s.sys.slept() >= Duration::from_secs(5));
    let rec = load(&s.engine).unwrap();
    assert_eq!(rec.state.status, Status::Exited);
    assert_eq!(rec.state.exit_code, reconcile::LOST_MONITOR_EXIT);
    assert!(rec.state.error.contains("monitor"), "{}", rec.state.error);
}

#[test]
fn rm_refuses_a_running_container_and_rm_f_kills_and_removes_it() {
    let s = setup();
    running(&s, &[]);
    let e = remove::remove(&s.engine, ID, false).unwrap_err();
    assert!(e.is(ErrorKind::InvalidState), "{e}");
    assert!(e.to_string().contains("rm -f"), "{e}");
    assert!(s.sys.signals().is_empty());
    remove::remove(&s.engine, ID, true).unwrap();
    assert_eq!(s.sys.signals(), [(PID, Signal::SIGKILL)]);
    assert!(load(&s.engine).is_none());
    assert_eq!(actions(&s.engine), ["destroy"]);
    let e = store::resolve(s.engine.state(), "web").unwrap_err();
    assert!(e.is(ErrorKind::NotFound), "{e}");
}

#[test]
fn rm_f_of_a_container_with_a_restart_policy_keeps_its_monitor_from_restarting_it() {
    let s = setup();
    running(&s, &[]);
    // The record as the monitor sees it when the kill arrives.
    let seen = Arc::new(std::sync::Mutex::new(None));
    {
        let seen = seen.clone();
        let db = StateStore::open(s.engine.state().path()).unwrap();
        s.sys.on_exit(move |pid, _| {
            if pid == PID {
                let rec = db.read(|tx| ContainerStore::of(tx).get(ID)).unwrap();
                *seen.lock().unwrap() = rec.map(|r| r.state.manually_stopped);
                db.write(|tx| {
                    let store = ContainerStore::of(tx);
                    let mut rec = store.get(ID)?.unwrap();
                    rec.state.status = Status::Exited;
                    rec.state.monitor_pid = 0;
                    store.save(&rec)
                })
                .unwrap();
            }
        });
    }
    s.engine
        .state()
        .write(|tx| {
            let store = ContainerStore::of(tx);
            let mut rec = store.get(ID)?.unwrap();
            rec.host_config.restart_policy =
                super::restart_policy::RestartPolicy::parse("always").unwrap();
            store.save(&rec)
        })
        .unwrap();
    remove::remove(&s.engine, ID, true).unwrap();
    assert_eq!(*seen.lock().unwrap(), Some(true));
    assert!(load(&s.engine).is_none());
}

#[test]
fn a_running_container_whose_monitor_is_gone_is_recorded_exited() {
    let s = setup();
    // No process in the fake's table: the monitor died (SIGKILL, a crash).
    insert(&s.engine, &record(Status::Running));
    let rec = reconcile::check(&s.engine, record(Status::Running)).unwrap();
    assert_eq!(rec.state.status, Status::Exited);
    assert_eq!(rec.state.exit_code, reconcile::LOST_MONITOR_EXIT);
    assert!(rec.state.finished_at.is_some());
    assert_eq!((rec.state.pid, rec.state.monitor_pid), (0, 0));
    assert!(
        rec.state.error.contains("died unexpectedly"),
        "{}",
        rec.state.error
    );
    assert_eq!(load(&s.engine).unwrap(), rec);
    let events = s.engine.events(&EventsQuery::default()).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].action, "die");
    assert_eq!(events[0].attributes["exitCode"], "255");
    // Nothing was signalled: there was nothing left to signal.
    assert!(s.sys.signals().is_empty());
}

#[test]
fn a_record_whose_monitor_died_while_starting_stays_created_with_the_reason() {
    let s = setup();
    let mut rec = record(Status::Created);
    rec.state.monitor_pid = MONITOR;
    rec.state.monitor_start = 7;
    insert(&s.engine, &rec);
    let rec = reconcile::check(&s.engine, rec).unwrap();
    assert_eq!(rec.state.status, Status::Created);
    assert_eq!(rec.state.monitor_pid, 0);
    assert!(
        rec.state.error.contains("while starting"),
        "{}",
        rec.state.error
    );
    assert!(actions(&s.engine).is_empty());
}

#[test]
fn a_record_claimed_by_a_live_monitor_is_waited_for_then_refused() {
    let s = setup();
    s.sys.process(MONITOR, 7);
    let mut rec = record(Status::Created);
    rec.state.monitor_pid = MONITOR;
    rec.state.monitor_start = 7;
    insert(&s.engine, &rec);
    let e = reconcile::check(&s.engine, rec).unwrap_err();
    assert!(e.is(ErrorKind::InvalidState), "{e}");
    assert!(e.to_string().contains("still being started"), "{e}");
    assert!(s.sys.slept() >= Duration::from_secs(15));
    // Left as it is: the monitor may still record the start.
    assert_eq!(load(&s.engine).unwrap().state.monitor_pid, MONITOR);
}

#[test]
fn a_failed_start_removes_a_rm_container_and_records_why_on_others() {
    let s = setup();
    let mut rec = record(Status::Created);
    rec.host_config.auto_remove = true;
    insert(&s.engine, &rec);
    let Err(e) = start::start(&s.engine, ID, false) else {
        panic!("the start must fail without a monitor");
    };
    assert!(e.to_string().contains("monitor"), "{e}");
    assert_eq!(
        s.sys.calls(),
        [Call::Spawn {
            id: ID.into(),
            attach: false
        }]
    );
    assert!(
        load(&s.engine).is_none(),
        "--rm: removed after the failed start"
    );

    let s = setup();
    insert(&s.engine, &record(Status::Created));
    let Err(e) = start::start(&s.engine, ID, false) else {
        panic!("the start must fail without a monitor");
    };
    let rec = load(&s.engine).unwrap();
    assert_eq!(rec.state.status, Status::Created);
    assert_eq!(rec.state.error, e.to_string());
}

/// An exited container with restart policy `policy`, restarted `restarts` times.
fn exited_with_policy(s: &Setup, policy: &str, restarts: u32) {
    let mut rec = record(Status::Exited);
    rec.host_config.restart_policy = super::restart_policy::RestartPolicy::parse(policy).unwrap();
    rec.restart_count = restarts;
    insert(&s.engine, &rec);
}

#[test]
fn the_monitor_restarts_by_policy_and_counts_the_restart() {
    use crate::engine::monitor::restart;
    let state = |s: &Setup| StateStore::open(s.engine.state().path()).unwrap();
    for (policy, restarts, code, want) in [
        ("no", 0, 1, false),
        ("always", 5, 0, true),
        ("unless-stopped", 0, 137, true),
        ("on-failure", 0, 0, false),
        ("on-failure:2", 1, 1, true),
        ("on-failure:2", 2, 1, false),
    ] {
        let s = setup();
        exited_with_policy(&s, policy, restarts);
        let db = state(&s);
        assert_eq!(
            restart::decide(&db, ID, code),
            want,
            "{policy} after {restarts} restarts, exit {code}"
        );
        assert_eq!(load(&s.engine).unwrap().state.restarting, want);
        if want {
            let lock = restart::wait(
                &*s.sys,
                &db,
                s.engine.layout(),
                ID,
                Duration::from_millis(1),
            );
            assert!(lock.is_some(), "{policy}");
            assert_eq!(load(&s.engine).unwrap().restart_count, restarts + 1);
        }
    }
}

#[test]
fn a_stop_during_the_restart_backoff_ends_the_restart() {
    use crate::engine::monitor::restart;
    let s = setup();
    exited_with_policy(&s, "always", 0);
    let db = StateStore::open(s.engine.state().path()).unwrap();
    assert!(restart::decide(&db, ID, 1));
    // `stop` marks it stopped and waits (briefly, on the fake's clock) for the monitor.
    stop::mark_stopped(&s.engine, ID).unwrap();
    let rec = load(&s.engine).unwrap();
    assert!(rec.state.manually_stopped && rec.state.restarting);
    // The monitor's backoff sees it at its first look and gives up.
    let lock = restart::wait(&*s.sys, &db, s.engine.layout(), ID, Duration::from_secs(60));
    assert!(lock.is_none());
    let rec = load(&s.engine).unwrap();
    assert!(!rec.state.restarting);
    assert_eq!(rec.restart_count, 0);
    // And no later exit restarts it until a user starts it again.
    assert!(!restart::decide(&db, ID, 1));
}

#[test]
fn the_restart_backoff_waits_its_delay_on_the_clock() {
    use crate::engine::monitor::restart;
    let s = setup();
    exited_with_policy(&s, "on-failure", 0);
    let db = StateStore::open(s.engine.state().path()).unwrap();
    assert!(restart::decide(&db, ID, 1));
    let lock = restart::wait(&*s.sys, &db, s.engine.layout(), ID, Duration::from_secs(3));
    assert!(lock.is_some());
    // The whole delay, polled in short steps, and not much more.
    let slept = s.sys.slept();
    assert!(slept >= Duration::from_secs(3), "{slept:?}");
    assert!(slept < Duration::from_millis(3100), "{slept:?}");
    assert_eq!(load(&s.engine).unwrap().restart_count, 1);
}

#[test]
fn a_stop_in_the_middle_of_the_backoff_ends_it_at_the_next_look() {
    use crate::engine::monitor::restart;
    let s = setup();
    exited_with_policy(&s, "always", 0);
    let db = StateStore::open(s.engine.state().path()).unwrap();
    assert!(restart::decide(&db, ID, 0));
    // Another process stops the container one second into a ten-second backoff.
    let other = s.engine.clone();
    let done = std::sync::atomic::AtomicBool::new(false);
    s.sys.on_sleep(move |slept| {
        if slept >= Duration::from_secs(1) && !done.swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            // What `stop` writes (its wait for the monitor is left out: here the monitor is
            // the caller).
            other
                .state()
                .write(|tx| {
                    let mut rec = ContainerStore::of(tx).get(ID)?.unwrap();
                    rec.state.manually_stopped = true;
                    ContainerStore::of(tx).save(&rec)
                })
                .unwrap();
        }
    });
    let lock = restart::wait(&*s.sys, &db, s.engine.layout(), ID, Duration::from_secs(10));
    assert!(lock.is_none());
    let slept = s.sys.slept();
    assert!(slept < Duration::from_secs(2), "{slept:?}");
    let rec = load(&s.engine).unwrap();
    assert!(!rec.state.restarting);
    assert_eq!(rec.restart_count, 0);
}

#[test]
fn a_removal_in_the_middle_of_the_backoff_ends_it() {
    use crate::engine::monitor::restart;
    let s = setup();
    exited_with_policy(&s, "always", 0);
    let db = StateStore::open(s.engine.state().path()).unwrap();
    assert!(restart::decide(&db, ID, 0));
    let other = s.engine.clone();
    s.sys.on_sleep(move |_| {
        other
            .state()
            .write(|tx| ContainerStore::of(tx).delete(ID))
            .unwrap();
    });
    let lock = restart::wait(&*s.sys, &db, s.engine.layout(), ID, Duration::from_secs(5));
    assert!(lock.is_none());
    assert!(s.sys.slept() < Duration::from_millis(200));
    assert!(load(&s.engine).is_none());
}
