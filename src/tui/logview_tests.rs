use chrono::TimeZone;

use super::*;
use crate::tui::model::{LogLine, Stream};

fn view(lines: usize) -> LogView {
    let mut v = LogView {
        targets: vec!["a".into()],
        ..LogView::default()
    };
    for i in 0..lines {
        v.store.push(LogLine {
            time: Utc.timestamp_opt(1_700_000_000 + i as i64, 0).unwrap(),
            stream: Stream::Stdout,
            container: "a".into(),
            text: if i % 10 == 0 {
                format!("line {i} \x1b[31mERROR\x1b[0m")
            } else {
                format!("line {i}")
            },
        });
    }
    v
}

fn bottom(v: &LogView) -> String {
    v.shown()
        .next()
        .map(|(_, e)| e.text.to_string())
        .unwrap_or_default()
}

#[test]
fn scrolls_and_returns_to_follow() {
    let mut v = view(50);
    assert_eq!(bottom(&v), "line 49");
    v.scroll_up(5, 10);
    assert_eq!(bottom(&v), "line 44");
    v.scroll_up(100, 10);
    assert_eq!(bottom(&v), "line 9", "stops with a full screen above");
    v.scroll_down(5);
    assert_eq!(bottom(&v), "line 14");
    v.scroll_down(100);
    assert!(v.anchor.is_none());
    v.to_top(10);
    assert_eq!(bottom(&v), "line 9");
    v.to_bottom();
    assert_eq!(bottom(&v), "line 49");
}

#[test]
fn scrolled_view_stays_put_while_lines_arrive() {
    let mut v = view(50);
    v.scroll_up(3, 10);
    v.store.push(LogLine {
        time: Utc.timestamp_opt(1_800_000_000, 0).unwrap(),
        stream: Stream::Stderr,
        container: "a".into(),
        text: "new".into(),
    });
    assert_eq!(bottom(&v), "line 46");
    v.to_bottom();
    assert_eq!(bottom(&v), "new");
}

#[test]
fn search_jumps_between_matches() {
    let mut v = view(50);
    v.search_re = compile("error");
    assert!(v.older_match(4));
    assert!(v.current.is_some());
    let cur = |v: &LogView| {
        let key = v.current.unwrap();
        v.lines()
            .find(|(_, e)| e.key() == key)
            .unwrap()
            .1
            .text
            .to_string()
    };
    assert!(cur(&v).starts_with("line 40 "));
    assert!(v.older_match(4));
    assert!(cur(&v).starts_with("line 30 "));
    assert_eq!(bottom(&v), "line 32");
    assert!(v.newer_match(4));
    assert!(cur(&v).starts_with("line 40 "));
    assert!(!v.newer_match(4));
    for _ in 0..4 {
        assert!(v.older_match(4));
    }
    assert!(cur(&v).starts_with("line 0 "));
    assert!(!v.older_match(4));
}

#[test]
fn filter_hides_lines_and_matches_plain_text() {
    let mut v = view(50);
    v.filter_re = compile("ERROR");
    assert_eq!(v.lines().count(), 5);
    v.filter_re = compile("31m");
    assert_eq!(v.lines().count(), 0, "escape codes are not searched");
    v.filter_re = compile("line [");
    assert_eq!(v.lines().count(), 0, "an invalid regex is taken literally");
}

#[test]
fn plain_text_strips_colours_and_names_containers() {
    let mut v = view(11);
    v.targets.push("b".into());
    let text = v.plain_text(&|id| format!("n-{id}"));
    assert!(text.starts_with("n-a | line 0 ERROR\n"), "{text}");
    assert!(text.ends_with("line 10 ERROR\n"));
}
