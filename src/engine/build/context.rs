//! The build context: a directory (or a tar unpacked into one), `.dockerignore` with docker's
//! matching, and the glob matching of COPY/ADD sources.
//!
//! `.dockerignore` patterns are cleaned paths relative to the context root; `*` and `?` match
//! within one path component, `**` any number of components, `[...]` a character class; a
//! pattern that matches a directory excludes everything below it; `!` re-includes; the last
//! matching pattern wins. The Dockerfile and `.dockerignore` are always sent, as docker does, so
//! a build can read them, but COPY sees them only when they are not ignored.

use std::path::{Path, PathBuf};

use regex::Regex;

use crate::engine::error::{EngineError, Result};

/// One `.dockerignore` pattern.
#[derive(Debug, Clone)]
struct Pattern {
    re: Regex,
    exclusion: bool,
}

/// The parsed `.dockerignore`.
#[derive(Debug, Clone, Default)]
pub struct Ignore {
    patterns: Vec<Pattern>,
}

/// Turns a glob into an anchored regex over `/`-separated relative paths.
pub fn glob_regex(glob: &str) -> Result<Regex> {
    let mut re = String::from("^");
    let chars: Vec<char> = glob.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' if chars.get(i + 1) == Some(&'*') => {
                i += 1;
                if chars.get(i + 1) == Some(&'/') {
                    // `**/` matches zero or more leading directories.
                    re.push_str("(.*/)?");
                    i += 1;
                } else {
                    re.push_str(".*");
                }
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            '[' => {
                let end = chars[i..].iter().position(|c| *c == ']').map(|p| p + i);
                let Some(end) = end else {
                    return Err(EngineError::InvalidInput(format!(
                        "invalid pattern {glob:?}: unterminated ["
                    )));
                };
                let class: String = chars[i + 1..end].iter().collect();
                let class = class
                    .strip_prefix('!')
                    .map(|c| format!("^{c}"))
                    .unwrap_or(class);
                re.push('[');
                re.push_str(&class.replace('\\', "\\\\"));
                re.push(']');
                i = end;
            }
            '\\' if i + 1 < chars.len() => {
                i += 1;
                re.push_str(&regex::escape(&chars[i].to_string()));
            }
            c => re.push_str(&regex::escape(&c.to_string())),
        }
        i += 1;
    }
    re.push('$');
    Regex::new(&re).map_err(|e| EngineError::InvalidInput(format!("invalid pattern {glob:?}: {e}")))
}

/// Cleans a relative pattern or path: no leading `/` or `./`, no `.` parts, `..` resolved.
pub fn clean_rel(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out.join("/")
}

impl Ignore {
    /// Parses `.dockerignore` text (comments `#`, blank lines skipped).
    pub fn parse(text: &str) -> Result<Ignore> {
        let mut patterns = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (exclusion, pat) = match line.strip_prefix('!') {
                Some(p) => (true, p.trim()),
                None => (false, line),
            };
            let pat = clean_rel(pat);
            if pat.is_empty() {
                continue;
            }
            patterns.push(Pattern {
                re: glob_regex(&pat)?,
                exclusion,
            });
        }
        Ok(Ignore { patterns })
    }

    /// Whether the relative path `rel` is ignored: the last pattern matching it or one of its
    /// parent directories decides.
    pub fn ignored(&self, rel: &str) -> bool {
        let mut ignored = false;
        for p in &self.patterns {
            let mut hit = p.re.is_match(rel);
            if !hit && !p.exclusion {
                let mut prefix = rel;
                while let Some(i) = prefix.rfind('/') {
                    prefix = &prefix[..i];
                    if p.re.is_match(prefix) {
                        hit = true;
                        break;
                    }
                }
            }
            if hit {
                ignored = !p.exclusion;
            }
        }
        ignored
    }

    /// Whether a directory may hold a re-included path (then it must be walked even when
    /// ignored itself).
    pub fn has_exclusions(&self) -> bool {
        self.patterns.iter().any(|p| p.exclusion)
    }
}

/// A build context on disk.
#[derive(Debug, Clone)]
pub struct Context {
    /// The context root.
    pub root: PathBuf,
    /// Its `.dockerignore`.
    pub ignore: Ignore,
}

impl Context {
    /// Opens the directory `root` and reads its `.dockerignore`.
    pub fn open(root: &Path) -> Result<Context> {
        let meta = std::fs::metadata(root).map_err(|e| {
            EngineError::InvalidInput(format!(
                "unable to prepare context: path {:?} not found: {e}",
                root.display()
            ))
        })?;
        if !meta.is_dir() {
            return Err(EngineError::InvalidInput(format!(
                "unable to prepare context: {} is not a directory",
                root.display()
            )));
        }
        let text = std::fs::read_to_string(root.join(".dockerignore")).unwrap_or_default();
        Ok(Context {
            root: root.to_path_buf(),
            ignore: Ignore::parse(&text)?,
        })
    }

    /// Every non-ignored path of the context (relative, sorted), directories included.
    pub fn paths(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        self.walk(&self.root, "", &mut out)?;
        out.sort();
        Ok(out)
    }

    fn walk(&self, dir: &Path, prefix: &str, out: &mut Vec<String>) -> Result<()> {
        let rd = std::fs::read_dir(dir)
            .map_err(|e| EngineError::io_path("cannot read build context", dir, e))?;
        for entry in rd {
            let entry = entry.map_err(|e| EngineError::io_path("cannot read", dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            let ignored = self.ignore.ignored(&rel);
            let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
            if !ignored {
                out.push(rel.clone());
            }
            if is_dir && (!ignored || self.ignore.has_exclusions()) {
                self.walk(&entry.path(), &rel, out)?;
            }
        }
        Ok(())
    }

    /// The paths a COPY source names: a glob matched against the context's paths (a path
    /// without glob characters names itself). An ignored or missing source is an error naming
    /// it.
    pub fn sources(&self, src: &str, all: &[String]) -> Result<Vec<String>> {
        let clean = clean_rel(src);
        if clean.is_empty() {
            return Ok(vec![String::new()]);
        }
        let re = glob_regex(&clean)?;
        let hits: Vec<String> = all.iter().filter(|p| re.is_match(p)).cloned().collect();
        if hits.is_empty() {
            return Err(EngineError::InvalidInput(format!(
                "COPY failed: file not found in build context or excluded by .dockerignore: \
                 stat {src}: file does not exist"
            )));
        }
        Ok(hits)
    }
}

impl crate::engine::Engine {
    /// A build context sent as an archive (`build -` with a tar on stdin, plain or compressed
    /// with gzip, zstd, xz or bzip2): unpacked, with the no-follow walk layers use, into a
    /// staging directory removed when dropped. Its `context/` is the context's root.
    pub fn context_from_archive(
        &self,
        archive: impl std::io::Read,
    ) -> Result<crate::engine::staging::StagedDir> {
        let dir = crate::engine::staging::StagedDir::create(self.layout(), "build-context")?;
        let root = dir.path().join("context");
        std::fs::create_dir(&root).map_err(|e| EngineError::io_path("cannot create", &root, e))?;
        crate::engine::layer::unpack::extract_archive_into(
            &root,
            archive,
            "the build context on stdin",
        )?;
        Ok(dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerignore_matching_follows_docker() {
        let ig =
            Ignore::parse("# c\n*.log\n**/tmp\nsecret/\n!secret/keep.txt\nbuild/**/*.o\n").unwrap();
        assert!(ig.ignored("a.log"));
        assert!(!ig.ignored("dir/a.log"), "* stays in one component");
        assert!(ig.ignored("tmp") && ig.ignored("x/y/tmp") && ig.ignored("x/tmp/f"));
        assert!(ig.ignored("secret/other.txt"));
        assert!(!ig.ignored("secret/keep.txt"));
        assert!(ig.ignored("build/a/b/c.o") && ig.ignored("build/c.o"));
        assert!(!ig.ignored("src/main.rs"));
        assert!(ig.has_exclusions());
    }

    #[test]
    fn globs() {
        let re = glob_regex("src/*.rs").unwrap();
        assert!(re.is_match("src/a.rs") && !re.is_match("src/x/a.rs"));
        assert!(glob_regex("f[0-9]?").unwrap().is_match("f1a"));
        assert_eq!(clean_rel("./a/../b/./c/"), "b/c");
    }
}
