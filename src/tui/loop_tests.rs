//! The event loop with a fake engine and a TestBackend: keys in, jobs run, screen drawn, and
//! every long job stopped on quit.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use futures::future::BoxFuture;
use futures::FutureExt;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use tokio::sync::mpsc;

use super::event_loop::drive;
use super::jobs::{Backend, Jobs, ShellIo};
use super::model::{ContainerRow, ImageRow, LogLine, RunSpec, StatSample, Stream, VolumeRow};
use super::msg::{ContainerOp, Kind, News};
use super::view_tests::{containers, id, loaded};

struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[derive(Default)]
struct Fake {
    follow_stopped: Arc<AtomicBool>,
    stops: Arc<AtomicUsize>,
}

fn refuse<T: Send + 'static>() -> BoxFuture<'static, Result<T, String>> {
    async { Err("not in the fake".to_string()) }.boxed()
}

impl super::jobs_net::NetworkBackend for Fake {}
impl super::jobs_system::SystemBackend for Fake {}
impl super::jobs_moves::MoveBackend for Fake {}
impl super::jobs_build::BuildBackend for Fake {}

impl Backend for Fake {
    fn containers(&self) -> BoxFuture<'static, Result<Vec<ContainerRow>, String>> {
        async { Ok(containers()) }.boxed()
    }
    fn images(&self) -> BoxFuture<'static, Result<Vec<ImageRow>, String>> {
        refuse()
    }
    fn stats(&self, _: Vec<String>) -> BoxFuture<'static, Result<Vec<StatSample>, String>> {
        refuse()
    }
    fn volumes(&self) -> BoxFuture<'static, Result<Vec<VolumeRow>, String>> {
        async { Ok(vec![]) }.boxed()
    }
    fn container_op(&self, _id: String, op: ContainerOp) -> BoxFuture<'static, Result<(), String>> {
        let stops = self.stops.clone();
        async move {
            if op == ContainerOp::Stop {
                stops.fetch_add(1, Ordering::SeqCst);
                Ok(())
            } else {
                Err("refused by the fake".into())
            }
        }
        .boxed()
    }
    fn remove_container(
        &self,
        _: String,
        _: bool,
        _: bool,
    ) -> BoxFuture<'static, Result<(), String>> {
        refuse()
    }
    fn remove_image(&self, _: String, _: bool) -> BoxFuture<'static, Result<(), String>> {
        refuse()
    }
    fn remove_volume(&self, _: String, _: bool) -> BoxFuture<'static, Result<(), String>> {
        refuse()
    }
    fn create_volume(&self, _: String) -> BoxFuture<'static, Result<(), String>> {
        refuse()
    }
    fn prune(&self, _: Kind) -> BoxFuture<'static, Result<String, String>> {
        refuse()
    }
    fn inspect(&self, _: Kind, _: String) -> BoxFuture<'static, Result<String, String>> {
        refuse()
    }
    fn pull(
        &self,
        _: String,
        _: mpsc::UnboundedSender<News>,
    ) -> BoxFuture<'static, Result<String, String>> {
        refuse()
    }
    fn run(&self, _: RunSpec) -> BoxFuture<'static, Result<(String, String), String>> {
        refuse()
    }
    fn follow_logs(
        &self,
        container: String,
        _tail: Option<usize>,
        _since: Option<DateTime<Utc>>,
        out: mpsc::Sender<Vec<LogLine>>,
    ) -> BoxFuture<'static, Result<(), String>> {
        let flag = self.follow_stopped.clone();
        async move {
            let _guard = SetOnDrop(flag);
            for i in 0..3 {
                let line = LogLine {
                    time: Utc::now(),
                    stream: if i == 1 {
                        Stream::Stderr
                    } else {
                        Stream::Stdout
                    },
                    container: container.clone(),
                    text: format!("fake line {i}"),
                };
                let _ = out.send(vec![line]).await;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            out.closed().await;
            Ok(())
        }
        .boxed()
    }
    fn open_shell(
        &self,
        _: String,
        _: bool,
        _: bool,
        _: u16,
        _: u16,
        _: Option<crate::tui::msg::Exec>,
    ) -> BoxFuture<'static, Result<ShellIo, String>> {
        refuse()
    }
}

fn key(c: KeyCode) -> io::Result<Event> {
    Ok(Event::Key(KeyEvent::new(c, KeyModifiers::NONE)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_jobs_and_drawing_go_round_and_quit_stops_long_jobs() {
    let fake = Fake::default();
    let stopped = fake.follow_stopped.clone();
    let stops = fake.stops.clone();
    let (tx, rx) = mpsc::channel(64);
    let jobs = Jobs::new(Arc::new(fake), tx);
    let (keys, events) = futures::channel::mpsc::unbounded();
    let mut terminal = Terminal::new(TestBackend::new(110, 16)).unwrap();
    let mut app = loaded(110, 16);
    app.containers = Default::default();
    let mut mouse = Vec::new();
    let script = async move {
        let pause = || tokio::time::sleep(Duration::from_millis(250));
        pause().await;
        // Sorted by name: cache, db, job, web, worker.
        for _ in 0..3 {
            keys.unbounded_send(key(KeyCode::Char('j'))).unwrap();
        }
        keys.unbounded_send(key(KeyCode::Enter)).unwrap();
        pause().await;
        keys.unbounded_send(key(KeyCode::Char('s'))).unwrap();
        keys.unbounded_send(key(KeyCode::Char('m'))).unwrap();
        pause().await;
        keys.unbounded_send(key(KeyCode::Char('q'))).unwrap();
        keys
    };
    let mut set_mouse = |op| match op {
        super::event_loop::TermOp::Mouse(on) => mouse.push(on),
        other => panic!("unexpected {other:?}"),
    };
    let (app, _keys) = tokio::join!(
        drive(&mut terminal, app, jobs, rx, events, &mut set_mouse),
        script
    );
    let app = app.unwrap();
    assert!(app.quit);
    assert_eq!(
        app.containers.items.len(),
        5,
        "the list came from the backend"
    );
    assert_eq!(app.logs.targets, vec![id(1)]);
    assert_eq!(app.logs.store.len(&id(1)), 3);
    assert_eq!(
        stops.load(Ordering::SeqCst),
        1,
        "s stopped the running container"
    );
    assert_eq!(mouse, vec![false]);
    let screen = super::view_tests::screen_of(terminal.backend().buffer());
    assert!(screen.contains("fake line 2"), "{screen}");
    assert!(screen.contains("Logs web"), "{screen}");
    // The follow was aborted when the loop ended.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        stopped.load(Ordering::SeqCst),
        "log follow still running after quit"
    );
}
