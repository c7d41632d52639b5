//! Snapshot tests of every pane and popup (TestBackend), with fixed ids and times.

mod events;
mod graphs;
mod health;
mod moves;
pub mod networks;
mod panes;
mod popups;

use chrono::{DateTime, Duration, TimeZone, Utc};
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::Terminal;

use super::app::App;
use super::config::Config;
use super::keymap::Keymap;
use super::model::{ContainerRow, ContainerState, ImageRow, LogLine, Stream, VolumeRow};
use super::msg::Msg;
use super::theme::Theme;
use super::update::update;

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap()
}

pub fn id(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

fn container(n: u8, name: &str, state: ContainerState, exit: Option<i32>) -> ContainerRow {
    ContainerRow {
        id: id(n),
        name: name.into(),
        image: "busybox".into(),
        state,
        exit_code: exit,
        created: now() - Duration::hours(26),
        started: Some(now() - Duration::minutes(192)),
        finished: (state == ContainerState::Exited).then(|| now() - Duration::minutes(5)),
        ports: if name == "web" {
            "8080->80/tcp".into()
        } else {
            String::new()
        },
        command: "httpd -f -p 80".into(),
        cpu: None,
        memory: None,
        health: None,
        restarts: 0,
    }
}

pub fn containers() -> Vec<ContainerRow> {
    vec![
        container(1, "web", ContainerState::Running, None),
        container(2, "db", ContainerState::Exited, Some(1)),
        container(3, "cache", ContainerState::Paused, None),
        container(4, "job", ContainerState::Created, None),
        container(5, "worker", ContainerState::Exited, Some(0)),
    ]
}

pub fn images() -> Vec<ImageRow> {
    vec![
        ImageRow {
            id: format!("sha256:{}", "ab".repeat(32)),
            reference: "busybox:latest".into(),
            size: 4_261_000,
            created: Some(now() - Duration::days(40)),
            containers: 5,
        },
        ImageRow {
            id: format!("sha256:{}", "cd".repeat(32)),
            reference: "127.0.0.1:5000/team/app:1".into(),
            size: 87_500_000,
            created: Some(now() - Duration::hours(3)),
            containers: 0,
        },
        ImageRow {
            id: format!("sha256:{}", "ef".repeat(32)),
            reference: "<none>:<none>".into(),
            size: 1_200,
            created: None,
            containers: 0,
        },
    ]
}

pub fn volumes() -> Vec<VolumeRow> {
    vec![
        VolumeRow {
            name: "data".into(),
            size: Some(12_300_000),
            used_by: vec!["web".into(), "worker".into()],
            created: Some(now() - Duration::days(2)),
        },
        VolumeRow {
            name: "scratch".into(),
            size: None,
            used_by: vec![],
            created: Some(now() - Duration::minutes(3)),
        },
    ]
}

pub fn log_line(c: u8, secs: i64, stream: Stream, text: &str) -> LogLine {
    LogLine {
        time: now() - Duration::seconds(100) + Duration::seconds(secs),
        stream,
        container: id(c),
        text: text.into(),
    }
}

/// An app at a fixed time with the default keys and colours, sized `w`×`h`.
pub fn app(w: u16, h: u16) -> App {
    let config = Config {
        keymap: Keymap::default(),
        theme: Theme::default(),
        mouse: true,
    };
    let mut app = App::new(config, "/var/lib/berth".into(), now());
    update(&mut app, Msg::Resize(w, h));
    let _ = app.init();
    app
}

/// An app with every list loaded.
pub fn loaded(w: u16, h: u16) -> App {
    let mut a = app(w, h);
    a.containers.set_items(containers());
    a.images.set_items(images());
    a.volumes.set_items(volumes());
    a
}

pub fn render(app: &App) -> Buffer {
    let mut t = Terminal::new(TestBackend::new(app.size.0, app.size.1)).unwrap();
    t.draw(|f| super::view::view(app, f)).unwrap();
    t.backend().buffer().clone()
}

/// The screen as text, one line per row.
pub fn screen(app: &App) -> String {
    screen_of(&render(app))
}

/// A buffer as text, one line per row.
pub fn screen_of(b: &Buffer) -> String {
    let w = usize::from(b.area.width);
    b.content
        .chunks(w.max(1))
        .map(|row| {
            let mut line = String::new();
            let mut skip = 0;
            for c in row {
                if skip > 0 {
                    skip -= 1;
                    continue;
                }
                line.push_str(c.symbol());
                skip = unicode_width::UnicodeWidthStr::width(c.symbol()).saturating_sub(1);
            }
            line.trim_end().to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Finds `text` on screen and returns the cell of its first character.
pub fn find(b: &Buffer, text: &str) -> Option<(u16, u16)> {
    let w = b.area.width;
    for y in 0..b.area.height {
        let row: String = (0..w).map(|x| b[(x, y)].symbol().to_string()).collect();
        if let Some(i) = row.find(text) {
            let x = row[..i].chars().count() as u16;
            return Some((x, y));
        }
    }
    None
}
