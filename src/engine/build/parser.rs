//! Dockerfile parser: parser directives (`# escape=`, `# syntax=`), comments, line
//! continuations, heredocs (`<<EOF`, `<<-EOF`, quoted delimiters), instruction flags
//! (`--from=…`) and the JSON (exec) and shell forms. Variables are not expanded here (see
//! [`super::words`]): which ones an instruction expands, and with what, is the executor's
//! business.

use crate::engine::error::{EngineError, Result};

/// The arguments of an instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Args {
    /// `["a", "b"]`.
    Json(Vec<String>),
    /// Everything after the keyword and flags, continuation lines joined.
    Shell(String),
}

/// A here-document of an instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    /// The delimiter word (`EOF`).
    pub name: String,
    /// The lines between the instruction and the delimiter, each ending in `\n`.
    pub content: String,
    /// Unquoted delimiter: variables in the content are expanded (RUN: by the shell).
    pub expand: bool,
}

/// One instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// 1-based line of the keyword.
    pub line: usize,
    /// Upper-case keyword (`RUN`).
    pub keyword: String,
    /// Leading `--name=value` flags (`--name` alone has an empty value).
    pub flags: Vec<(String, String)>,
    /// The arguments.
    pub args: Args,
    /// The instruction as written (continuations joined), for output and the cache.
    pub original: String,
    /// Heredocs, in order.
    pub heredocs: Vec<Heredoc>,
}

impl Instruction {
    /// The value of `--name`, if given.
    pub fn flag(&self, name: &str) -> Option<&str> {
        self.flags
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The shell-form text, or the JSON form re-joined by spaces.
    pub fn text(&self) -> String {
        match &self.args {
            Args::Shell(s) => s.clone(),
            Args::Json(v) => v.join(" "),
        }
    }

    /// A parse error naming this instruction.
    pub fn error(&self, why: impl std::fmt::Display) -> EngineError {
        EngineError::InvalidInput(format!(
            "Dockerfile line {}: {}: {why}",
            self.line, self.keyword
        ))
    }
}

/// A parsed Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    /// The escape character (`\` or `` ` ``).
    pub escape: char,
    /// Instructions in order.
    pub instructions: Vec<Instruction>,
}

const KEYWORDS: &[&str] = &[
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// Parses a Dockerfile.
pub fn parse(text: &str) -> Result<Dockerfile> {
    let lines: Vec<&str> = text.lines().collect();
    let mut escape = '\\';
    let mut i = 0;
    // Parser directives: `# key=value` lines at the very top.
    while i < lines.len() {
        let Some(rest) = lines[i].trim().strip_prefix('#') else {
            break;
        };
        let Some((k, v)) = rest.split_once('=') else {
            break;
        };
        let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
        if k.contains(char::is_whitespace) {
            break;
        }
        match k.as_str() {
            "escape" => {
                escape = match v {
                    "\\" => '\\',
                    "`" => '`',
                    _ => {
                        return Err(EngineError::InvalidInput(format!(
                            "Dockerfile line {}: invalid escape character {v:?}: use \\ or `",
                            i + 1
                        )))
                    }
                }
            }
            "syntax" | "check" => {}
            _ => break,
        }
        i += 1;
    }
    let mut out = Vec::new();
    while i < lines.len() {
        let trimmed = lines[i].trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            i += 1;
            continue;
        }
        let start = i;
        // Join continuation lines; comment lines inside are dropped.
        let mut joined = String::new();
        let mut cur = lines[i].trim_end();
        loop {
            i += 1;
            match cur.strip_suffix(escape) {
                Some(head) => {
                    joined.push_str(head);
                    loop {
                        let Some(next) = lines.get(i) else {
                            cur = "";
                            break;
                        };
                        let t = next.trim();
                        if t.starts_with('#') || t.is_empty() {
                            i += 1;
                            continue;
                        }
                        cur = next.trim_end();
                        break;
                    }
                    if cur.is_empty() {
                        break;
                    }
                }
                _ => {
                    joined.push_str(cur);
                    break;
                }
            }
        }
        let mut ins = instruction(start + 1, joined.trim())?;
        // Heredocs take the lines after the instruction.
        for name in heredoc_names(&ins) {
            let (delim, strip, expand) = name;
            let mut content = String::new();
            loop {
                let Some(line) = lines.get(i) else {
                    return Err(ins.error(format!("heredoc <<{delim} is not terminated")));
                };
                i += 1;
                let l = if strip {
                    line.trim_start_matches('\t')
                } else {
                    line
                };
                if l == delim {
                    break;
                }
                content.push_str(l);
                content.push('\n');
            }
            ins.heredocs.push(Heredoc {
                name: delim,
                content,
                expand,
            });
        }
        out.push(ins);
    }
    Ok(Dockerfile {
        escape,
        instructions: out,
    })
}

fn instruction(line: usize, text: &str) -> Result<Instruction> {
    let (kw, mut rest) = match text.find(char::is_whitespace) {
        Some(n) => (&text[..n], text[n..].trim_start()),
        None => (text, ""),
    };
    let keyword = kw.to_ascii_uppercase();
    if !KEYWORDS.contains(&keyword.as_str()) {
        return Err(EngineError::InvalidInput(format!(
            "Dockerfile line {line}: unknown instruction: {kw}"
        )));
    }
    let mut flags = Vec::new();
    if matches!(
        keyword.as_str(),
        "FROM" | "RUN" | "COPY" | "ADD" | "HEALTHCHECK"
    ) {
        while let Some(f) = rest.strip_prefix("--") {
            let end = f.find(char::is_whitespace).unwrap_or(f.len());
            let (k, v) = f[..end].split_once('=').unwrap_or((&f[..end], ""));
            flags.push((k.to_string(), v.to_string()));
            rest = f[end..].trim_start();
        }
    }
    let args = if matches!(
        keyword.as_str(),
        "RUN" | "CMD" | "ENTRYPOINT" | "SHELL" | "COPY" | "ADD" | "VOLUME" | "HEALTHCHECK"
    ) && rest.starts_with('[')
    {
        match serde_json::from_str::<Vec<String>>(rest) {
            Ok(v) => Args::Json(v),
            Err(_) => Args::Shell(rest.to_string()),
        }
    } else {
        Args::Shell(rest.to_string())
    };
    Ok(Instruction {
        line,
        keyword,
        flags,
        args,
        original: text.to_string(),
        heredocs: Vec::new(),
    })
}

/// The heredoc delimiters an instruction names: (word, strip leading tabs, expand).
fn heredoc_names(ins: &Instruction) -> Vec<(String, bool, bool)> {
    if !matches!(ins.keyword.as_str(), "RUN" | "COPY" | "ADD") {
        return Vec::new();
    }
    let Args::Shell(text) = &ins.args else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for word in text.split_whitespace() {
        let Some(mut w) = word.strip_prefix("<<") else {
            continue;
        };
        let strip = w.starts_with('-');
        if strip {
            w = &w[1..];
        }
        let quoted = w.len() >= 2
            && ((w.starts_with('"') && w.ends_with('"'))
                || (w.starts_with('\'') && w.ends_with('\'')));
        let name = if quoted { &w[1..w.len() - 1] } else { w };
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            out.push((name.to_string(), strip, !quoted));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_comments_continuations_and_forms() {
        let df = parse(
            "# syntax=docker/dockerfile:1\n# escape=`\nFROM busybox AS base\n# a comment\n\
             RUN echo a `\n  # inside\n  && echo b\nCMD [\"sh\", \"-c\", \"echo hi\"]\n\
             copy --chown=1:2 --from=base a b\nENTRYPOINT [not json\n",
        )
        .unwrap();
        assert_eq!(df.escape, '`');
        let i = &df.instructions;
        assert_eq!(i.len(), 5);
        assert_eq!(i[0].keyword, "FROM");
        assert_eq!(i[1].args, Args::Shell("echo a   && echo b".into()));
        assert_eq!(i[1].line, 5);
        assert_eq!(
            i[2].args,
            Args::Json(vec!["sh".into(), "-c".into(), "echo hi".into()])
        );
        assert_eq!(i[3].keyword, "COPY");
        assert_eq!(i[3].flag("chown"), Some("1:2"));
        assert_eq!(i[3].flag("from"), Some("base"));
        assert_eq!(i[3].args, Args::Shell("a b".into()));
        assert_eq!(i[4].args, Args::Shell("[not json".into()));
    }

    #[test]
    fn heredocs_take_the_following_lines() {
        let df = parse(
            "FROM x\nRUN <<EOF\necho $A\nEOF\nCOPY <<-'END' /f\n\thello $B\n\tEND\nRUN true\n",
        )
        .unwrap();
        let i = &df.instructions;
        assert_eq!(i.len(), 4);
        assert_eq!(i[1].heredocs[0].content, "echo $A\n");
        assert!(i[1].heredocs[0].expand);
        assert_eq!(i[2].heredocs[0].content, "hello $B\n");
        assert!(!i[2].heredocs[0].expand);
        assert_eq!(i[3].line, 8);
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse("FROM x\nFROB y\n").unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("FROB"), "{e}");
        let e = parse("FROM x\nRUN <<EOF\nno end\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not terminated"), "{e}");
        // As docker: an escape character at the end of a line always continues it.
        assert_eq!(parse("RUN a \\\nCMD b\n").unwrap().instructions.len(), 1);
    }
}
