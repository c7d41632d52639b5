//! Messages as the TUI shows them: an error's text from the engine is written for the CLI
//! too, so a prefix can come twice (`cannot remove image x: cannot remove image x: …`, `error:
//! error: …`) and a hint can name a CLI flag or command (`use -f`, `` `berth network ls` ``).
//! [`tidy`] drops the repeats and names the TUI's keys instead.

/// CLI wordings and what the TUI says instead.
const PHRASES: [(&str, &str); 6] = [
    (
        "remove it with rm -f",
        "remove it with force (f in the remove dialog)",
    ),
    (
        "force remove (rm -f)",
        "remove it with force (f in the remove dialog)",
    ),
    (
        "use -f to untag it",
        "remove with force (f in the remove dialog) to untag it",
    ),
    ("use --force", "remove with force (f in the remove dialog)"),
    ("with --force", "with force (f in the remove dialog)"),
    ("(-f)", "(f in the remove dialog)"),
];

/// `berth` commands (after the word `berth`) and the TUI's way to do them.
const COMMANDS: [(&str, &str); 8] = [
    ("rm ", "d in the containers pane"),
    ("network ls", "the networks pane (5)"),
    ("network create", "c in the networks pane (5)"),
    ("volume ls", "the volumes pane (3)"),
    ("ps", "the containers pane (1)"),
    ("images", "the images pane (2)"),
    ("pull", "p"),
    ("start", "s in the containers pane"),
];

/// The text without repeated prefixes, naming TUI keys instead of CLI flags and commands.
pub fn tidy(text: &str) -> String {
    let mut s = text.to_string();
    for (cli, tui) in PHRASES {
        s = s.replace(cli, tui);
    }
    s = commands(&s);
    s.lines().map(one_line).collect::<Vec<_>>().join("\n")
}

/// `` `berth rm web` `` → `d in the containers pane`.
fn commands(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(at) = rest.find("`berth ") {
        let Some(len) = rest[at + 1..].find('`') else {
            break;
        };
        let cmd = &rest[at + 7..at + 1 + len];
        out.push_str(&rest[..at]);
        match COMMANDS.iter().find(|(c, _)| cmd.starts_with(c)) {
            Some((_, tui)) => out.push_str(tui),
            None => out.push_str(&rest[at..at + 2 + len]),
        }
        rest = &rest[at + 2 + len..];
    }
    out.push_str(rest);
    out
}

/// One line: `error:` prefixes dropped, and of two `: `-separated parts in a row that say the
/// same (or start with the same three words, `cannot remove image`), the first.
fn one_line(line: &str) -> String {
    let parts: Vec<&str> = line
        .split(": ")
        .filter(|p| !p.eq_ignore_ascii_case("error"))
        .collect();
    let mut kept: Vec<&str> = Vec::new();
    for p in parts {
        if let Some(last) = kept.last() {
            if same_start(last, p) {
                kept.pop();
            }
        }
        kept.push(p);
    }
    kept.join(": ")
}

fn same_start(a: &str, b: &str) -> bool {
    if a.eq_ignore_ascii_case(b) {
        return true;
    }
    let words = |s: &str| {
        s.split_whitespace()
            .take(3)
            .map(str::to_lowercase)
            .collect::<Vec<_>>()
    };
    let (wa, wb) = (words(a), words(b));
    wa.len() == 3 && wa == wb && wa[0] == "cannot"
}

#[cfg(test)]
mod tests {
    use super::tidy;

    #[test]
    fn repeats_go_and_hints_name_tui_keys() {
        assert_eq!(tidy("error: error: no such image"), "no such image");
        assert_eq!(
            tidy("cannot remove image app:1: cannot remove image sha256:ab: it is used"),
            "cannot remove image sha256:ab: it is used"
        );
        assert_eq!(
            tidy("unable to remove image app:1: it is used by container(s) web; remove them first or use -f to untag it"),
            "unable to remove image app:1: it is used by container(s) web; remove them first or remove with force (f in the remove dialog) to untag it"
        );
        assert_eq!(
            tidy("volume data is in use by container web; remove it first (`berth rm web`)"),
            "volume data is in use by container web; remove it first (d in the containers pane)"
        );
        assert_eq!(
            tidy("network x not found: see `berth network ls`, or create it with `berth network create x`"),
            "network x not found: see the networks pane (5), or create it with c in the networks pane (5)"
        );
        assert_eq!(
            tidy("run `berth system check` first"),
            "run `berth system check` first"
        );
        assert_eq!(tidy("a: b\nerror: c"), "a: b\nc");
    }
}
