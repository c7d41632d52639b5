//! One json-file entry, `{"log":…,"stream":…,"time":…}` and a newline, written as the bytes
//! serde_json writes for that object, by a short loop of the writer's own. This runs for every
//! line a container prints, in the relaying monitor (`berth-relay`), whose memory is mostly the
//! code pages it touches: so no map built per line, no general formatter, no allocation (the
//! entry goes into the writer's batch), and the functions sit in the relay's own section (see
//! `engine::monitor::rawsys`).

use super::Stream;

/// Bytes of a [`Stamp`]: `2026-12-07T19:47:32.648149211Z`.
const STAMP_LEN: usize = 30;

/// A time as chrono's `to_rfc3339_opts(SecondsFormat::Nanos, true)` writes it, formatted once
/// for every entry of one read.
pub struct Stamp {
    pub secs: i64,
    pub nanos: u32,
    text: [u8; STAMP_LEN],
}

impl Stamp {
    #[link_section = ".berth_relay"]
    pub fn new(secs: i64, nanos: u32) -> Stamp {
        let mut text = [0u8; STAMP_LEN];
        let (days, day_secs) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        // Howard Hinnant's days-to-civil-date.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        let fields: [(i64, usize, u8); 7] = [
            (year, 4, b'-'),
            (month, 2, b'-'),
            (day, 2, b'T'),
            (day_secs / 3600, 2, b':'),
            (day_secs / 60 % 60, 2, b':'),
            (day_secs % 60, 2, b'.'),
            (i64::from(nanos), 9, b'Z'),
        ];
        let mut at = 0;
        for (value, width, after) in fields {
            let mut v = value;
            for i in (0..width).rev() {
                text[at + i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
            text[at + width] = after;
            at += width + 1;
        }
        Stamp { secs, nanos, text }
    }

    pub fn text(&self) -> &[u8] {
        &self.text
    }

    /// The time as chrono's.
    pub fn time(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::from_timestamp(self.secs, self.nanos).unwrap_or_default()
    }
}

/// Appends the entry for `bytes` from `stream` at `stamp` to `out`.
#[link_section = ".berth_relay"]
pub fn entry(out: &mut Vec<u8>, stream: Stream, bytes: &[u8], stamp: &Stamp) {
    out.extend_from_slice(b"{\"log\":\"");
    if bytes.is_ascii() {
        escape_json(bytes, out);
    } else {
        escape_json(String::from_utf8_lossy(bytes).as_bytes(), out);
    }
    out.extend_from_slice(match stream {
        Stream::Stdout => b"\",\"stream\":\"stdout\",\"time\":\"",
        Stream::Stderr => b"\",\"stream\":\"stderr\",\"time\":\"",
    });
    out.extend_from_slice(stamp.text());
    out.extend_from_slice(b"\"}\n");
}

/// The longest entry `len` bytes of output can make (every byte escaped as `\u00XX`).
pub fn bound(len: usize) -> usize {
    len * 6 + 64 + STAMP_LEN
}

/// `text` (UTF-8) as the inside of a JSON string, escaped as serde_json escapes it: `"` and
/// `\\`, the short forms of backspace, form feed, newline, carriage return and tab, `\\u00XX`
/// for the other control characters; everything else as it is.
#[link_section = ".berth_relay"]
fn escape_json(bytes: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let short = match b {
            b'"' => b'"',
            b'\\' => b'\\',
            b'\n' => b'n',
            b'\r' => b'r',
            b'\t' => b't',
            0x08 => b'b',
            0x0c => b'f',
            0..=0x1f => 0,
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if short == 0 {
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(b >> 4) as usize],
                HEX[(b & 15) as usize],
            ]);
        } else {
            out.extend_from_slice(&[b'\\', short]);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{SecondsFormat, TimeZone, Utc};

    #[test]
    fn times_are_written_as_chrono_writes_them() {
        let mut times = vec![Utc::now()];
        for (secs, nanos) in [
            (0, 0),
            (951_782_400, 1),             // 2000-02-29
            (1_709_164_799, 999_999_999), // 2024-02-28T23:59:59
            (1_798_761_599, 500),         // 2026-12-31T23:59:59
            (4_107_542_400, 123_456_789), // 2100-03-01
            (253_402_300_799, 7),         // 9999-12-31T23:59:59
        ] {
            times.push(Utc.timestamp_opt(secs, nanos).unwrap());
        }
        for t in times {
            let stamp = Stamp::new(t.timestamp(), t.timestamp_subsec_nanos());
            assert_eq!(
                std::str::from_utf8(stamp.text()).unwrap(),
                t.to_rfc3339_opts(SecondsFormat::Nanos, true)
            );
            assert_eq!(stamp.time(), t);
        }
    }

    #[test]
    fn entries_are_the_bytes_serde_json_writes() {
        let time = Utc::now();
        let stamp = Stamp::new(time.timestamp(), time.timestamp_subsec_nanos());
        let samples: [&[u8]; 7] = [
            b"hello\n",
            b"",
            b"quote \" backslash \\ slash / tab \t cr \r\n",
            b"\x00\x01\x08\x0b\x0c\x1b\x1f\x7f end",
            "unicode é ✓ \u{2028}".as_bytes(),
            b"invalid \xff\xfe utf-8\n",
            b"\"\\",
        ];
        let mut all = Vec::new();
        for (bytes, stream) in samples
            .iter()
            .zip([Stream::Stdout, Stream::Stderr].iter().cycle())
        {
            let mut want = serde_json::json!({
                "log": String::from_utf8_lossy(bytes),
                "stream": stream,
                "time": time.to_rfc3339_opts(SecondsFormat::Nanos, true),
            })
            .to_string();
            want.push('\n');
            let mut got = Vec::new();
            entry(&mut got, *stream, bytes, &stamp);
            assert!(got.len() <= bound(bytes.len()), "{bytes:?}");
            assert_eq!(String::from_utf8(got.clone()).unwrap(), want, "{bytes:?}");
            // Appended after what is there already.
            let before = all.len();
            entry(&mut all, *stream, bytes, &stamp);
            assert_eq!(all[before..], got[..]);
        }
    }
}
