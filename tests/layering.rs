//! The module layering docs/ARCHITECTURE.md describes, checked on the source: the engine never
//! reaches into a front end, and the front ends reach the engine through its API (methods on
//! `Engine` and the types they take), calling its free functions only where the list below
//! says why.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The lines of `path` that are code (not comments).
fn code_lines(path: &Path) -> Vec<(usize, String)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .enumerate()
        .filter(|(_, l)| {
            let t = l.trim_start();
            !t.starts_with("//")
        })
        .map(|(i, l)| (i + 1, l.to_string()))
        .collect()
}

fn src(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(sub)
}

#[test]
fn no_engine_file_uses_the_cli_or_the_tui() {
    let mut files = Vec::new();
    rust_files(&src("engine"), &mut files);
    assert!(files.len() > 100, "the engine's files were not found");
    let mut found = Vec::new();
    for f in &files {
        for (n, line) in code_lines(f) {
            if line.contains("crate::cli") || line.contains("crate::tui") {
                found.push(format!("{}:{n}: {}", f.display(), line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "engine files reach into a front end:\n{}",
        found.join("\n")
    );
}

/// Free functions of the engine a front end may call, and why each is not an `Engine` method.
const ALLOWED: &[(&str, &str)] = &[
    (
        "engine::monitor::main(",
        "the monitor process's entry point",
    ),
    (
        "engine::monitor::resume_main(",
        "the monitor's entry point when berth-relay execs it back at the container's exit",
    ),
    (
        "engine::exec::monitor_main(",
        "the exec monitor process's entry point",
    ),
    (
        "engine::health::checker::main(",
        "the health checker process's entry point",
    ),
    (
        "engine::trace::phase(",
        "the BERTH_TRACE phase log of the CLI's own steps",
    ),
    ("engine::compat::units::human_size(", "docker's size text"),
    (
        "engine::compat::units::human_size_with_precision(",
        "docker's size text",
    ),
    (
        "engine::network::ports::split_key(",
        "parses a PORT/PROTO key",
    ),
    ("engine::network::ports::parse_publish(", "parses a -p flag"),
    (
        "engine::layout::config_dir(",
        "the user's config directory (tui.toml)",
    ),
    (
        "engine::image::record::familiar(",
        "docker's short form of an image name",
    ),
    ("engine::error::render(", "an error's text with its causes"),
    ("engine::container::parse_size(", "parses a size flag"),
    (
        "engine::monitor::trim::drop_clean_file_pages(",
        "the process's own memory: the TUI drops its clean code pages as the monitor does",
    ),
];

#[test]
fn the_front_ends_call_only_the_engine_functions_listed() {
    let mut files = Vec::new();
    rust_files(&src("cli"), &mut files);
    rust_files(&src("tui"), &mut files);
    assert!(files.len() > 50, "the front ends' files were not found");
    let mut found = Vec::new();
    for f in &files {
        for (n, line) in code_lines(f) {
            let mut rest = line.as_str();
            while let Some(at) = rest.find("engine::") {
                let tail = &rest[at..];
                let end = tail
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                    .unwrap_or(tail.len());
                let path = &tail[..end];
                let last = path.rsplit("::").next().unwrap_or("");
                let called = tail[end..].starts_with('(');
                let is_fn = last.starts_with(|c: char| c.is_ascii_lowercase());
                // `Type::parse(` and such build values of the API's own types.
                let owner = path.rsplit("::").nth(1).unwrap_or("");
                let associated = owner.starts_with(|c: char| c.is_ascii_uppercase());
                if called && is_fn && !associated {
                    let call = format!("{path}(");
                    if !ALLOWED.iter().any(|(a, _)| *a == call) {
                        found.push(format!("{}:{n}: {call}", f.display()));
                    }
                }
                rest = &tail[end..];
            }
        }
    }
    assert!(
        found.is_empty(),
        "front ends call engine functions that are not part of its API (make them Engine \
         methods, or list them here with the reason):\n{}",
        found.join("\n")
    );
}
