//! Small formatting helpers shared by the panes: sizes, ages, short ids.

use chrono::{DateTime, Utc};

use crate::engine::compat::units;

/// `1.2 MB`-style size: docker's decimal size from the one formatter
/// ([`units::human_size_with_precision`], two significant digits), with a space before the
/// unit for the panes' columns.
pub fn size(bytes: u64) -> String {
    let text = units::human_size_with_precision(bytes, 2);
    let unit_at = text
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    format!("{} {}", &text[..unit_at], &text[unit_at..])
}

/// Compact duration: `45s`, `12m`, `3h12m`, `5d3h`.
pub fn duration(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=86_399 => format!("{}h{}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// How long ago `t` was, relative to `now`: compact within two days (`3h12m ago`), then in
/// docker's words (`5 days ago`, `3 weeks ago`, `4 months ago`, `3 years ago`).
pub fn ago(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    const DAY: i64 = 86_400;
    let s = (now - t).num_seconds().max(0);
    match s {
        0..172_800 => format!("{} ago", duration(s)),
        172_800..1_209_600 => format!("{} days ago", s / DAY),
        1_209_600..5_184_000 => format!("{} weeks ago", s / (7 * DAY)),
        5_184_000..63_072_000 => format!("{} months ago", s / (30 * DAY)),
        _ => format!("{} years ago", s / (365 * DAY)),
    }
}

/// The first 12 hex digits of an id, without any `sha256:` prefix.
pub fn short_id(id: &str) -> &str {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    hex.get(..12).unwrap_or(hex)
}

/// Cuts `s` to at most `max` characters, marking the cut with `…`.
pub fn ellipsize(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations() {
        assert_eq!(size(999), "999 B");
        assert_eq!(size(1_234_567), "1.2 MB");
        assert_eq!(size(45_000_000), "45 MB");
        assert_eq!(size(2_000_000), "2 MB");
        assert_eq!(size(0), "0 B");
        assert_eq!(duration(59), "59s");
        assert_eq!(duration(3600 * 3 + 720), "3h12m");
        assert_eq!(duration(-5), "0s");
        assert_eq!(duration(86_400 * 2 + 3600), "2d1h");
        let now = chrono::Utc::now();
        let days = |d: i64| now - chrono::Duration::days(d);
        assert_eq!(ago(now - chrono::Duration::hours(26), now), "1d2h ago");
        assert_eq!(ago(days(5), now), "5 days ago");
        assert_eq!(ago(days(40), now), "5 weeks ago");
        assert_eq!(ago(days(300), now), "10 months ago");
        assert_eq!(ago(days(1113), now), "3 years ago");
    }

    #[test]
    fn ids_and_cuts() {
        assert_eq!(short_id("sha256:0123456789abcdef"), "0123456789ab");
        assert_eq!(short_id("abc"), "abc");
        assert_eq!(ellipsize("hello world", 5), "hell…");
        assert_eq!(ellipsize("hi", 5), "hi");
        assert_eq!(ellipsize("hi", 0), "");
    }
}
