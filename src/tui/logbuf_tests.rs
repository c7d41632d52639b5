use super::*;
use chrono::TimeZone;

fn line(c: &str, secs: i64, text: &str) -> LogLine {
    LogLine {
        time: Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap(),
        stream: Stream::Stdout,
        container: c.to_string(),
        text: text.to_string(),
    }
}

fn texts(s: &LogStore, c: &str) -> Vec<String> {
    s.newest_first(&[c.to_string()])
        .map(|(_, e)| e.text.to_string())
        .collect()
}

#[test]
fn ring_is_bounded_in_lines_and_bytes() {
    let mut s = LogStore::new(3, 0);
    for i in 0..10 {
        s.push(line("a", i, &format!("l{i}")));
    }
    assert_eq!(s.len("a"), 3);
    assert_eq!(texts(&s, "a"), ["l9", "l8", "l7"]);

    let mut s = LogStore::new(1_000_000, MAX_LINE);
    for i in 0..100 {
        s.push(line("a", i, &"x".repeat(1000)));
    }
    assert!(s.bytes("a") <= MAX_LINE);
    s.push(line("a", 200, &"é".repeat(MAX_LINE)));
    assert_eq!(s.len("a"), 1);
    assert!(s.bytes("a") <= MAX_LINE);
    let kept = &texts(&s, "a")[0];
    assert_eq!(kept.len(), MAX_LINE, "cut on the last char boundary");
    assert!(kept.chars().all(|c| c == 'é'));
}

#[test]
fn merged_walk_is_time_ordered() {
    let mut s = LogStore::new(100, 0);
    s.push(line("a", 1, "a1"));
    s.push(line("b", 2, "b2"));
    s.push(line("a", 3, "a3"));
    s.push(line("b", 3, "b3"));
    s.push(line("a", 2, "a-late"));
    let got: Vec<_> = s
        .newest_first(&["a".into(), "b".into(), "none".into()])
        .map(|(i, e)| (i, e.text.to_string()))
        .collect();
    let want = [(0, "a-late"), (1, "b3"), (0, "a3"), (1, "b2"), (0, "a1")];
    let want: Vec<_> = want.iter().map(|(i, t)| (*i, t.to_string())).collect();
    assert_eq!(got, want);
}

/// From a key on, the same walk as skipping the newer lines of the whole one.
#[test]
fn merged_walk_from_a_key_skips_the_newer_lines() {
    let mut s = LogStore::new(100, 0);
    for i in 0..20 {
        s.push(line(
            if i % 3 == 0 { "a" } else { "b" },
            i / 2,
            &format!("l{i}"),
        ));
    }
    let ids = ["a".to_string(), "b".to_string()];
    let all: Vec<_> = s.newest_first(&ids).map(|(i, e)| (i, e.key())).collect();
    for (_, at) in &all {
        let want: Vec<_> = all.iter().filter(|(_, k)| k <= at).cloned().collect();
        let got: Vec<_> = s
            .newest_first_upto(&ids, Some(*at))
            .map(|(i, e)| (i, e.key()))
            .collect();
        assert_eq!(got, want);
    }
    assert_eq!(s.newest_first_upto(&ids, None).count(), 20);
}

/// Times (to the nanosecond), streams and text come back as pushed, across many chunks.
#[test]
fn lines_come_back_whole_across_chunks() {
    let mut s = LogStore::new(100_000, 64 << 20);
    let mut want = Vec::new();
    for i in 0..5_000i64 {
        let text = format!("{i}:{}", "ü".repeat((i % 300) as usize));
        let time = Utc
            .timestamp_opt(1_700_000_000 + i, (i * 7919) as u32)
            .unwrap();
        let stream = if i % 3 == 0 {
            Stream::Stderr
        } else {
            Stream::Stdout
        };
        s.push(LogLine {
            time,
            stream,
            container: "a".into(),
            text: text.clone(),
        });
        want.push((time, stream, text));
    }
    want.reverse();
    let got: Vec<_> = s
        .newest_first(&["a".into()])
        .map(|(_, e)| (e.time, e.stream, e.text.to_string()))
        .collect();
    assert_eq!(got, want);
    let seqs: Vec<u64> = s.newest_first(&["a".into()]).map(|(_, e)| e.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] > w[1]));
}

/// A full ring holds its text and an index of 24 bytes a line, not a copy per line: dropped
/// lines give their chunks back, and a quiet container costs a small chunk.
#[test]
fn memory_follows_the_lines_held() {
    let mut s = LogStore::new(10_000, 4 << 20);
    let text = "@@c00:123456; lorem ipsum dolor sit amet, consectetur adipiscing elit";
    for i in 0..50_000 {
        s.push(line("a", i, text));
    }
    assert_eq!(s.len("a"), 10_000);
    let held = 10_000 * text.len();
    let footprint = s.footprint();
    assert!(
        footprint <= held + 10_000 * 24 + 2 * CHUNK,
        "{footprint} bytes for {held} bytes of text"
    );
    assert_eq!(std::mem::size_of::<Meta>(), 24);

    s.push(line("b", 0, "one line"));
    assert!(s.footprint() - footprint <= FIRST_CHUNK + 8 * 24);
    s.clear("a");
    assert_eq!(s.len("a"), 0);
    assert!(s.footprint() <= FIRST_CHUNK + 8 * 24);
}

/// Lines whose time goes backwards keep the last one's, so walks stay ordered; times outside
/// what nanoseconds since 1970 hold are clamped, not lost.
#[test]
fn times_never_go_backwards() {
    let mut s = LogStore::new(10, 0);
    s.push(line("a", 10, "first"));
    s.push(line("a", 5, "late"));
    let times: Vec<_> = s.newest_first(&["a".into()]).map(|(_, e)| e.time).collect();
    assert_eq!(times[0], times[1]);
    let mut far = line("b", 0, "far");
    far.time = Utc.with_ymd_and_hms(2500, 1, 1, 0, 0, 0).unwrap();
    s.push(far);
    let got: Vec<_> = s.newest_first(&["b".into()]).map(|(_, e)| e.text).collect();
    assert_eq!(got, ["far"]);
}
