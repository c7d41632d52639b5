//! The `[y/N]` confirmation docker asks before a prune.

use std::io::{BufRead, Write};

/// Prints `question [y/N] ` on stdout (where docker prints it) and reads one answer line from
/// stdin: `y` or `yes` (any case) confirms; anything else, an empty line or the end of input
/// declines.
pub fn confirm(question: &str) -> anyhow::Result<bool> {
    {
        let mut out = std::io::stdout().lock();
        write!(out, "{question} [y/N] ")?;
        out.flush()?;
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(is_yes(&line))
}

fn is_yes(answer: &str) -> bool {
    let a = answer.trim();
    a.eq_ignore_ascii_case("y") || a.eq_ignore_ascii_case("yes")
}

#[cfg(test)]
mod tests {
    use super::is_yes;

    #[test]
    fn only_yes_confirms() {
        assert!(is_yes("y\n") && is_yes("Y") && is_yes(" yes \n"));
        assert!(!is_yes("") && !is_yes("n") && !is_yes("yep") && !is_yes("\n"));
    }
}
