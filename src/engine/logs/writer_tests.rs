//! The writer's batching: entries of one read written together, unfinished lines completed
//! from the next read, and rotation still between two whole entries under the size limit.

use crate::engine::logs::{LogDriver, LogPolicy, LogWriter, Stream, MAX_LINE};

/// Every file of the log at `dir/log.json`, oldest first.
fn files_oldest_first(dir: &std::path::Path) -> Vec<Vec<u8>> {
    let mut numbered: Vec<(u32, Vec<u8>)> = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let n = match name.strip_prefix("log.json") {
            Some("") => 0,
            Some(rest) => rest.trim_start_matches('.').parse().unwrap(),
            None => continue,
        };
        numbered.push((n, std::fs::read(dir.join(&name)).unwrap()));
    }
    numbered.sort_by_key(|n| std::cmp::Reverse(n.0));
    numbered.into_iter().map(|(_, bytes)| bytes).collect()
}

#[test]
fn split_reads_and_rotation_keep_every_line_whole_and_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.json");
    let max_size = 8192;
    let policy = LogPolicy {
        driver: LogDriver::JsonFile,
        max_size,
        max_file: 10_000,
        compress: false,
    };
    let mut w = LogWriter::with_policy(&path, policy).unwrap();
    // Lines of many lengths, control characters and a few longer than an entry may hold.
    let mut output = Vec::new();
    for i in 0..1200usize {
        let len = (i * 7919) % 200;
        output.extend((0..len).map(|k| b"ab\"c\\d\te\x01fgh"[(i + k) % 12]));
        if i % 400 == 0 {
            output.extend(std::iter::repeat_n(b'L', MAX_LINE + 5));
        }
        output.push(b'\n');
    }
    // Fed in pieces that end anywhere: inside lines, inside a long line, several lines long.
    let mut at = 0;
    let mut step = 1;
    while at < output.len() {
        let end = (at + step).min(output.len());
        w.write(Stream::Stdout, &output[at..end]);
        at = end;
        step = (step * 31 + 17) % 20_000 + 1;
    }
    w.flush();
    assert_eq!(w.dropped(), (0, 0));
    let files = files_oldest_first(dir.path());
    assert!(files.len() > 10, "{} files", files.len());
    let mut logged = Vec::new();
    for file in &files {
        assert_eq!(file.last(), Some(&b'\n'));
        let entries: Vec<&[u8]> = file
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        // Over the limit only with a single entry larger than it.
        assert!(
            file.len() as u64 <= max_size || entries.len() == 1,
            "a file of {} bytes",
            file.len()
        );
        for line in entries {
            let v: serde_json::Value = serde_json::from_slice(line).unwrap();
            let text = v["log"].as_str().unwrap();
            assert!(text.len() <= MAX_LINE);
            logged.extend_from_slice(text.as_bytes());
        }
    }
    assert_eq!(logged, output);
}
