//! Renders terminal text with ANSI colours (e.g. `tmux capture-pane -e -p`) as an SVG image,
//! one `<text>` per row with a `<tspan>` per styled run and `<rect>`s for backgrounds. Uses
//! berth's own SGR parser. Usage: `ansi2svg [TITLE] < capture.txt > screen.svg`.

use std::fmt::Write as _;
use std::io::Read;

use berth::tui::ansi;
use ratatui::style::{Color, Modifier, Style};
use unicode_width::UnicodeWidthChar;

const CELL_W: f64 = 8.4;
const CELL_H: f64 = 18.0;
const FONT: f64 = 14.0;
const PAD: f64 = 12.0;
const FG: &str = "#d8d8d8";
const BG: &str = "#1c1e22";

fn main() {
    let title = std::env::args().nth(1).unwrap_or_else(|| "berth".into());
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        eprintln!("ansi2svg: cannot read stdin: {e}");
        std::process::exit(1);
    }
    print!("{}", render(&input, &title));
}

fn render(input: &str, title: &str) -> String {
    let rows: Vec<ansi::Styled> = input
        .lines()
        .map(|l| ansi::parse(l, Style::new(), true))
        .collect();
    let cols = rows
        .iter()
        .map(|r| {
            r.plain()
                .chars()
                .map(|c| c.width().unwrap_or(0))
                .sum::<usize>()
        })
        .max()
        .unwrap_or(0);
    let w = cols as f64 * CELL_W + 2.0 * PAD;
    let h = rows.len() as f64 * CELL_H + 2.0 * PAD;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0}" height="{h:.0}" viewBox="0 0 {w:.0} {h:.0}" font-family="'DejaVu Sans Mono', 'Menlo', 'Consolas', monospace" font-size="{FONT}">"#
    );
    let _ = writeln!(svg, "<title>{}</title>", escape(title));
    let _ = writeln!(
        svg,
        r#"<rect width="100%" height="100%" rx="6" fill="{BG}"/>"#
    );
    for (y, row) in rows.iter().enumerate() {
        let top = PAD + y as f64 * CELL_H;
        let base = top + CELL_H * 0.78;
        let mut col = 0usize;
        let mut spans = String::new();
        for (text, style) in &row.runs {
            let (fg, bg) = colours(style);
            let width: usize = text.chars().map(|c| c.width().unwrap_or(0)).sum();
            let x = PAD + col as f64 * CELL_W;
            if let Some(bg) = bg {
                let _ = writeln!(
                    svg,
                    r#"<rect x="{x:.1}" y="{top:.1}" width="{:.1}" height="{CELL_H}" fill="{bg}"/>"#,
                    width as f64 * CELL_W
                );
            }
            if !text.trim().is_empty() {
                // Place every cell exactly so box drawing lines up whatever the font.
                let xs: Vec<String> = text
                    .chars()
                    .scan(x, |pos, c| {
                        let here = *pos;
                        *pos += c.width().unwrap_or(0) as f64 * CELL_W;
                        Some(format!("{here:.1}"))
                    })
                    .collect();
                let mut attrs = format!(r#" x="{}" fill="{fg}""#, xs.join(" "));
                for (m, attr) in [
                    (Modifier::BOLD, r#" font-weight="bold""#),
                    (Modifier::DIM, r#" opacity="0.6""#),
                    (Modifier::ITALIC, r#" font-style="italic""#),
                    (Modifier::UNDERLINED, r#" text-decoration="underline""#),
                ] {
                    if style.add_modifier.contains(m) {
                        attrs.push_str(attr);
                    }
                }
                let _ = write!(spans, "<tspan{attrs}>{}</tspan>", escape(text));
            }
            col += width;
        }
        if !spans.is_empty() {
            let _ = writeln!(
                svg,
                r#"<text y="{base:.1}" xml:space="preserve">{spans}</text>"#
            );
        }
    }
    svg.push_str("</svg>\n");
    svg
}

/// Foreground and (when not the default) background colour of a style, with reverse applied.
fn colours(style: &Style) -> (String, Option<String>) {
    let fg = style.fg.and_then(hex);
    let bg = style.bg.and_then(hex);
    if style.add_modifier.contains(Modifier::REVERSED) {
        (
            bg.unwrap_or_else(|| BG.into()),
            Some(fg.unwrap_or_else(|| FG.into())),
        )
    } else {
        (fg.unwrap_or_else(|| FG.into()), bg)
    }
}

fn hex(c: Color) -> Option<String> {
    const BASIC: [&str; 16] = [
        "#1c1e22", "#e05561", "#8cc265", "#d18f52", "#4aa5f0", "#c162de", "#42b3c2", "#b0b0b0",
        "#5c6370", "#ff616e", "#a5e075", "#f0a45d", "#4dc4ff", "#de73ff", "#4cd1e0", "#e6e6e6",
    ];
    let idx = |i: usize| Some(BASIC[i].to_string());
    match c {
        Color::Reset => None,
        Color::Black => idx(0),
        Color::Red => idx(1),
        Color::Green => idx(2),
        Color::Yellow => idx(3),
        Color::Blue => idx(4),
        Color::Magenta => idx(5),
        Color::Cyan => idx(6),
        Color::Gray => idx(7),
        Color::DarkGray => idx(8),
        Color::LightRed => idx(9),
        Color::LightGreen => idx(10),
        Color::LightYellow => idx(11),
        Color::LightBlue => idx(12),
        Color::LightMagenta => idx(13),
        Color::LightCyan => idx(14),
        Color::White => idx(15),
        Color::Rgb(r, g, b) => Some(format!("#{r:02x}{g:02x}{b:02x}")),
        Color::Indexed(n) => Some(indexed(n)),
    }
}

/// The xterm 256-colour palette.
fn indexed(n: u8) -> String {
    match n {
        0..=15 => hex(ALL16[usize::from(n)]).unwrap_or_else(|| FG.into()),
        16..=231 => {
            let i = n - 16;
            let level = |v: u8| if v == 0 { 0 } else { 55 + v * 40 };
            format!(
                "#{:02x}{:02x}{:02x}",
                level(i / 36),
                level((i / 6) % 6),
                level(i % 6)
            )
        }
        _ => {
            let v = 8 + (n - 232) * 10;
            format!("#{v:02x}{v:02x}{v:02x}")
        }
    }
}

const ALL16: [Color; 16] = [
    Color::Black,
    Color::Red,
    Color::Green,
    Color::Yellow,
    Color::Blue,
    Color::Magenta,
    Color::Cyan,
    Color::Gray,
    Color::DarkGray,
    Color::LightRed,
    Color::LightGreen,
    Color::LightYellow,
    Color::LightBlue,
    Color::LightMagenta,
    Color::LightCyan,
    Color::White,
];

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_runs_with_colours_and_escapes() {
        let svg = render("a\x1b[31m<b>\x1b[0m\n\x1b[7mrev\x1b[0m", "t");
        assert!(
            svg.contains(r##"fill="#e05561">&lt;b&gt;</tspan>"##),
            "{svg}"
        );
        assert!(
            svg.contains(r#"<rect x="12.0" y="30.0" width="25.2""#),
            "{svg}"
        );
        assert_eq!(indexed(196), "#ff0000");
        assert_eq!(indexed(232), "#080808");
    }
}
