//! A small ANSI parser: turns SGR sequences (`ESC[...m`) in log text into ratatui styles and
//! drops every other escape or control sequence, so a container's colours survive and its
//! cursor tricks cannot corrupt the screen. Also used by the screenshot converter.

use ratatui::style::{Color, Modifier, Style};

/// A line as runs of text with one style each.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Styled {
    pub runs: Vec<(String, Style)>,
}

impl Styled {
    /// The text without styles.
    pub fn plain(&self) -> String {
        self.runs.iter().map(|(t, _)| t.as_str()).collect()
    }

    fn push(&mut self, text: &str, style: Style) {
        if text.is_empty() {
            return;
        }
        match self.runs.last_mut() {
            Some((t, s)) if *s == style => t.push_str(text),
            _ => self.runs.push((text.to_string(), style)),
        }
    }

    /// Patches `style` over the byte ranges `ranges` (sorted, of [`Styled::plain`]).
    pub fn highlight(&self, ranges: &[(usize, usize)], style: Style) -> Styled {
        if ranges.is_empty() {
            return self.clone();
        }
        let mut out = Styled::default();
        let mut pos = 0;
        for (text, base) in &self.runs {
            let start = pos;
            let end = pos + text.len();
            let mut cut = start;
            for &(a, b) in ranges {
                let (a, b) = (a.max(start), b.min(end));
                if a >= b {
                    continue;
                }
                if let (Some(before), Some(inside)) = (
                    text.get(cut - start..a - start),
                    text.get(a - start..b - start),
                ) {
                    out.push(before, *base);
                    out.push(inside, base.patch(style));
                    cut = b;
                }
            }
            out.push(text.get(cut - start..).unwrap_or(""), *base);
            pos = end;
        }
        out
    }
}

/// Parses `text` with `base` as the starting style. With `colours` false, SGR colours are
/// dropped (NO_COLOR) but bold, underline and the rest are kept.
pub fn parse(text: &str, base: Style, colours: bool) -> Styled {
    let mut out = Styled::default();
    let mut style = base;
    let mut chars = text.char_indices().peekable();
    let mut run = String::new();
    while let Some((_, c)) = chars.next() {
        if c == '\x1b' {
            out.push(&run, style);
            run.clear();
            match chars.peek().map(|&(_, c)| c) {
                Some('[') => {
                    chars.next();
                    let mut params = String::new();
                    let mut fin = None;
                    for (_, c) in chars.by_ref() {
                        if ('\x40'..='\x7e').contains(&c) {
                            fin = Some(c);
                            break;
                        }
                        params.push(c);
                    }
                    if fin == Some('m') {
                        style = apply_sgr(style, base, &params, colours);
                    }
                }
                Some(']') => {
                    // OSC: skip to BEL or ST.
                    chars.next();
                    while let Some((_, c)) = chars.next() {
                        if c == '\x07' {
                            break;
                        }
                        if c == '\x1b' {
                            chars.next();
                            break;
                        }
                    }
                }
                Some('(' | ')' | '*' | '+' | '-' | '.' | '/' | '#' | '%') => {
                    // Charset designation and friends: ESC, an intermediate, a final.
                    chars.next();
                    chars.next();
                }
                Some(_) => {
                    chars.next();
                }
                None => {}
            }
            continue;
        }
        match c {
            '\t' => run.push_str("    "),
            c if c.is_control() => {}
            c => run.push(c),
        }
    }
    out.push(&run, style);
    out
}

/// Text without any escape or control sequences.
pub fn strip(text: &str) -> String {
    parse(text, Style::new(), false).plain()
}

/// Like [`strip`], without copying text that has nothing to strip (most log lines).
pub fn plain(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().any(char::is_control) {
        std::borrow::Cow::Owned(strip(text))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

fn apply_sgr(mut style: Style, base: Style, params: &str, colours: bool) -> Style {
    let nums: Vec<u16> = if params.is_empty() {
        vec![0]
    } else {
        params
            .split([';', ':'])
            .map(|p| p.parse().unwrap_or(0))
            .collect()
    };
    let mut i = 0;
    while i < nums.len() {
        let n = nums[i];
        match n {
            0 => style = base,
            1 => style = style.add_modifier(Modifier::BOLD),
            2 => style = style.add_modifier(Modifier::DIM),
            3 => style = style.add_modifier(Modifier::ITALIC),
            4 => style = style.add_modifier(Modifier::UNDERLINED),
            5 | 6 => style = style.add_modifier(Modifier::SLOW_BLINK),
            7 => style = style.add_modifier(Modifier::REVERSED),
            9 => style = style.add_modifier(Modifier::CROSSED_OUT),
            22 => style = style.remove_modifier(Modifier::BOLD | Modifier::DIM),
            23 => style = style.remove_modifier(Modifier::ITALIC),
            24 => style = style.remove_modifier(Modifier::UNDERLINED),
            25 => style = style.remove_modifier(Modifier::SLOW_BLINK),
            27 => style = style.remove_modifier(Modifier::REVERSED),
            29 => style = style.remove_modifier(Modifier::CROSSED_OUT),
            30..=37 | 90..=97 | 39 | 40..=47 | 100..=107 | 49 if colours => {
                style = basic_colour(style, base, n);
            }
            38 | 48 => {
                let (colour, used) = extended(&nums[i + 1..]);
                i += used;
                if let (true, Some(c)) = (colours, colour) {
                    style = if n == 38 { style.fg(c) } else { style.bg(c) };
                }
            }
            _ => {}
        }
        i += 1;
    }
    style
}

fn basic_colour(style: Style, base: Style, n: u16) -> Style {
    const COLOURS: [Color; 8] = [
        Color::Black,
        Color::Red,
        Color::Green,
        Color::Yellow,
        Color::Blue,
        Color::Magenta,
        Color::Cyan,
        Color::Gray,
    ];
    const BRIGHT: [Color; 8] = [
        Color::DarkGray,
        Color::LightRed,
        Color::LightGreen,
        Color::LightYellow,
        Color::LightBlue,
        Color::LightMagenta,
        Color::LightCyan,
        Color::White,
    ];
    let idx = |from: u16| COLOURS[usize::from(n - from)];
    let bidx = |from: u16| BRIGHT[usize::from(n - from)];
    match n {
        30..=37 => style.fg(idx(30)),
        90..=97 => style.fg(bidx(90)),
        39 => style.fg(base.fg.unwrap_or(Color::Reset)),
        40..=47 => style.bg(idx(40)),
        100..=107 => style.bg(bidx(100)),
        _ => style.bg(base.bg.unwrap_or(Color::Reset)),
    }
}

/// `5;n` or `2;r;g;b` after 38/48: the colour and how many numbers it used.
fn extended(rest: &[u16]) -> (Option<Color>, usize) {
    match rest {
        [5, n, ..] => (u8::try_from(*n).ok().map(Color::Indexed), 2),
        [2, r, g, b, ..] => {
            let c = |v: u16| u8::try_from(v).unwrap_or(255);
            (Some(Color::Rgb(c(*r), c(*g), c(*b))), 4)
        }
        [5] | [2, ..] => (None, rest.len()),
        _ => (None, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sgr_colours_become_styles() {
        let s = parse(
            "a\x1b[31mred\x1b[0m b\x1b[1;38;5;200mX\x1b[38;2;1;2;3mY",
            Style::new(),
            true,
        );
        assert_eq!(s.plain(), "ared bXY");
        assert_eq!(s.runs[1], ("red".to_string(), Style::new().fg(Color::Red)));
        assert_eq!(s.runs[2], (" b".to_string(), Style::new()));
        let x = Style::new()
            .add_modifier(Modifier::BOLD)
            .fg(Color::Indexed(200));
        assert_eq!(s.runs[3], ("X".to_string(), x));
        assert_eq!(s.runs[4].1, x.fg(Color::Rgb(1, 2, 3)));
    }

    #[test]
    fn reset_returns_to_the_base_style() {
        let base = Style::new().fg(Color::LightRed);
        let s = parse("\x1b[32mok\x1b[mrest\x1b[39mz", base, true);
        assert_eq!(s.runs[0].1, Style::new().fg(Color::Green));
        assert_eq!(s.runs[1], ("restz".to_string(), base));
    }

    #[test]
    fn other_sequences_and_controls_are_dropped() {
        assert_eq!(
            strip("\x1b[2K\rhello\x1b]0;title\x07 w\x1b(Borld\x08\t!"),
            "hello world    !"
        );
        assert_eq!(strip("cut\x1b["), "cut");
        assert_eq!(strip("\x1b[38;5m?"), "?");
    }

    #[test]
    fn plain_borrows_clean_text() {
        assert!(matches!(
            plain("clean"),
            std::borrow::Cow::Borrowed("clean")
        ));
        assert_eq!(plain("\x1b[1mbold\x1b[0m"), "bold");
        assert_eq!(plain("tab\there"), "tab    here");
    }

    #[test]
    fn no_colour_keeps_modifiers_only() {
        let s = parse("\x1b[1;31mB", Style::new(), false);
        assert_eq!(s.runs[0].1, Style::new().add_modifier(Modifier::BOLD));
    }

    #[test]
    fn highlight_splits_runs() {
        let s = parse("ab\x1b[31mcdef", Style::new(), true);
        let h = s.highlight(&[(1, 3), (4, 5)], Style::new().bg(Color::Yellow));
        let texts: Vec<_> = h.runs.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(texts, ["a", "b", "c", "d", "e", "f"]);
        assert_eq!(h.runs[1].1, Style::new().bg(Color::Yellow));
        assert_eq!(h.runs[2].1, Style::new().fg(Color::Red).bg(Color::Yellow));
        assert_eq!(h.plain(), "abcdef");
    }
}
