//! Colours. One struct, overridable from `[theme]` in `tui.toml`; `NO_COLOR` turns every colour
//! off and leaves only bold/reverse/underline to mark things.

use std::collections::BTreeMap;

use ratatui::style::{Color, Modifier, Style};

use super::model::ContainerState;

/// Every colour the TUI uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    /// `NO_COLOR` is set: no colour at all, SGR colours in logs dropped.
    pub no_color: bool,
    pub accent: Color,
    pub border: Color,
    pub dim: Color,
    pub selected_bg: Color,
    pub marked: Color,
    pub running: Color,
    pub paused: Color,
    pub exited: Color,
    pub failed: Color,
    pub created: Color,
    pub removing: Color,
    pub stderr: Color,
    pub error: Color,
    pub ok: Color,
    pub match_bg: Color,
    pub match_fg: Color,
    /// Colours of containers in a merged log view, used in turn.
    pub palette: Vec<Color>,
}

impl Default for Theme {
    fn default() -> Self {
        Theme {
            no_color: false,
            accent: Color::Cyan,
            border: Color::DarkGray,
            dim: Color::DarkGray,
            selected_bg: Color::Indexed(237),
            marked: Color::Magenta,
            running: Color::Green,
            paused: Color::Yellow,
            exited: Color::Gray,
            failed: Color::Red,
            created: Color::Blue,
            removing: Color::Magenta,
            stderr: Color::LightRed,
            error: Color::Red,
            ok: Color::Green,
            match_bg: Color::Yellow,
            match_fg: Color::Black,
            palette: vec![
                Color::Cyan,
                Color::Yellow,
                Color::Magenta,
                Color::Green,
                Color::Blue,
                Color::LightRed,
                Color::LightCyan,
                Color::LightYellow,
            ],
        }
    }
}

impl Theme {
    /// The theme for this process: default colours, or none when `NO_COLOR` is set and not
    /// empty (https://no-color.org).
    pub fn from_env() -> Theme {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        if no_color {
            Theme::monochrome()
        } else {
            Theme::default()
        }
    }

    /// No colours at all.
    pub fn monochrome() -> Theme {
        let r = Color::Reset;
        Theme {
            no_color: true,
            accent: r,
            border: r,
            dim: r,
            selected_bg: r,
            marked: r,
            running: r,
            paused: r,
            exited: r,
            failed: r,
            created: r,
            removing: r,
            stderr: r,
            error: r,
            ok: r,
            match_bg: r,
            match_fg: r,
            palette: vec![r],
        }
    }

    /// Applies `name = "colour"` overrides (colour names like `red`, `#rrggbb` or an index).
    /// Ignored under `NO_COLOR`. Errors name the bad key or colour.
    pub fn apply(&mut self, overrides: &BTreeMap<String, String>) -> Result<(), String> {
        for (key, value) in overrides {
            let colour: Color = value
                .parse()
                .map_err(|_| format!("theme.{key}: {value:?} is not a colour (use a name like \"red\", \"#ff8800\" or 0-255)"))?;
            if self.no_color {
                continue;
            }
            let slot = match key.as_str() {
                "accent" => &mut self.accent,
                "border" => &mut self.border,
                "dim" => &mut self.dim,
                "selected_bg" => &mut self.selected_bg,
                "marked" => &mut self.marked,
                "running" => &mut self.running,
                "paused" => &mut self.paused,
                "exited" => &mut self.exited,
                "failed" => &mut self.failed,
                "created" => &mut self.created,
                "removing" => &mut self.removing,
                "stderr" => &mut self.stderr,
                "error" => &mut self.error,
                "ok" => &mut self.ok,
                "match_bg" => &mut self.match_bg,
                "match_fg" => &mut self.match_fg,
                other => {
                    return Err(format!(
                        "theme.{other} is not a theme colour (known: accent, border, dim, selected_bg, marked, running, paused, exited, failed, created, removing, stderr, error, ok, match_bg, match_fg)"
                    ))
                }
            };
            *slot = colour;
        }
        Ok(())
    }

    /// Style of the selected row.
    pub fn selected(&self) -> Style {
        if self.no_color {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            Style::new()
                .bg(self.selected_bg)
                .add_modifier(Modifier::BOLD)
        }
    }

    /// Style of a search match in the logs.
    pub fn search_match(&self) -> Style {
        if self.no_color {
            Style::new().add_modifier(Modifier::REVERSED | Modifier::UNDERLINED)
        } else {
            Style::new().bg(self.match_bg).fg(self.match_fg)
        }
    }

    /// Style of a pane border; the focused pane's is bright.
    pub fn border(&self, focused: bool) -> Style {
        if focused {
            Style::new().fg(self.accent).add_modifier(Modifier::BOLD)
        } else {
            Style::new().fg(self.border)
        }
    }

    /// Colour of a container state (exited with a non-zero code counts as failed).
    pub fn state(&self, state: ContainerState, exit_code: Option<i32>) -> Style {
        let c = match state {
            ContainerState::Running => self.running,
            ContainerState::Paused => self.paused,
            ContainerState::Created => self.created,
            ContainerState::Removing => self.removing,
            ContainerState::Exited if exit_code.unwrap_or(0) != 0 => self.failed,
            ContainerState::Exited => self.exited,
        };
        let s = Style::new().fg(c);
        if self.no_color && state == ContainerState::Running {
            s.add_modifier(Modifier::BOLD)
        } else {
            s
        }
    }

    /// Colour of a health verdict: healthy as running, unhealthy as failed, starting as
    /// paused (bold when unhealthy without colour).
    pub fn health(&self, health: crate::tui::model::Health) -> Style {
        use crate::tui::model::Health;
        let c = match health {
            Health::Healthy => self.running,
            Health::Unhealthy => self.failed,
            Health::Starting => self.paused,
        };
        let s = Style::new().fg(c);
        if self.no_color && health == Health::Unhealthy {
            s.add_modifier(Modifier::BOLD)
        } else {
            s
        }
    }

    /// Style of stderr text (bold when there is no colour, so it still stands apart).
    pub fn stderr_style(&self) -> Style {
        if self.no_color {
            Style::new().add_modifier(Modifier::BOLD)
        } else {
            Style::new().fg(self.stderr)
        }
    }

    /// Colour of the n-th container in a merged log view.
    pub fn container_colour(&self, n: usize) -> Color {
        self.palette
            .get(n % self.palette.len().max(1))
            .copied()
            .unwrap_or(Color::Reset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_parse_and_reject() {
        let mut t = Theme::default();
        let mut m = BTreeMap::new();
        m.insert("stderr".to_string(), "#ff8800".to_string());
        t.apply(&m).unwrap();
        assert_eq!(t.stderr, Color::Rgb(0xff, 0x88, 0x00));
        m.insert("nope".to_string(), "red".to_string());
        let e = t.apply(&m).unwrap_err();
        assert!(e.contains("theme.nope"), "{e}");
        let mut m = BTreeMap::new();
        m.insert("accent".to_string(), "notacolour".to_string());
        assert!(t.apply(&m).unwrap_err().contains("not a colour"));
    }

    #[test]
    fn monochrome_ignores_overrides() {
        let mut t = Theme::monochrome();
        let mut m = BTreeMap::new();
        m.insert("stderr".to_string(), "red".to_string());
        t.apply(&m).unwrap();
        assert_eq!(t.stderr, Color::Reset);
        assert!(t.selected().add_modifier.contains(Modifier::REVERSED));
    }
}
